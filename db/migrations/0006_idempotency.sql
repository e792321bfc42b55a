-- Answers to REST writes sent with an Idempotency-Key, so that a retry of the same
-- request gets the first answer and changes nothing. Written in the transaction of the
-- write itself: a write that rolled back leaves no key behind, and may be retried.
create table idempotent_requests (
    api_key_id uuid not null references api_keys (id) on delete cascade,
    idempotency_key text not null check (length(idempotency_key) between 1 and 255),
    -- What was asked (method, path and body), so a key reused for another request is refused.
    request_hash bytea not null,
    status integer,
    response bytea,
    created_at timestamptz not null default now(),
    primary key (api_key_id, idempotency_key)
);

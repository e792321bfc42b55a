-- Webhooks: endpoints that partners register, the events the change feed turns into
-- deliveries for them, and every attempt to deliver one. PostgreSQL is the queue:
-- senders claim due deliveries with FOR UPDATE SKIP LOCKED (db/webhooks/queue.py).

create table webhook_endpoints (
    id uuid primary key default gen_random_uuid(),
    -- The key that made it, and the only one (with admin keys) that sees it.
    api_key_id uuid not null references api_keys (id),
    url text not null,
    events text[] not null,
    -- Null: any. Public ids ("org_…", "per_…"), not slugs: a slug may change, the
    -- organization stays; events carry the same ids (api/push/events.py).
    filter_company text,
    filter_investor text,
    filter_round_type round_type,
    filter_status deal_status,
    -- Standard Webhooks secrets ("whsec_" + base64). Kept readable: the sender signs
    -- with them. After a rotation the previous one also signs until it expires.
    secret text not null,
    previous_secret text,
    previous_secret_expires_at timestamptz,
    enabled boolean not null default true,
    disabled_reason text,
    -- The first failure since the last success; a day of it disables the endpoint.
    failing_since timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint previous_secret_expires check (
        (previous_secret is null) = (previous_secret_expires_at is null))
);
create index webhook_endpoints_owner on webhook_endpoints (api_key_id, created_at, id);

-- How far into the change feed the dispatcher has turned changes into deliveries. One
-- row; whoever holds its lock dispatches, so each change is dispatched once.
create table webhook_feed_position (
    singleton boolean primary key default true check (singleton),
    xid xid8 not null,
    change_id bigint not null
);
-- Start from the feed's end: what happened before webhooks existed is in the feed.
insert into webhook_feed_position (xid, change_id)
select coalesce(max(xid), '0'::xid8),
       coalesce((select max(id) from changes c where c.xid = (select max(xid) from changes)), 0)
from changes;

create table webhook_deliveries (
    id uuid primary key default gen_random_uuid(),
    -- The order deliveries were made in, which is the feed's order: per endpoint and
    -- subject (a round, or an organization) they are sent in this order.
    seq bigint generated always as identity unique,
    endpoint_id uuid not null references webhook_endpoints (id) on delete cascade,
    event_type text not null,
    subject_id uuid not null,
    -- The body as signed; text, not jsonb, so every attempt sends the same bytes.
    body text not null,
    status text not null default 'pending'
        check (status in ('pending', 'delivered', 'failed')),
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    give_up_at timestamptz not null,
    last_status_code integer,
    last_error text,
    created_at timestamptz not null default now(),
    delivered_at timestamptz
);
create index webhook_deliveries_due on webhook_deliveries (next_attempt_at)
    where status = 'pending';
create index webhook_deliveries_order on webhook_deliveries (endpoint_id, subject_id, seq)
    where status = 'pending';
create index webhook_deliveries_listed on webhook_deliveries (endpoint_id, seq);

create table webhook_attempts (
    id bigint generated always as identity primary key,
    delivery_id uuid not null references webhook_deliveries (id) on delete cascade,
    at timestamptz not null default now(),
    status_code integer,
    latency_ms double precision not null,
    error text
);
create index webhook_attempts_delivery on webhook_attempts (delivery_id, id);

-- The previous state of an entity is its entry before this one in the feed.
create index changes_by_entity on changes (entity_id, xid, id);

-- Listeners (the dispatcher, GraphQL subscriptions) wake on this; the feed stays the
-- truth, so a notification lost while nobody listened costs a poll interval, not data.
create function notify_changes() returns trigger
language plpgsql as $$
begin
    perform pg_notify('dealgraph_changes', '');
    return null;
end
$$;
create trigger changes_notify after insert on changes
    for each statement execute function notify_changes();

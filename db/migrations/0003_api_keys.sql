-- API keys, their rate-limit buckets, and the key behind each write.

-- Scopes are levels, in this order: a write key may read, an admin key may do anything.
-- Enum values compare by declaration order, so `scope >= 'write'` reads as it should.
create type api_key_scope as enum ('read', 'write', 'admin');

create table api_keys (
    id uuid primary key default gen_random_uuid(),
    name display_name not null,
    scope api_key_scope not null,
    -- The secret's first characters, to tell keys apart in a listing; never the secret.
    secret_prefix text not null,
    -- SHA-256 of the secret. The secret itself is random and long (256 bits), so a fast
    -- hash is enough: there is nothing to brute-force that a slow one would protect.
    secret_hash bytea not null unique check (octet_length(secret_hash) = 32),
    -- Points per minute; null follows the server's configured default.
    rate_limit_per_minute integer check (rate_limit_per_minute > 0),
    created_at timestamptz not null default now(),
    -- Written in batches by each server process, not on every request.
    last_used_at timestamptz,
    revoked_at timestamptz
);

-- One token bucket per key, shared by every server process. Unlogged: it is written on
-- every request, and an unlogged write needs no WAL, so the commit waits for no disk
-- flush. After a crash the table comes back empty, which only refills every bucket.
create unlogged table rate_limit_buckets (
    key_id uuid primary key references api_keys (id) on delete cascade,
    -- The key's points per minute when it was last charged: the bucket's size.
    capacity double precision not null,
    tokens double precision not null,
    refilled_at timestamptz not null,
    -- Whether the last charge was taken: RETURNING sees only the new row, and the
    -- caller needs to know.
    taken boolean not null
) with (fillfactor = 50);  -- room on the page for HOT updates of these hot rows

-- Which key made each write; null for rows from the seed, imports and migrations.
alter table sources add column api_key_id uuid references api_keys (id);
alter table claims add column api_key_id uuid references api_keys (id);
alter table status_events add column api_key_id uuid references api_keys (id);

-- The key that signs pagination cursors (db/infra/pagination.py): one per database, so that
-- every API process accepts the cursors any other one made, and nothing outside the
-- database can make one. A cursor's signature is HMAC-SHA256 of its parts; the pads of
-- the key (RFC 2104) are kept too, so that SQL building cursors (db/json/) signs them
-- with the built-in sha256() alone.
create table cursor_key (
    only_one boolean primary key default true check (only_one),
    secret bytea not null check (length(secret) = 32),
    inner_pad bytea not null check (length(inner_pad) = 64),
    outer_pad bytea not null check (length(outer_pad) = 64)
);

do $$
declare
    -- gen_random_uuid() is built in and cryptographically random: 2 x 122 random bits.
    secret bytea := substring(
        decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex')
        from 1 for 32);
    padded bytea := secret || decode(repeat('00', 32), 'hex');
    inner_pad bytea := padded;
    outer_pad bytea := padded;
begin
    for i in 0..63 loop
        inner_pad := set_byte(inner_pad, i, get_byte(padded, i) # 54);  -- 0x36
        outer_pad := set_byte(outer_pad, i, get_byte(padded, i) # 92);  -- 0x5c
    end loop;
    insert into cursor_key (secret, inner_pad, outer_pad) values (secret, inner_pad, outer_pad);
end
$$;

-- The signature of a cursor's message, as db/infra/pagination.py computes it: the first
-- 16 bytes of HMAC-SHA256, in hex.
create function cursor_signature(message text) returns text
language sql stable parallel safe as $$
    select left(encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to(message, 'UTF8'))),
                       'hex'), 32)
    from cursor_key k
$$;

-- The change feed keeps each entity's row as it was after the change, typed as the table
-- has it (to_jsonb of the row), instead of JSON rendered here: the REST representation
-- (api/rest/representations.py) renders a feed entry from that row with the functions the
-- entity routes use, so there is one renderer. jsonb_populate_record(null::<table>, state)
-- reads a state back as a row of the table.

-- An organization's aliases live in their own table but are part of its state.
create or replace function organization_state(o organizations) returns jsonb
language sql stable as $$
    select to_jsonb(o) || jsonb_build_object('aliases', coalesce(
        (select jsonb_agg(a.alias order by a.alias)
         from organization_aliases a where a.organization_id = o.id),
        '[]'::jsonb))
$$;

create or replace function round_state(r rounds) returns jsonb
language sql stable as $$
    select to_jsonb(r)
$$;

create or replace function participation_state(p participations) returns jsonb
language sql stable as $$
    select to_jsonb(p)
$$;

create or replace function claim_state(c claims) returns jsonb
language sql stable as $$
    select to_jsonb(c)
$$;

-- Entries written before: the same facts, with public ids ("rnd_<hex>") where the row has
-- uuids, and a claim's source inline where the row has its id. Amounts were decimal
-- strings, which a numeric field reads as well.
create function pg_temp.public_uuid(public_id text) returns uuid
language sql immutable as $$
    select substr(public_id, strpos(public_id, '_') + 1)::uuid
$$;

update changes set state = case entity
    when 'organization' then
        state || jsonb_build_object('id', pg_temp.public_uuid(state ->> 'id'))
    when 'round' then
        state || jsonb_build_object(
            'id', pg_temp.public_uuid(state ->> 'id'),
            'company_id', pg_temp.public_uuid(state ->> 'company_id'))
    when 'participation' then
        (state - 'investor_id') || jsonb_build_object(
            'id', pg_temp.public_uuid(state ->> 'id'),
            'round_id', pg_temp.public_uuid(state ->> 'round_id'),
            'investor_organization_id', case when state ->> 'investor_id' like 'org\_%'
                then pg_temp.public_uuid(state ->> 'investor_id') end,
            'investor_person_id', case when state ->> 'investor_id' like 'per\_%'
                then pg_temp.public_uuid(state ->> 'investor_id') end)
    when 'claim' then
        (state - 'source') || jsonb_build_object(
            'id', pg_temp.public_uuid(state ->> 'id'),
            'round_id', pg_temp.public_uuid(state ->> 'round_id'),
            'participation_id', pg_temp.public_uuid(state ->> 'participation_id'),
            'source_id', pg_temp.public_uuid(state -> 'source' ->> 'id'))
end
where state is not null and state ->> 'id' like '%\_%';

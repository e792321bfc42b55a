-- The change feed: every create, update and delete of organizations, rounds,
-- participations and claims, written by triggers in the transaction that makes the
-- change, so no change can be missed. Statement-level triggers with transition
-- tables keep bulk writes (COPY, INSERT ... SELECT) set-based.

create function public_id(prefix text, id uuid) returns text
language sql immutable parallel safe as $$
    select prefix || '_' || replace(id::text, '-', '')
$$;

-- Money as the REST API shows it: amounts as decimal strings, never JSON numbers.
create function money_json(m money_estimate) returns jsonb
language sql immutable parallel safe as $$
    select case when m is null then null else jsonb_build_object(
        'qualifier', (m).qualifier, 'currency', (m).currency,
        'low', (m).low::text, 'high', (m).high::text, 'usd', (m).usd::text)
    end
$$;

create function organization_state(o organizations) returns jsonb
language sql stable as $$
    select jsonb_build_object(
        'id', public_id('org', o.id), 'slug', o.slug, 'name', o.name,
        'description', o.description, 'website', o.website,
        'country_code', o.country_code, 'city', o.city,
        'founded_on', o.founded_on, 'founded_precision', o.founded_precision,
        'categories', to_jsonb(o.categories), 'investor_types', to_jsonb(o.investor_types),
        'aliases', coalesce(
            (select jsonb_agg(a.alias order by a.alias)
             from organization_aliases a where a.organization_id = o.id),
            '[]'::jsonb))
$$;

create function round_state(r rounds) returns jsonb
language sql stable as $$
    select jsonb_build_object(
        'id', public_id('rnd', r.id), 'company_id', public_id('org', r.company_id),
        'round_type', r.round_type, 'reported_label', r.reported_label,
        'status', r.status, 'stage', r.stage,
        'announced_on', r.announced_on, 'announced_precision', r.announced_precision,
        'closed_on', r.closed_on,
        'expected_close_on', r.expected_close_on,
        'expected_close_precision', r.expected_close_precision,
        'amount', money_json(r.amount), 'target_amount', money_json(r.target_amount),
        'pre_money_valuation', money_json(r.pre_money_valuation),
        'post_money_valuation', money_json(r.post_money_valuation))
$$;

create function participation_state(p participations) returns jsonb
language sql stable as $$
    select jsonb_build_object(
        'id', public_id('par', p.id), 'round_id', public_id('rnd', p.round_id),
        'investor_id', coalesce(public_id('org', p.investor_organization_id),
                                public_id('per', p.investor_person_id)),
        'amount', money_json(p.amount), 'is_lead', p.is_lead,
        'status', p.status, 'stage', p.stage)
$$;

create function claim_state(c claims) returns jsonb
language sql stable as $$
    select jsonb_build_object(
        'id', public_id('clm', c.id), 'round_id', public_id('rnd', c.round_id),
        'participation_id', public_id('par', c.participation_id),
        'source', (select jsonb_build_object(
                       'id', public_id('src', s.id), 'url', s.url, 'publisher', s.publisher,
                       'title', s.title, 'published_at', s.published_at, 'kind', s.kind,
                       'language', s.language)
                   from sources s where s.id = c.source_id),
        'quote', c.quote, 'attribution', c.attribution,
        'status', c.status, 'stage', c.stage, 'amount', money_json(c.amount),
        'pre_money_valuation', money_json(c.pre_money_valuation),
        'post_money_valuation', money_json(c.post_money_valuation),
        'expected_close_on', c.expected_close_on,
        'expected_close_precision', c.expected_close_precision,
        'is_lead', c.is_lead, 'recorded_at', c.recorded_at)
$$;

create table changes (
    id bigint generated always as identity primary key,
    -- Readers order by the writing transaction's id and only read transactions older
    -- than every running one, so an entry committed late is never skipped.
    xid xid8 not null default pg_current_xact_id(),
    entity text not null check (entity in ('organization', 'round', 'participation', 'claim')),
    entity_id uuid not null,
    operation text not null check (operation in ('create', 'update', 'delete')),
    at timestamptz not null default now(),
    state jsonb,
    constraint state_unless_deleted check ((operation = 'delete') = (state is null))
);
create index changes_feed_order on changes (xid, id);

-- Readers see entries of transactions below this horizon only: the oldest transaction
-- still running when the reading statement took its snapshot. Transactions known to run
-- in another database of the server cannot write here, so they do not hold the feed
-- back; one that ended since the snapshot cannot be placed and counts, to be safe.
create function feed_horizon() returns xid8
language sql stable as $$
    select coalesce(
        (select min(x)
         from pg_snapshot_xip(pg_current_snapshot()) as x
         where not exists (
             select 1 from pg_stat_activity a
             where a.backend_xid is not null
               and a.datname is distinct from current_database()
               and a.backend_xid::text::bigint = x::text::bigint % 4294967296)),
        pg_snapshot_xmax(pg_current_snapshot()))
$$;

-- One trigger function serves every table: the entity name and the function that
-- renders a row come from the trigger's arguments.
create function record_changes() returns trigger
language plpgsql as $$
declare
    entity text := tg_argv[0];
    render text := tg_argv[1];
begin
    if tg_op = 'INSERT' then
        execute format(
            'insert into changes (entity, entity_id, operation, state)
             select $1, n.id, ''create'', %I(n) from new_rows n order by n.id', render)
        using entity;
    elsif tg_op = 'UPDATE' then
        execute format(
            'insert into changes (entity, entity_id, operation, state)
             select $1, n.id, ''update'', %I(n)
             from new_rows n join old_rows o on o.id = n.id
             where n is distinct from o order by n.id', render)
        using entity;
    else
        insert into changes (entity, entity_id, operation, state)
        select entity, o.id, 'delete', null from old_rows o order by o.id;
    end if;
    return null;
end
$$;

create trigger organizations_created after insert on organizations
    referencing new table as new_rows
    for each statement execute function record_changes('organization', 'organization_state');
create trigger organizations_updated after update on organizations
    referencing new table as new_rows old table as old_rows
    for each statement execute function record_changes('organization', 'organization_state');
create trigger organizations_deleted after delete on organizations
    referencing old table as old_rows
    for each statement execute function record_changes('organization', 'organization_state');

create trigger rounds_created after insert on rounds
    referencing new table as new_rows
    for each statement execute function record_changes('round', 'round_state');
create trigger rounds_updated after update on rounds
    referencing new table as new_rows old table as old_rows
    for each statement execute function record_changes('round', 'round_state');
create trigger rounds_deleted after delete on rounds
    referencing old table as old_rows
    for each statement execute function record_changes('round', 'round_state');

create trigger participations_created after insert on participations
    referencing new table as new_rows
    for each statement execute function record_changes('participation', 'participation_state');
create trigger participations_updated after update on participations
    referencing new table as new_rows old table as old_rows
    for each statement execute function record_changes('participation', 'participation_state');
create trigger participations_deleted after delete on participations
    referencing old table as old_rows
    for each statement execute function record_changes('participation', 'participation_state');

create trigger claims_created after insert on claims
    referencing new table as new_rows
    for each statement execute function record_changes('claim', 'claim_state');
create trigger claims_updated after update on claims
    referencing new table as new_rows old table as old_rows
    for each statement execute function record_changes('claim', 'claim_state');
create trigger claims_deleted after delete on claims
    referencing old table as old_rows
    for each statement execute function record_changes('claim', 'claim_state');

-- Aliases are part of an organization's state: a change to them is an update of it.
create function record_alias_changes() returns trigger
language plpgsql as $$
begin
    insert into changes (entity, entity_id, operation, state)
    select 'organization', o.id, 'update', organization_state(o)
    from organizations o
    where o.id in (select organization_id from changed_aliases)
    order by o.id;
    return null;
end
$$;

create trigger organization_aliases_added after insert on organization_aliases
    referencing new table as changed_aliases
    for each statement execute function record_alias_changes();
create trigger organization_aliases_removed after delete on organization_aliases
    referencing old table as changed_aliases
    for each statement execute function record_alias_changes();

-- Rows that existed before the feed did enter it as creations, so that a mirror
-- started from the beginning of the feed holds everything.
insert into changes (entity, entity_id, operation, state)
select 'organization', o.id, 'create', organization_state(o) from organizations o order by o.id;
insert into changes (entity, entity_id, operation, state)
select 'round', r.id, 'create', round_state(r) from rounds r order by r.id;
insert into changes (entity, entity_id, operation, state)
select 'participation', p.id, 'create', participation_state(p) from participations p order by p.id;
insert into changes (entity, entity_id, operation, state)
select 'claim', c.id, 'create', claim_state(c) from claims c order by c.id;

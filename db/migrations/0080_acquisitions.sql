-- Acquisitions: the second kind of deal, with the same two status axes, the same claims
-- from sources and the same rule deriving its values from them (migration 0005), now
-- written once for every kind of deal: ranked_deal_claims and derive_deal. The round
-- functions of 0005 keep their names and signatures and delegate to them.

create type acquisition_terms as enum ('CASH', 'STOCK', 'MIXED');

create table acquisitions (
    id uuid primary key default gen_random_uuid(),
    target_id uuid not null references organizations (id),
    status deal_status not null,
    stage deal_stage not null,
    announced_on date,
    announced_precision date_precision,
    closed_on date,
    price money_estimate,
    price_usd numeric generated always as ((price).usd) stored,
    terms acquisition_terms,
    percent_acquired numeric check (percent_acquired > 0 and percent_acquired <= 100),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint acquisition_announced_precision_given
        check ((announced_on is null) = (announced_precision is null)),
    constraint acquisition_announced_fits_precision
        check (date_fits_precision(announced_on, announced_precision)),
    constraint acquisition_closed_on_needs_closed_stage
        check (closed_on is null or stage = 'CLOSED')
);
create index acquisitions_target on acquisitions (target_id);
-- The exact sort keys of acquisition lists (db/acquisitions.py SORT_KEYS), as 0007 for rounds.
create index acquisitions_announced_desc_key
    on acquisitions (coalesce(announced_on, '-infinity'::date), id);
create index acquisitions_announced_asc_key
    on acquisitions (coalesce(announced_on, 'infinity'::date), id);
create index acquisitions_price_desc_key
    on acquisitions (coalesce(price_usd, '-Infinity'::numeric), id);
create index acquisitions_price_asc_key
    on acquisitions (coalesce(price_usd, 'Infinity'::numeric), id);

-- Who acquires: one lead, possibly others. `added_at` lets a read "as of" a time leave out
-- an acquirer a later report added.
create table acquirers (
    acquisition_id uuid not null references acquisitions (id) on delete cascade,
    organization_id uuid not null references organizations (id),
    is_lead boolean not null default false,
    added_at timestamptz not null default now(),
    primary key (acquisition_id, organization_id)
);
create unique index acquirers_one_lead on acquirers (acquisition_id) where is_lead;
create index acquirers_organization on acquirers (organization_id, acquisition_id);

-- Claims and status events are about a round or an acquisition: exactly one of them.
alter table claims
    alter column round_id drop not null,
    add column acquisition_id uuid references acquisitions (id) on delete cascade,
    add column closed_on date,
    add column terms acquisition_terms,
    add column percent_acquired numeric check (percent_acquired > 0 and percent_acquired <= 100),
    add constraint claim_one_subject check (num_nonnulls(round_id, acquisition_id) = 1),
    add constraint acquisition_claims_have_no_participation
        check (acquisition_id is null or participation_id is null);
create index claims_acquisition on claims (acquisition_id, recorded_at)
    where acquisition_id is not null;

alter table status_events
    alter column round_id drop not null,
    add column acquisition_id uuid references acquisitions (id) on delete cascade,
    add constraint event_one_subject check (num_nonnulls(round_id, acquisition_id) = 1),
    add constraint acquisition_events_have_no_participation
        check (acquisition_id is null or participation_id is null);
create index status_events_acquisition on status_events (acquisition_id, at)
    where acquisition_id is not null;

-- The rule of 0005, for any deal: claims about one subject (a round, one participation in
-- it, or an acquisition), best first. Give p_round (with p_participation or null) or
-- p_acquisition.
create function ranked_deal_claims(
    p_round uuid, p_acquisition uuid, p_participation uuid, p_as_of timestamptz
)
returns table (
    id uuid, status deal_status, stage deal_stage, amount money_estimate,
    pre_money_valuation money_estimate, post_money_valuation money_estimate,
    expected_close_on date, expected_close_precision date_precision,
    announced_on date, announced_precision date_precision, is_lead boolean,
    closed_on date, terms acquisition_terms, percent_acquired numeric,
    source_id uuid, said_at timestamptz, rank_order bigint
)
language sql stable as $$
    select c.id, c.status, c.stage, c.amount, c.pre_money_valuation, c.post_money_valuation,
           c.expected_close_on, c.expected_close_precision,
           c.announced_on, c.announced_precision, c.is_lead,
           c.closed_on, c.terms, c.percent_acquired,
           c.source_id, coalesce(s.published_at, c.recorded_at),
           row_number() over (
               order by claim_rank(s.kind) desc, coalesce(s.published_at, c.recorded_at) desc,
                        c.recorded_at desc, c.id desc)
    from claims c join sources s on s.id = c.source_id
    where ((p_round is not null and c.round_id = p_round)
           or (p_acquisition is not null and c.acquisition_id = p_acquisition))
      and c.participation_id is not distinct from p_participation
      and c.recorded_at <= coalesce(p_as_of, 'infinity')
$$;

create or replace function ranked_claims(p_round uuid, p_participation uuid, p_as_of timestamptz)
returns table (
    id uuid, status deal_status, stage deal_stage, amount money_estimate,
    pre_money_valuation money_estimate, post_money_valuation money_estimate,
    expected_close_on date, expected_close_precision date_precision,
    announced_on date, announced_precision date_precision, is_lead boolean,
    source_id uuid, said_at timestamptz, rank_order bigint
)
language sql stable as $$
    select id, status, stage, amount, pre_money_valuation, post_money_valuation,
           expected_close_on, expected_close_precision, announced_on, announced_precision,
           is_lead, source_id, said_at, rank_order
    from ranked_deal_claims(p_round, null, p_participation, p_as_of)
$$;

-- derived_values (0005) and the fields only acquisitions claim. A type of its own, so
-- that derived_values, which other functions build and read, stays as it is.
create type deal_values as (
    known boolean,
    status deal_status,
    stage deal_stage,
    amount money_estimate,
    pre_money_valuation money_estimate,
    post_money_valuation money_estimate,
    expected_close_on date,
    expected_close_precision date_precision,
    announced_on date,
    announced_precision date_precision,
    is_lead boolean,
    status_claim uuid,
    stage_claim uuid,
    closed_on date,
    terms acquisition_terms,
    percent_acquired numeric
);

-- Each value separately, from the best claim that says something about it.
create function derive_deal(
    p_round uuid, p_acquisition uuid, p_participation uuid, p_as_of timestamptz
)
returns deal_values
language sql stable as $$
    with ranked as (
        select * from ranked_deal_claims(p_round, p_acquisition, p_participation, p_as_of)
    )
    select row(
        exists (select 1 from ranked),
        (select status from ranked where status is not null order by rank_order limit 1),
        (select stage from ranked where stage is not null order by rank_order limit 1),
        (select amount from ranked where not (amount is null) order by rank_order limit 1),
        (select pre_money_valuation from ranked
         where not (pre_money_valuation is null) order by rank_order limit 1),
        (select post_money_valuation from ranked
         where not (post_money_valuation is null) order by rank_order limit 1),
        (select expected_close_on from ranked
         where expected_close_on is not null order by rank_order limit 1),
        (select expected_close_precision from ranked
         where expected_close_on is not null order by rank_order limit 1),
        (select announced_on from ranked where announced_on is not null order by rank_order limit 1),
        (select announced_precision from ranked
         where announced_on is not null order by rank_order limit 1),
        (select is_lead from ranked where is_lead is not null order by rank_order limit 1),
        (select id from ranked where status is not null order by rank_order limit 1),
        (select id from ranked where stage is not null order by rank_order limit 1),
        (select closed_on from ranked where closed_on is not null order by rank_order limit 1),
        (select terms from ranked where terms is not null order by rank_order limit 1),
        (select percent_acquired from ranked
         where percent_acquired is not null order by rank_order limit 1)
    )::deal_values
$$;

-- PL/pgSQL, not SQL: a SQL wrapper is inlined into its caller, and each field read of the
-- row would then run derive_deal again (rounds_as_of over 31,600 rounds: 17 s, not 1.5 s).
create or replace function derive(p_round uuid, p_participation uuid, p_as_of timestamptz)
returns derived_values
language plpgsql stable as $$
declare
    d deal_values := derive_deal(p_round, null, p_participation, p_as_of);
begin
    return row(d.known, d.status, d.stage, d.amount, d.pre_money_valuation,
               d.post_money_valuation, d.expected_close_on, d.expected_close_precision,
               d.announced_on, d.announced_precision, d.is_lead, d.status_claim,
               d.stage_claim)::derived_values;
end
$$;

-- As refresh_round (0005) for an acquisition: its stored values are a cache of
-- derive_deal(null, id, null, null), and each change of status or stage is an event.
create function refresh_acquisition(p_acquisition uuid, p_api_key uuid) returns void
language plpgsql as $$
declare
    d deal_values;
    a acquisitions;
    new_stage deal_stage;
begin
    select * into a from acquisitions where id = p_acquisition for update;
    d := derive_deal(null, p_acquisition, null, null);
    if not d.known then
        return;
    end if;
    new_stage := coalesce(d.stage, a.stage);
    update acquisitions set
        status = coalesce(d.status, a.status),
        stage = new_stage,
        price = coalesce(d.amount, a.price),
        terms = coalesce(d.terms, a.terms),
        percent_acquired = coalesce(d.percent_acquired, a.percent_acquired),
        announced_on = coalesce(d.announced_on, a.announced_on),
        announced_precision = case when d.announced_on is null
            then a.announced_precision else d.announced_precision end,
        closed_on = case when new_stage = 'CLOSED' then coalesce(d.closed_on, a.closed_on) end,
        updated_at = now()
    where id = p_acquisition
      and (status, stage, price, terms, percent_acquired, announced_on, closed_on)
          is distinct from
          (coalesce(d.status, a.status), new_stage, coalesce(d.amount, a.price),
           coalesce(d.terms, a.terms), coalesce(d.percent_acquired, a.percent_acquired),
           coalesce(d.announced_on, a.announced_on),
           case when new_stage = 'CLOSED' then coalesce(d.closed_on, a.closed_on) end);
    if (coalesce(d.status, a.status), new_stage) is distinct from (a.status, a.stage)
       or not exists (select 1 from status_events e where e.acquisition_id = p_acquisition) then
        insert into status_events (acquisition_id, at, status, stage, source_id, claim_id,
                                   api_key_id)
        select p_acquisition,
               coalesce((select coalesce(s.published_at, c.recorded_at)
                         from claims c join sources s on s.id = c.source_id
                         where c.id = coalesce(d.status_claim, d.stage_claim)), now()),
               coalesce(d.status, a.status), new_stage,
               (select c.source_id from claims c
                where c.id = coalesce(d.status_claim, d.stage_claim)),
               coalesce(d.status_claim, d.stage_claim), p_api_key;
    end if;
end
$$;

-- What was known of every acquisition at a time, as rounds_as_of (0005) for rounds: the
-- columns that queries over `acquisitions` read, so they can read from either.
create function acquisitions_as_of(p_as_of timestamptz)
returns table (
    id uuid, target_id uuid, status deal_status, stage deal_stage,
    announced_on date, announced_precision date_precision, closed_on date,
    price money_estimate, price_usd numeric, terms acquisition_terms, percent_acquired numeric
)
language sql stable as $$
    select a.id, a.target_id, coalesce(d.status, a.status), coalesce(d.stage, a.stage),
           d.announced_on, d.announced_precision,
           case when d.stage = 'CLOSED' then d.closed_on end,
           d.amount, (d.amount).usd, d.terms, d.percent_acquired
    from acquisitions a
    cross join lateral derive_deal(null, a.id, null, p_as_of) d
    where d.known
$$;

-- The change feed (0004) covers acquisitions; their acquirers are part of their state.
alter table changes drop constraint changes_entity_check;
alter table changes add constraint changes_entity_check
    check (entity in ('organization', 'round', 'participation', 'claim', 'acquisition'));

create function acquisition_state(a acquisitions) returns jsonb
language sql stable as $$
    select jsonb_build_object(
        'id', public_id('acq', a.id), 'target_id', public_id('org', a.target_id),
        'acquirers', coalesce(
            (select jsonb_agg(jsonb_build_object(
                         'organization_id', public_id('org', q.organization_id),
                         'is_lead', q.is_lead)
                     order by q.is_lead desc, q.added_at, q.organization_id)
             from acquirers q where q.acquisition_id = a.id),
            '[]'::jsonb),
        'status', a.status, 'stage', a.stage,
        'announced_on', a.announced_on, 'announced_precision', a.announced_precision,
        'closed_on', a.closed_on, 'price', money_json(a.price),
        'terms', a.terms, 'percent_acquired', a.percent_acquired::text)
$$;

create trigger acquisitions_created after insert on acquisitions
    referencing new table as new_rows
    for each statement execute function record_changes('acquisition', 'acquisition_state');
create trigger acquisitions_updated after update on acquisitions
    referencing new table as new_rows old table as old_rows
    for each statement execute function record_changes('acquisition', 'acquisition_state');
create trigger acquisitions_deleted after delete on acquisitions
    referencing old table as old_rows
    for each statement execute function record_changes('acquisition', 'acquisition_state');

create function record_acquirer_changes() returns trigger
language plpgsql as $$
begin
    insert into changes (entity, entity_id, operation, state)
    select 'acquisition', a.id, 'update', acquisition_state(a)
    from acquisitions a
    where a.id in (select acquisition_id from changed_acquirers)
    order by a.id;
    return null;
end
$$;

create trigger acquirers_added after insert on acquirers
    referencing new table as changed_acquirers
    for each statement execute function record_acquirer_changes();

create or replace function claim_state(c claims) returns jsonb
language sql stable as $$
    select jsonb_build_object(
        'id', public_id('clm', c.id), 'round_id', public_id('rnd', c.round_id),
        'acquisition_id', public_id('acq', c.acquisition_id),
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
        'is_lead', c.is_lead, 'recorded_at', c.recorded_at,
        'closed_on', c.closed_on, 'terms', c.terms,
        'percent_acquired', c.percent_acquired::text)
$$;

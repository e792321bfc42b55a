-- A round's current values follow from its claims by one rule, written here once:
--
--   1. A party's statement or a regulatory filing outranks the press (and data vendors).
--   2. Among claims of equal rank, the newest wins: by when the source said it (its
--      publication time, or when we recorded it if the source has no date).
--   3. So a denial or a retraction ends a REPORTED state: a party's denial outranks any
--      press report, and a retraction comes after the report it withdraws.
--
-- Each value (status, stage, amount, valuations, dates) is chosen separately, from the
-- claims that say something about it. (A composite value with a null field is not
-- "is not null" in SQL, hence the "not (x is null)" tests below.) A participation's values follow from its own
-- claims by the same rule. "As of" a time, only the claims recorded by then count.

alter table claims
    add column announced_on date,
    add column announced_precision date_precision,
    -- How `usd` in this claim's money was computed: US dollars for one unit of the
    -- reported currency, at the reference rate of `usd_rate_date`.
    add column usd_rate numeric check (usd_rate > 0),
    add column usd_rate_date date,
    add constraint claim_announced_precision_given
        check ((announced_on is null) = (announced_precision is null)),
    add constraint claim_announced_fits_precision
        check (date_fits_precision(announced_on, announced_precision)),
    add constraint usd_rate_dated check ((usd_rate is null) = (usd_rate_date is null));

create function claim_rank(kind source_kind) returns integer
language sql immutable parallel safe as $$
    select case when kind in ('COMPANY_STATEMENT', 'INVESTOR_STATEMENT', 'REGULATORY_FILING')
                then 2 else 1 end
$$;

-- Claims about one subject (a round as a whole, or one participation), best first.
create function ranked_claims(p_round uuid, p_participation uuid, p_as_of timestamptz)
returns table (
    id uuid, status deal_status, stage deal_stage, amount money_estimate,
    pre_money_valuation money_estimate, post_money_valuation money_estimate,
    expected_close_on date, expected_close_precision date_precision,
    announced_on date, announced_precision date_precision, is_lead boolean,
    source_id uuid, said_at timestamptz, rank_order bigint
)
language sql stable as $$
    select c.id, c.status, c.stage, c.amount, c.pre_money_valuation, c.post_money_valuation,
           c.expected_close_on, c.expected_close_precision,
           c.announced_on, c.announced_precision, c.is_lead,
           c.source_id, coalesce(s.published_at, c.recorded_at),
           row_number() over (
               order by claim_rank(s.kind) desc, coalesce(s.published_at, c.recorded_at) desc,
                        c.recorded_at desc, c.id desc)
    from claims c join sources s on s.id = c.source_id
    where c.round_id = p_round
      and c.participation_id is not distinct from p_participation
      and c.recorded_at <= coalesce(p_as_of, 'infinity')
$$;

create type derived_values as (
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
    -- The claim that decided the status, and the one that decided the stage.
    status_claim uuid,
    stage_claim uuid
);

create function derive(p_round uuid, p_participation uuid, p_as_of timestamptz)
returns derived_values
language sql stable as $$
    with ranked as (select * from ranked_claims(p_round, p_participation, p_as_of))
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
        (select id from ranked where stage is not null order by rank_order limit 1)
    )::derived_values
$$;

-- Bring a round's stored values (and its participations') in line with its claims, and
-- record a status event for each change of status or stage. The stored values are a
-- cache of derive(..., null): reads of the present need not recompute them.
create function refresh_round(p_round uuid, p_api_key uuid) returns void
language plpgsql as $$
declare
    d derived_values;
    r rounds;
    p participations;
    said timestamptz;
begin
    select * into r from rounds where id = p_round for update;
    d := derive(p_round, null, null);
    if d.known then
        update rounds set
            status = coalesce(d.status, r.status),
            stage = coalesce(d.stage, r.stage),
            amount = coalesce(d.amount, r.amount),
            pre_money_valuation = coalesce(d.pre_money_valuation, r.pre_money_valuation),
            post_money_valuation = coalesce(d.post_money_valuation, r.post_money_valuation),
            expected_close_on = coalesce(d.expected_close_on, r.expected_close_on),
            expected_close_precision = case when d.expected_close_on is null
                then r.expected_close_precision else d.expected_close_precision end,
            announced_on = coalesce(d.announced_on, r.announced_on),
            announced_precision = case when d.announced_on is null
                then r.announced_precision else d.announced_precision end,
            closed_on = case when coalesce(d.stage, r.stage) = 'CLOSED' then r.closed_on end,
            updated_at = now()
        where id = p_round
          and (status, stage, amount, pre_money_valuation, post_money_valuation,
               expected_close_on, announced_on)
              is distinct from
              (coalesce(d.status, r.status), coalesce(d.stage, r.stage),
               coalesce(d.amount, r.amount),
               coalesce(d.pre_money_valuation, r.pre_money_valuation),
               coalesce(d.post_money_valuation, r.post_money_valuation),
               coalesce(d.expected_close_on, r.expected_close_on),
               coalesce(d.announced_on, r.announced_on));
        if (coalesce(d.status, r.status), coalesce(d.stage, r.stage))
           is distinct from (r.status, r.stage)
           or not exists (select 1 from status_events e
                          where e.round_id = p_round and e.participation_id is null) then
            select coalesce(s.published_at, c.recorded_at) into said
            from claims c join sources s on s.id = c.source_id
            where c.id = coalesce(d.status_claim, d.stage_claim);
            insert into status_events (round_id, at, status, stage, source_id, claim_id,
                                       api_key_id)
            select p_round, coalesce(said, now()), coalesce(d.status, r.status),
                   coalesce(d.stage, r.stage), c.source_id, c.id, p_api_key
            from (select 1) one
            left join claims c on c.id = coalesce(d.status_claim, d.stage_claim);
        end if;
    end if;

    for p in select * from participations where round_id = p_round for update loop
        d := derive(p_round, p.id, null);
        continue when not d.known;
        update participations set
            status = coalesce(d.status, p.status),
            stage = coalesce(d.stage, p.stage),
            amount = coalesce(d.amount, p.amount),
            is_lead = coalesce(d.is_lead, p.is_lead),
            updated_at = now()
        where id = p.id
          and (status, stage, amount, is_lead) is distinct from
              (coalesce(d.status, p.status), coalesce(d.stage, p.stage),
               coalesce(d.amount, p.amount), coalesce(d.is_lead, p.is_lead));
        if (coalesce(d.status, p.status), coalesce(d.stage, p.stage))
           is distinct from (p.status, p.stage)
           or not exists (select 1 from status_events e where e.participation_id = p.id) then
            insert into status_events (round_id, participation_id, at, status, stage,
                                       source_id, claim_id, api_key_id)
            select p_round, p.id,
                   coalesce((select coalesce(s.published_at, c.recorded_at)
                             from claims c join sources s on s.id = c.source_id
                             where c.id = coalesce(d.status_claim, d.stage_claim)), now()),
                   coalesce(d.status, p.status), coalesce(d.stage, p.stage),
                   (select c.source_id from claims c
                    where c.id = coalesce(d.status_claim, d.stage_claim)),
                   coalesce(d.status_claim, d.stage_claim), p_api_key;
        end if;
    end loop;
end
$$;

-- What was known of every round at a time: rounds with a claim recorded by then, with
-- the values their claims gave then. The columns that queries over `rounds` read, so
-- they can read from either.
create function rounds_as_of(p_as_of timestamptz)
returns table (
    id uuid, company_id uuid, round_type round_type, reported_label text,
    status deal_status, stage deal_stage, announced_on date, announced_precision date_precision,
    closed_on date, expected_close_on date, expected_close_precision date_precision,
    amount money_estimate, target_amount money_estimate,
    pre_money_valuation money_estimate, post_money_valuation money_estimate,
    amount_usd numeric
)
language sql stable as $$
    select r.id, r.company_id, r.round_type, r.reported_label,
           coalesce(d.status, r.status), coalesce(d.stage, r.stage),
           d.announced_on, d.announced_precision,
           case when d.stage = 'CLOSED' then r.closed_on end,
           d.expected_close_on, d.expected_close_precision,
           d.amount, r.target_amount, d.pre_money_valuation, d.post_money_valuation,
           (d.amount).usd
    from rounds r
    cross join lateral derive(r.id, null, p_as_of) d
    where d.known
$$;

-- Refreshing many rounds at once (issue 13: a second source matched 22,000 stored rounds
-- and spent 700 s in one refresh_round call per round, each deriving every value of the
-- round and of each participation through its own queries).
--
-- derive_rounds(rounds, versions) is derive() (0005, 0080) for a set of rounds, in one
-- query: their claims ranked together by the rule of 0005 (a party's statement or a
-- filing first, then the newest by when the source said it, then by when recorded, then
-- by id), each value taken separately from the best claim that says something about it.
-- Without versions it gives each round and each participation as of now; with versions,
-- each round as a whole at each time a claim about it was recorded (round_history,
-- 0021 and 0097). tests/db/test_refresh_rounds.py and test_round_history.py hold it to
-- derive().
--
-- refresh_rounds(rounds, api_key) is refresh_round (0005) for a set of rounds, in one
-- statement: one UPDATE of the rounds, one of the participations and one INSERT of the
-- status events, writing what refresh_round wrote for each round. refresh_round is now
-- this function for one round, so the API's writes and the imports refresh by the same
-- code.

create function derive_rounds(p_rounds uuid[], p_versions boolean)
returns table (
    round_id uuid, participation_id uuid, known_from timestamptz,
    status deal_status, stage deal_stage, amount money_estimate,
    pre_money_valuation money_estimate, post_money_valuation money_estimate,
    expected_close_on date, expected_close_precision date_precision,
    announced_on date, announced_precision date_precision, is_lead boolean,
    -- The claim that decided the status, else the one that decided the stage.
    deciding_claim uuid
)
language sql stable as $$
    with subject as (
        select distinct c.round_id, c.participation_id,
            case when p_versions then c.recorded_at else 'infinity' end as known_from
        from claims c
        where c.round_id = any(p_rounds) and not (p_versions and c.participation_id is not null)
    ), ranked as (
        select x.round_id, x.participation_id, x.known_from, c.id, c.status, c.stage,
               c.amount, c.pre_money_valuation, c.post_money_valuation, c.expected_close_on,
               c.expected_close_precision, c.announced_on, c.announced_precision, c.is_lead,
               row_number() over (
                   partition by x.round_id, x.participation_id, x.known_from
                   order by claim_rank(s.kind) desc, coalesce(s.published_at, c.recorded_at) desc,
                            c.recorded_at desc, c.id desc) as rank_order
        from subject x
        join claims c on c.round_id = x.round_id
            and coalesce(c.participation_id, x.round_id) = coalesce(x.participation_id, x.round_id)
            and c.recorded_at <= x.known_from
        join sources s on s.id = c.source_id
    )
    select round_id, participation_id, nullif(known_from, 'infinity'),
        (array_agg(status order by rank_order) filter (where status is not null))[1],
        (array_agg(stage order by rank_order) filter (where stage is not null))[1],
        (array_agg(amount order by rank_order) filter (where not (amount is null)))[1],
        (array_agg(pre_money_valuation order by rank_order)
            filter (where not (pre_money_valuation is null)))[1],
        (array_agg(post_money_valuation order by rank_order)
            filter (where not (post_money_valuation is null)))[1],
        (array_agg(expected_close_on order by rank_order)
            filter (where expected_close_on is not null))[1],
        (array_agg(expected_close_precision order by rank_order)
            filter (where expected_close_on is not null))[1],
        (array_agg(announced_on order by rank_order) filter (where announced_on is not null))[1],
        (array_agg(announced_precision order by rank_order)
            filter (where announced_on is not null))[1],
        (array_agg(is_lead order by rank_order) filter (where is_lead is not null))[1],
        coalesce(
            (array_agg(id order by rank_order) filter (where status is not null))[1],
            (array_agg(id order by rank_order) filter (where stage is not null))[1])
    from ranked
    group by round_id, participation_id, known_from
$$;

create function refresh_rounds(p_rounds uuid[], p_api_key uuid) returns void
language plpgsql as $$
begin
    -- Locks in id order, so that two writers cannot deadlock here.
    perform from rounds where id = any(p_rounds) order by id for update;
    perform from participations where round_id = any(p_rounds) order by id for update;

    with derived as (
        select * from derive_rounds(p_rounds, false)
    ), new_round as (
        select r.id, r.status as old_status, r.stage as old_stage,
            coalesce(d.status, r.status) as status,
            coalesce(d.stage, r.stage) as stage,
            coalesce(d.amount, r.amount) as amount,
            coalesce(d.pre_money_valuation, r.pre_money_valuation) as pre_money_valuation,
            coalesce(d.post_money_valuation, r.post_money_valuation) as post_money_valuation,
            coalesce(d.expected_close_on, r.expected_close_on) as expected_close_on,
            case when d.expected_close_on is null then r.expected_close_precision
                 else d.expected_close_precision end as expected_close_precision,
            coalesce(d.announced_on, r.announced_on) as announced_on,
            case when d.announced_on is null then r.announced_precision
                 else d.announced_precision end as announced_precision,
            case when coalesce(d.stage, r.stage) = 'CLOSED' then r.closed_on end as closed_on,
            (r.status, r.stage, r.amount, r.pre_money_valuation, r.post_money_valuation,
             r.expected_close_on, r.announced_on)
            is distinct from
            (coalesce(d.status, r.status), coalesce(d.stage, r.stage),
             coalesce(d.amount, r.amount),
             coalesce(d.pre_money_valuation, r.pre_money_valuation),
             coalesce(d.post_money_valuation, r.post_money_valuation),
             coalesce(d.expected_close_on, r.expected_close_on),
             coalesce(d.announced_on, r.announced_on)) as changed,
            d.deciding_claim
        from rounds r
        -- (derived holds only these rounds; a repeated `= any(p_rounds)` here once made
        -- the planner scan the whole array for each round: 30 s for 31,000 rounds.)
        join derived d on d.round_id = r.id and d.participation_id is null
    ), new_participation as (
        select p.id, p.round_id, p.status as old_status, p.stage as old_stage,
            coalesce(d.status, p.status) as status,
            coalesce(d.stage, p.stage) as stage,
            coalesce(d.amount, p.amount) as amount,
            coalesce(d.is_lead, p.is_lead) as is_lead,
            (p.status, p.stage, p.amount, p.is_lead) is distinct from
            (coalesce(d.status, p.status), coalesce(d.stage, p.stage),
             coalesce(d.amount, p.amount), coalesce(d.is_lead, p.is_lead)) as changed,
            d.deciding_claim
        from participations p
        join derived d on d.round_id = p.round_id and d.participation_id = p.id
    ), updated_rounds as (
        update rounds r set
            status = n.status, stage = n.stage, amount = n.amount,
            pre_money_valuation = n.pre_money_valuation,
            post_money_valuation = n.post_money_valuation,
            expected_close_on = n.expected_close_on,
            expected_close_precision = n.expected_close_precision,
            announced_on = n.announced_on, announced_precision = n.announced_precision,
            closed_on = n.closed_on, updated_at = now()
        from new_round n
        where r.id = n.id and n.changed
    ), updated_participations as (
        update participations p set
            status = n.status, stage = n.stage, amount = n.amount, is_lead = n.is_lead,
            updated_at = now()
        from new_participation n
        where p.id = n.id and n.changed
    ), event as (
        -- A change of status or stage, or a subject without any event yet: the events
        -- of the state before this statement (the snapshot all its parts share).
        select n.id as round_id, null::uuid as participation_id, n.status, n.stage,
               n.deciding_claim
        from new_round n
        where (n.status, n.stage) is distinct from (n.old_status, n.old_stage)
           or not exists (select from status_events e
                          where e.round_id = n.id and e.participation_id is null)
        union all
        select n.round_id, n.id, n.status, n.stage, n.deciding_claim
        from new_participation n
        where (n.status, n.stage) is distinct from (n.old_status, n.old_stage)
           -- (An event of a participation is of its round: the round's index finds it.)
           or not exists (select from status_events e
                          where e.round_id = n.round_id and e.participation_id = n.id)
    )
    insert into status_events (round_id, participation_id, at, status, stage, source_id,
                               claim_id, api_key_id)
    select e.round_id, e.participation_id, coalesce(s.published_at, c.recorded_at, now()),
           e.status, e.stage, c.source_id, c.id, p_api_key
    from event e
    left join claims c on c.id = e.deciding_claim
    left join sources s on s.id = c.source_id
    order by e.round_id, e.participation_id nulls first;
end
$$;

create or replace function refresh_round(p_round uuid, p_api_key uuid) returns void
language sql as $$
    select refresh_rounds(array[p_round], p_api_key)
$$;

-- A round's history is made of its claims about it as a whole (0021): a statement that
-- writes only claims about participations (an import writes one per investor) has no
-- round to rebuild.
create or replace function round_history_after_claims() returns trigger
language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        perform rebuild_round_history(array(
            select distinct round_id from new_claims where participation_id is null));
    elsif tg_op = 'UPDATE' then
        perform rebuild_round_history(array(
            select round_id from new_claims where participation_id is null
            union select round_id from old_claims where participation_id is null));
    else
        perform rebuild_round_history(array(
            select distinct round_id from old_claims where participation_id is null));
    end if;
    return null;
end
$$;

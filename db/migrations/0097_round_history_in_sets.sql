-- round_history (0021) rebuilt for a set of rounds in one pass: the claims of every
-- version ranked together, instead of one derive() call per round and version (each a
-- PL/pgSQL call running its own queries: 3 s of every import that writes 33,000 round
-- claims, and as much of its COPY floor, whose triggers rebuild the same rounds).
--
-- A version of a round starts at each distinct time a claim about the round as a whole
-- was recorded; its values are derive(round, null, that time): of the claims recorded
-- by then, each value from the best that gives it, best by the rule of 0005 (a party's
-- statement or a filing first, then the newest by when the source said it, then by when
-- recorded, then by id).

create or replace function rebuild_round_history(p_rounds uuid[]) returns void
language sql as $$
    delete from round_history where round_id = any(p_rounds);
    insert into round_history (round_id, known_from, known_until, status, stage, amount,
                               pre_money_valuation, post_money_valuation, expected_close_on,
                               expected_close_precision, announced_on, announced_precision)
    with version as (
        select distinct c.round_id, c.recorded_at as known_from
        from claims c
        where c.round_id = any(p_rounds) and c.participation_id is null
    ), ranked as (
        select v.round_id, v.known_from, c.status, c.stage, c.amount,
               c.pre_money_valuation, c.post_money_valuation, c.expected_close_on,
               c.expected_close_precision, c.announced_on, c.announced_precision,
               row_number() over (
                   partition by v.round_id, v.known_from
                   order by claim_rank(s.kind) desc,
                            coalesce(s.published_at, c.recorded_at) desc,
                            c.recorded_at desc, c.id desc) as rank_order
        from version v
        join claims c on c.round_id = v.round_id and c.participation_id is null
            and c.recorded_at <= v.known_from
        join sources s on s.id = c.source_id
    ), derived as (
        select round_id, known_from,
            (array_agg(status order by rank_order) filter (where status is not null))[1]
                as status,
            (array_agg(stage order by rank_order) filter (where stage is not null))[1]
                as stage,
            (array_agg(amount order by rank_order) filter (where not (amount is null)))[1]
                as amount,
            (array_agg(pre_money_valuation order by rank_order)
                filter (where not (pre_money_valuation is null)))[1] as pre_money_valuation,
            (array_agg(post_money_valuation order by rank_order)
                filter (where not (post_money_valuation is null)))[1] as post_money_valuation,
            (array_agg(expected_close_on order by rank_order)
                filter (where expected_close_on is not null))[1] as expected_close_on,
            (array_agg(expected_close_precision order by rank_order)
                filter (where expected_close_on is not null))[1] as expected_close_precision,
            (array_agg(announced_on order by rank_order)
                filter (where announced_on is not null))[1] as announced_on,
            (array_agg(announced_precision order by rank_order)
                filter (where announced_on is not null))[1] as announced_precision
        from ranked
        group by round_id, known_from
    )
    select round_id, known_from,
           lead(known_from) over (partition by round_id order by known_from),
           status, stage, amount, pre_money_valuation, post_money_valuation,
           expected_close_on, expected_close_precision, announced_on, announced_precision
    from derived;
$$;

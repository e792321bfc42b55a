-- round_history (0021) rebuilt for a set of rounds in one pass: the versions of all of
-- them derived together by derive_rounds (0095), instead of one derive() call per round
-- and version (each a PL/pgSQL call running its own queries: 3 s of every import that
-- writes 33,000 round claims, and as much of its COPY floor, whose triggers rebuild the
-- same rounds).

create or replace function rebuild_round_history(p_rounds uuid[]) returns void
language sql as $$
    delete from round_history where round_id = any(p_rounds);
    insert into round_history (round_id, known_from, known_until, status, stage, amount,
                               pre_money_valuation, post_money_valuation, expected_close_on,
                               expected_close_precision, announced_on, announced_precision)
    select d.round_id, d.known_from,
           lead(d.known_from) over (partition by d.round_id order by d.known_from),
           d.status, d.stage, d.amount, d.pre_money_valuation, d.post_money_valuation,
           d.expected_close_on, d.expected_close_precision, d.announced_on,
           d.announced_precision
    from derive_rounds(p_rounds, true) d;
$$;

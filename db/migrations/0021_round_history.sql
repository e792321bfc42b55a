-- What was known of each round over time, kept as it changes, so that "as of" reads do
-- not derive every round of the database again (rounds_as_of() did: 1.2 s for a page of
-- one on the CrunchBase set, whatever the page).
--
-- A round has one version per distinct time a claim about it as a whole was recorded:
-- its values are derive(round, null, that time) (migration 0005's rule, unchanged), and
-- they hold until the next such time. Triggers on claims and sources rebuild the
-- versions of the rounds a statement touched, in one pass per statement (so a bulk
-- import pays one rebuild per round, not one per claim).

create table round_history (
    round_id uuid not null references rounds (id) on delete cascade,
    known_from timestamptz not null,
    -- When the next version starts; null for the current one.
    known_until timestamptz,
    status deal_status,
    stage deal_stage,
    amount money_estimate,
    pre_money_valuation money_estimate,
    post_money_valuation money_estimate,
    expected_close_on date,
    expected_close_precision date_precision,
    announced_on date,
    announced_precision date_precision,
    amount_usd numeric generated always as ((amount).usd) stored,
    primary key (round_id, known_from),
    check (known_until > known_from)
);

-- The sort keys of round lists (db/rounds.py SORT_KEYS) read as of a time, as
-- migration 0007 indexes them for the present.
create index round_history_announced_desc_key
    on round_history (coalesce(announced_on, '-infinity'::date), round_id);
create index round_history_announced_asc_key
    on round_history (coalesce(announced_on, 'infinity'::date), round_id);
create index round_history_amount_desc_key
    on round_history (coalesce(amount_usd, '-Infinity'::numeric), round_id);
create index round_history_amount_asc_key
    on round_history (coalesce(amount_usd, 'Infinity'::numeric), round_id);
-- "Had this investor's part been recorded by then?" (the investor filter as of a time).
create index claims_participation on claims (participation_id, recorded_at)
    where participation_id is not null;

create function rebuild_round_history(p_rounds uuid[]) returns void
language sql as $$
    delete from round_history where round_id = any(p_rounds);
    insert into round_history (round_id, known_from, known_until, status, stage, amount,
                               pre_money_valuation, post_money_valuation, expected_close_on,
                               expected_close_precision, announced_on, announced_precision)
    select t.round_id, t.known_from,
           lead(t.known_from) over (partition by t.round_id order by t.known_from),
           d.status, d.stage, d.amount, d.pre_money_valuation, d.post_money_valuation,
           d.expected_close_on, d.expected_close_precision, d.announced_on,
           d.announced_precision
    from (select distinct c.round_id, c.recorded_at as known_from
          from claims c
          where c.round_id = any(p_rounds) and c.participation_id is null) t
    cross join lateral derive(t.round_id, null, t.known_from) d;
$$;

create function round_history_after_claims() returns trigger
language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        perform rebuild_round_history(array(select distinct round_id from new_claims));
    elsif tg_op = 'UPDATE' then
        perform rebuild_round_history(array(
            select round_id from new_claims union select round_id from old_claims));
    else
        perform rebuild_round_history(array(select distinct round_id from old_claims));
    end if;
    return null;
end
$$;

create trigger round_history_claims_inserted after insert on claims
    referencing new table as new_claims
    for each statement execute function round_history_after_claims();
create trigger round_history_claims_updated after update on claims
    referencing old table as old_claims new table as new_claims
    for each statement execute function round_history_after_claims();
create trigger round_history_claims_deleted after delete on claims
    referencing old table as old_claims
    for each statement execute function round_history_after_claims();

-- A source's date and kind rank its claims.
create function round_history_after_sources() returns trigger
language plpgsql as $$
begin
    perform rebuild_round_history(array(
        select distinct c.round_id
        from new_sources n
        join old_sources o on o.id = n.id
        join claims c on c.source_id = n.id
        where (n.published_at, n.kind) is distinct from (o.published_at, o.kind)));
    return null;
end
$$;

create trigger round_history_sources_updated after update on sources
    referencing old table as old_sources new table as new_sources
    for each statement execute function round_history_after_sources();

select rebuild_round_history(array(select id from rounds));

-- The same relation as before (migration 0005), read from the versions: a plain SQL
-- function that PostgreSQL inlines, so a page of it reads the indexes above instead of
-- deriving every round. As-of reads (db/rounds.py, and any SQL compiled for GraphQL)
-- select from it.
create or replace function rounds_as_of(p_as_of timestamptz)
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
           coalesce(h.status, r.status), coalesce(h.stage, r.stage),
           h.announced_on, h.announced_precision,
           case when h.stage = 'CLOSED' then r.closed_on end,
           h.expected_close_on, h.expected_close_precision,
           h.amount, r.target_amount, h.pre_money_valuation, h.post_money_valuation,
           h.amount_usd
    from round_history h
    join rounds r on r.id = h.round_id
    where h.known_from <= coalesce(p_as_of, 'infinity')
      and (h.known_until is null or h.known_until > coalesce(p_as_of, 'infinity'))
$$;

-- Who may record what a source is, and how far a source's own date is believed.

-- The source kinds a key may record (issue 14, item 8). Keys made before keep every
-- kind, as they could; keys made from now on get, unless told otherwise, the kinds a
-- partner feeding press and vendor data needs: not a party's statement nor a filing,
-- which make a round CONFIRMED or DENIED (`dealgraph keys create --source-kinds`; the
-- CLI gives admin keys and the embedded default's demo key every kind).
alter table api_keys
    add column source_kinds source_kind[] not null default enum_range(null::source_kind),
    add constraint api_key_source_kinds_given check (cardinality(source_kinds) > 0);
alter table api_keys
    alter column source_kinds set default '{PRESS_ANONYMOUS,PRESS_ON_RECORD,DATA_VENDOR}';

-- Claims rank by when their source said them (migration 0005), but a source cannot
-- have said anything after we recorded it: a publication time in the future of the
-- claim ranks at the claim's recording time, so a false date never wins "newest".
-- (Writes refuse such dates too; this holds for whatever was stored before.)
create or replace function ranked_claims(p_round uuid, p_participation uuid, p_as_of timestamptz)
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
           c.source_id, least(coalesce(s.published_at, c.recorded_at), c.recorded_at),
           row_number() over (
               order by claim_rank(s.kind) desc,
                        least(coalesce(s.published_at, c.recorded_at), c.recorded_at) desc,
                        c.recorded_at desc, c.id desc)
    from claims c join sources s on s.id = c.source_id
    where c.round_id = p_round
      and c.participation_id is not distinct from p_participation
      and c.recorded_at <= coalesce(p_as_of, 'infinity')
$$;

select rebuild_round_history(array(
    select distinct c.round_id from claims c join sources s on s.id = c.source_id
    where s.published_at > c.recorded_at));
select refresh_round(r.id, null) from rounds r
where exists (select 1 from claims c join sources s on s.id = c.source_id
              where c.round_id = r.id and s.published_at > c.recorded_at);

"""The set-based part of a mapped import of acquisitions (a mapping with [acquisition]).

The rows come staged with their target (the row's company) and acquirer resolved
(`engine.py`). From there, in the caller's transaction, as `load.py` does for rounds:

1. rows with the same source, target and key are one *file acquisition*;
2. each finds its stored acquisition by the matching rule (below), or is new;
3. new acquisitions are inserted with their acquirer; each file acquisition's claim is
   inserted, or updated when this source said something else before, or left alone;
4. every acquisition whose claims changed is refreshed by the rule of migration 0080
   (`refresh_acquisition`, as API writes do), which also writes its status event.

Matching a file acquisition to a stored one: the same target and one of its acquirers
the same; dates both absent, or no further apart than the coarser of the two
precisions plus the mapping's tolerance; prices, when both are given, within a factor
of two (in US dollars). One candidate is the match; of several, the one that alone is
best on (same date, same price), else the rows are rejected as ambiguous. An
acquisition this source created in an earlier import of the file is found first, by id.
"""

import uuid

from db.imports.load import MAX_AMOUNT_RATIO, analyze, inserted
from db.imports.rows import Row, Source
from db.infra.types import Connection

_NAMESPACE = uuid.UUID("2d1c5f9a-7be4-4c61-93a0-5b8e2f4c6d17")

_STAGING = """
create temp table import_acquisition (
    line integer not null,
    problem text,
    problem_column text,
    source_ord integer,
    target_id uuid,
    acquirer_id uuid,
    deal_key text,
    new_id uuid,
    announced_on date,
    announced_precision date_precision,
    price_qualifier amount_qualifier,
    price_currency text,
    price_low numeric,
    price_high numeric,
    price_usd numeric,
    usd_rate numeric,
    usd_rate_date date,
    status deal_status,
    stage deal_stage,
    quote text,
    attribution text
) on commit drop
"""

_COLUMNS = (
    "line", "problem", "problem_column", "source_ord", "target_id", "acquirer_id", "deal_key",
    "new_id", "announced_on", "announced_precision", "price_qualifier", "price_currency",
    "price_low", "price_high", "price_usd", "usd_rate", "usd_rate_date", "status", "stage",
    "quote", "attribution",
)  # fmt: skip

_FILE_ACQUISITIONS = """
create temp table import_file_acquisition on commit drop as
select distinct on (a.source_ord, a.target_id, a.deal_key)
    a.line as first_line, s.id as source_id, a.target_id, a.acquirer_id, a.deal_key, a.new_id,
    a.announced_on, a.announced_precision,
    case when a.price_qualifier is not null then
        row(a.price_qualifier, a.price_currency, a.price_low, a.price_high,
            a.price_usd)::money_estimate
    end as price,
    a.usd_rate, a.usd_rate_date, a.status, a.stage, a.quote, a.attribution
from import_acquisition a
join import_source s on s.ord = a.source_ord
where a.problem is null
order by a.source_ord, a.target_id, a.deal_key, a.line
"""

_MATCH = """
create temp table import_acquisition_match on commit drop as
with candidate as (
    select f.first_line, x.id as acquisition_id,
        (x.announced_on is not distinct from f.announced_on)::int
            + coalesce(((x.price).usd = (f.price).usd)::int, 0) as score
    from import_file_acquisition f
    join acquisitions x on x.target_id = f.target_id
    where not exists (select from acquisitions own where own.id = f.new_id)
      -- Acquisitions of this very file (an earlier import of it) are other file ones.
      and x.id not in (select new_id from import_file_acquisition)
      and exists (select from acquirers q
                  where q.acquisition_id = x.id and q.organization_id = f.acquirer_id)
      and case
          when x.announced_on is null and f.announced_on is null then true
          when x.announced_on is null or f.announced_on is null then false
          else abs(x.announced_on - f.announced_on) <= $1::int + greatest(
              case x.announced_precision when 'MONTH' then 31 when 'QUARTER' then 92
                  when 'YEAR' then 366 else 0 end,
              case f.announced_precision when 'MONTH' then 31 when 'QUARTER' then 92
                  when 'YEAR' then 366 else 0 end)
      end
      and ((x.price).usd is null or (f.price).usd is null
           or least((x.price).usd, (f.price).usd) * $2
              >= greatest((x.price).usd, (f.price).usd))
), ranked as (
    select first_line, acquisition_id, score,
        rank() over (partition by first_line order by score desc) as place,
        count(*) over (partition by first_line, score) as tied
    from candidate
), picked as (
    select first_line,
        (array_agg(acquisition_id order by acquisition_id)
            filter (where place = 1 and tied = 1))[1] as acquisition_id,
        array_agg(public_id('acq', acquisition_id) order by acquisition_id)
            filter (where place = 1) as best
    from ranked
    group by first_line
)
select f.first_line, f.source_id,
    case
        when own.id is not null then 'own'
        when p.first_line is null then 'created'
        when p.acquisition_id is null then 'ambiguous'
        else 'matched'
    end as outcome,
    coalesce(own.id, p.acquisition_id, case when p.first_line is null then f.new_id end)
        as acquisition_id,
    p.best as candidates
from import_file_acquisition f
left join acquisitions own on own.id = f.new_id
left join picked p on p.first_line = f.first_line
"""

_INSERT_ACQUISITIONS = """
insert into acquisitions (id, target_id, status, stage, announced_on, announced_precision,
                          price)
select f.new_id, f.target_id, f.status, f.stage, f.announced_on, f.announced_precision,
    f.price
from import_file_acquisition f
join import_acquisition_match m on m.first_line = f.first_line
where m.outcome = 'created'
order by f.first_line
"""

_INSERT_ACQUIRERS = """
insert into acquirers (acquisition_id, organization_id, is_lead)
select f.new_id, f.acquirer_id, true
from import_file_acquisition f
join import_acquisition_match m on m.first_line = f.first_line
where m.outcome = 'created'
"""

# Two file acquisitions of one source that land on one stored one: the first speaks.
_CLAIMS = """
create temp table import_acquisition_claim on commit drop as
select distinct on (m.source_id, m.acquisition_id) m.first_line, m.source_id,
    m.acquisition_id, f.status, f.stage, f.price, f.announced_on, f.announced_precision,
    f.usd_rate, f.usd_rate_date, f.quote, f.attribution
from import_acquisition_match m
join import_file_acquisition f on f.first_line = m.first_line
where m.acquisition_id is not null
order by m.source_id, m.acquisition_id, m.first_line
"""

_UPDATE_CLAIMS = """
with changed as (
    update claims c set status = x.status, stage = x.stage, amount = x.price,
        announced_on = x.announced_on, announced_precision = x.announced_precision,
        usd_rate = x.usd_rate, usd_rate_date = x.usd_rate_date, quote = x.quote,
        attribution = x.attribution, recorded_at = now()
    from import_acquisition_claim x
    where c.source_id = x.source_id and c.acquisition_id = x.acquisition_id
      and (c.status, c.stage, c.amount, c.announced_on, c.announced_precision)
          is distinct from (x.status, x.stage, x.price, x.announced_on, x.announced_precision)
    returning c.acquisition_id
)
insert into import_acquisition_touched select acquisition_id from changed
"""

_INSERT_CLAIMS = """
with added as (
    insert into claims (source_id, acquisition_id, quote, attribution, status, stage, amount,
                        announced_on, announced_precision, usd_rate, usd_rate_date)
    select x.source_id, x.acquisition_id, x.quote, x.attribution, x.status, x.stage, x.price,
        x.announced_on, x.announced_precision,
        case when x.price is not null then x.usd_rate end,
        case when x.price is not null then x.usd_rate_date end
    from import_acquisition_claim x
    where not exists (select from claims c where c.source_id = x.source_id
                      and c.acquisition_id = x.acquisition_id)
    order by x.first_line
    returning acquisition_id
)
insert into import_acquisition_touched select acquisition_id from added
"""

_REFRESH = """
select count(refresh_acquisition(t.acquisition_id, null))
from (select distinct acquisition_id from import_acquisition_touched
      order by acquisition_id) t
"""

# Each row's outcome, as for rounds: rejected (its own problem, or an ambiguous match),
# imported (it speaks for its acquisition), or merged (it repeats an earlier row's).
_OUTCOMES = """
select a.line, a.problem_column as column_name,
    case
        when a.problem is not null or m.outcome = 'ambiguous' then 'rejected'
        when a.line = f.first_line and f.first_line = c.first_line then 'imported'
        else 'merged'
    end as outcome,
    case
        when a.problem is not null then a.problem
        when m.outcome = 'ambiguous' then
            'the acquisition matches several stored acquisitions equally well: '
            || array_to_string(m.candidates, ', ')
        when a.line = f.first_line and f.first_line = c.first_line then null
        when a.line = f.first_line then
            'describes the same stored acquisition as an earlier row'
        else 'repeats the acquisition of an earlier row'
    end as reason,
    m.outcome as match
from import_acquisition a
left join import_file_acquisition f on a.problem is null and f.target_id = a.target_id
    and f.deal_key = a.deal_key
    and f.source_id = (select id from import_source s where s.ord = a.source_ord)
left join import_acquisition_match m on m.first_line = f.first_line
left join import_acquisition_claim c on c.source_id = m.source_id
    and c.acquisition_id = m.acquisition_id
order by a.line
"""


async def stage(
    conn: Connection,
    rows: list[Row],
    file: str,
    source_ord: dict[Source, int],
    sources: dict[Source, uuid.UUID],
) -> None:
    await conn.execute(_STAGING)
    records = []
    for row in rows:
        ok = row.problem is None and row.source is not None
        assert not ok or (row.company_id is not None and row.acquirer_id is not None)
        source = row.source if ok else None
        new_id = (
            uuid.uuid5(_NAMESPACE, f"{sources[source]}:{row.company_id}:{row.round_key}")
            if source is not None
            else None
        )
        price = row.amount if ok else None
        records.append(
            (
                row.line,
                row.problem,
                row.column,
                source_ord[source] if source is not None else None,
                row.company_id if ok else None,
                row.acquirer_id if ok else None,
                row.round_key,
                new_id,
                row.announced_on,
                row.announced_precision,
                *(
                    (price.qualifier, price.currency, price.low, price.high, price.usd)
                    if price is not None
                    else (None, None, None, None, None)
                ),
                row.usd_rate if price is not None else None,
                row.usd_rate_date if price is not None else None,
                row.status,
                row.stage,
                row.raw[:5000],
                f"{file}, line {row.line}",
            )
        )
    await conn.copy_records_to_table("import_acquisition", records=records, columns=list(_COLUMNS))


async def load(conn: Connection, tolerance_days: int) -> dict[str, int]:
    """Steps 1 to 4 above; new rows per table."""
    await conn.execute(
        "create temp table import_acquisition_touched (acquisition_id uuid) on commit drop"
    )
    await conn.execute(_FILE_ACQUISITIONS)
    await analyze(conn, "import_file_acquisition")
    await conn.execute(_MATCH, tolerance_days, MAX_AMOUNT_RATIO)
    await analyze(conn, "import_acquisition_match")
    acquisitions = inserted(await conn.execute(_INSERT_ACQUISITIONS))
    acquirers = inserted(await conn.execute(_INSERT_ACQUIRERS))
    await conn.execute(_CLAIMS)
    await analyze(conn, "import_acquisition_claim")
    updated = inserted(await conn.execute(_UPDATE_CLAIMS))
    claims = inserted(await conn.execute(_INSERT_CLAIMS))
    before = await conn.fetchval("select count(*) from status_events")
    await conn.fetchval(_REFRESH)
    events = await conn.fetchval("select count(*) from status_events") - before
    return {
        "acquisitions": acquisitions,
        "acquirers": acquirers,
        "claims": claims,
        "claims updated": updated,
        "status events": events,
    }


async def fetch_outcomes(
    conn: Connection,
) -> list[tuple[int, str | None, str, str | None, str | None]]:
    """(line, column, outcome, reason, match) of every staged row, in line order."""
    rows = await conn.fetch(_OUTCOMES)
    return [(r["line"], r["column_name"], r["outcome"], r["reason"], r["match"]) for r in rows]

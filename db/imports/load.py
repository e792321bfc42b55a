"""The set-based part of a mapped import: staging tables, then SQL from there.

The rows come staged with their entities resolved (`engine.py`). From there, in the
caller's transaction:

1. rows with the same source, company and round key are one *file round*;
2. each file round finds its stored round by the matching rule (below), or is new;
3. new rounds are inserted; each file round's claim is inserted, or updated when this
   source said something else before (a corrected file), or left alone when the same;
4. each investor gets its participation (added or found) and this source's claim on it;
5. every stored round whose claims changed is refreshed by the rule of migration 0005,
   all in one statement (`refresh_rounds`, migration 0095); a round made here holds its
   one claim's values already, and gets its events.

Matching a file round to a stored round: the same company; a compatible round type
(the same, or either is SERIES_UNKNOWN or OTHER); dates both absent, or both given and
no further apart than the coarser of the two precisions (a day 0, a month 31, a quarter
92, a year 366 days) plus the mapping's tolerance (31 days unless it says otherwise);
amounts, when both are given, within a factor of two of each other (in US dollars).
One candidate is the match. Of several, the one that is best on (same type, same date,
same amount), if it alone is; else the file round is ambiguous and its rows rejected.
A round this source created in an earlier import of the file (its id is derived from
the source, company and round key) is found first, by id.
"""

from db.infra.types import Connection

CATCH_ALL_TYPES = ("SERIES_UNKNOWN", "OTHER")
MAX_AMOUNT_RATIO = 2

STAGING = """
create temp table import_source (
    ord integer primary key,
    id uuid not null
) on commit drop;
create temp table import_row (
    line integer not null,
    problem text,
    problem_column text,
    source_ord integer,
    company_id uuid,
    has_round boolean not null,
    round_key text,
    new_round_id uuid,
    round_type round_type,
    label text,
    announced_on date,
    announced_precision date_precision,
    amount_qualifier amount_qualifier,
    amount_currency text,
    amount_low numeric,
    amount_high numeric,
    amount_usd numeric,
    usd_rate numeric,
    usd_rate_date date,
    status deal_status,
    stage deal_stage,
    quote text,
    attribution text
) on commit drop;
create temp table import_investor (
    line integer not null,
    ord integer not null,
    organization_id uuid,
    person_id uuid,
    is_lead boolean,
    share_qualifier amount_qualifier,
    share_currency text,
    share_low numeric,
    share_high numeric,
    share_usd numeric
) on commit drop;
"""

ROW_COLUMNS = (
    "line", "problem", "problem_column", "source_ord", "company_id", "has_round", "round_key",
    "new_round_id", "round_type", "label", "announced_on", "announced_precision",
    "amount_qualifier", "amount_currency", "amount_low", "amount_high", "amount_usd",
    "usd_rate", "usd_rate_date", "status", "stage", "quote", "attribution",
)  # fmt: skip
INVESTOR_COLUMNS = (
    "line", "ord", "organization_id", "person_id", "is_lead", "share_qualifier",
    "share_currency", "share_low", "share_high", "share_usd",
)  # fmt: skip

# One file round per (source, company, round key): its first row gives the values.
_FILE_ROUNDS = """
create temp table import_file_round on commit drop as
select distinct on (r.source_ord, r.company_id, r.round_key)
    r.line as first_line, s.id as source_id, r.source_ord, r.company_id, r.round_key,
    r.new_round_id, r.round_type, r.label, r.announced_on, r.announced_precision,
    case when r.amount_qualifier is not null then
        row(r.amount_qualifier, r.amount_currency, r.amount_low, r.amount_high,
            r.amount_usd)::money_estimate
    end as amount,
    r.usd_rate, r.usd_rate_date, r.status, r.stage, r.quote, r.attribution
from import_row r
join import_source s on s.ord = r.source_ord
where r.problem is null and r.has_round
order by r.source_ord, r.company_id, r.round_key, r.line
"""

_MATCH = """
create temp table import_round_match on commit drop as
with candidate as (
    select f.first_line, r.id as round_id,
        (r.round_type = f.round_type)::int
            + (r.announced_on is not distinct from f.announced_on)::int
            + coalesce(((r.amount).usd = (f.amount).usd)::int, 0) as score
    from import_file_round f
    join rounds r on r.company_id = f.company_id
    where not exists (select from rounds own where own.id = f.new_round_id)
      -- Rounds of this very file (made by an earlier import of it) are other file rounds.
      and r.id not in (select new_round_id from import_file_round)
      and (r.round_type = f.round_type or r.round_type = any($1::round_type[])
           or f.round_type = any($1::round_type[]))
      and case
          when r.announced_on is null and f.announced_on is null then true
          when r.announced_on is null or f.announced_on is null then false
          else abs(r.announced_on - f.announced_on) <= $2::int + greatest(
              case r.announced_precision when 'MONTH' then 31 when 'QUARTER' then 92
                  when 'YEAR' then 366 else 0 end,
              case f.announced_precision when 'MONTH' then 31 when 'QUARTER' then 92
                  when 'YEAR' then 366 else 0 end)
      end
      and ((r.amount).usd is null or (f.amount).usd is null
           or least((r.amount).usd, (f.amount).usd) * $3
              >= greatest((r.amount).usd, (f.amount).usd))
), ranked as (
    select first_line, round_id, score,
        rank() over (partition by first_line order by score desc) as place,
        count(*) over (partition by first_line, score) as tied,
        count(*) over (partition by first_line) as candidates
    from candidate
), picked as (
    select first_line,
        max(candidates) as candidates,
        (array_agg(round_id order by round_id) filter (where place = 1 and tied = 1))[1]
            as round_id,
        array_agg(public_id('rnd', round_id) order by round_id) filter (where place = 1)
            as best
    from ranked
    group by first_line
)
select f.first_line, f.source_id,
    case
        when own.id is not null then 'own'
        when p.first_line is null then 'created'
        when p.round_id is null then 'ambiguous'
        else 'matched'
    end as outcome,
    coalesce(own.id, p.round_id, case when p.first_line is null then f.new_round_id end)
        as round_id,
    p.best as candidates
from import_file_round f
left join rounds own on own.id = f.new_round_id
left join picked p on p.first_line = f.first_line
"""

_INSERT_ROUNDS = """
insert into rounds (id, company_id, round_type, reported_label, status, stage, announced_on,
                    announced_precision, amount)
select f.new_round_id, f.company_id, f.round_type, f.label, f.status, f.stage,
    f.announced_on, f.announced_precision, f.amount
from import_file_round f
join import_round_match m on m.first_line = f.first_line
where m.outcome = 'created'
"""

# Two file rounds of one source that land on one stored round: the first speaks.
_ROUND_CLAIMS = """
create temp table import_round_claim on commit drop as
select distinct on (m.source_id, m.round_id) m.first_line, m.source_id, m.round_id,
    f.status, f.stage, f.amount, f.announced_on, f.announced_precision, f.usd_rate,
    f.usd_rate_date, f.quote, f.attribution
from import_round_match m
join import_file_round f on f.first_line = m.first_line
where m.round_id is not null
order by m.source_id, m.round_id, m.first_line
"""

# A source says one thing about a round: what it said before is updated, not doubled.
_UPDATE_ROUND_CLAIMS = """
with changed as (
    update claims c set status = x.status, stage = x.stage, amount = x.amount,
        announced_on = x.announced_on, announced_precision = x.announced_precision,
        usd_rate = x.usd_rate, usd_rate_date = x.usd_rate_date, quote = x.quote,
        attribution = x.attribution, recorded_at = now()
    from import_round_claim x
    where c.source_id = x.source_id and c.round_id = x.round_id and c.participation_id is null
      and (c.status, c.stage, c.amount, c.announced_on, c.announced_precision)
          is distinct from (x.status, x.stage, x.amount, x.announced_on, x.announced_precision)
    returning c.round_id
)
insert into import_touched select round_id from changed
"""

_INSERT_ROUND_CLAIMS = """
with added as (
    insert into claims (source_id, round_id, quote, attribution, status, stage, amount,
                        announced_on, announced_precision, usd_rate, usd_rate_date)
    select x.source_id, x.round_id, x.quote, x.attribution, x.status, x.stage, x.amount,
        x.announced_on, x.announced_precision, x.usd_rate, x.usd_rate_date
    from import_round_claim x
    where not exists (select from claims c where c.source_id = x.source_id
                      and c.round_id = x.round_id and c.participation_id is null)
    order by x.first_line
    returning round_id
)
insert into import_touched select round_id from added
"""

# Each row's investors, on the round its file round landed on.
_INVESTOR_ROUNDS = """
create temp table import_investor_round on commit drop as
select distinct on (m.source_id, m.round_id, i.organization_id, i.person_id)
    i.line, i.ord, m.source_id, m.round_id, i.organization_id, i.person_id, i.is_lead,
    case when i.share_qualifier is not null then
        row(i.share_qualifier, i.share_currency, i.share_low, i.share_high,
            i.share_usd)::money_estimate
    end as share,
    f.usd_rate, f.usd_rate_date, f.status, f.stage, r.quote, r.attribution
from import_investor i
join import_row r on r.line = i.line
join import_file_round f on f.source_ord = r.source_ord and f.company_id = r.company_id
    and f.round_key = r.round_key
join import_round_match m on m.first_line = f.first_line
where r.problem is null and m.round_id is not null
order by m.source_id, m.round_id, i.organization_id, i.person_id, i.line, i.ord
"""

_INSERT_PARTICIPATIONS = """
insert into participations (round_id, investor_organization_id, investor_person_id, amount,
                            is_lead, status, stage)
select round_id, organization_id, person_id, share, coalesce(is_lead, false), status, stage
from import_investor_round
order by line, ord
on conflict do nothing
"""

_PARTICIPATION_CLAIMS = """
create temp table import_participation_claim on commit drop as
select x.*, p.id as participation_id
from import_investor_round x
join participations p on p.round_id = x.round_id
    and (p.investor_organization_id = x.organization_id or p.investor_person_id = x.person_id)
"""

_UPDATE_PARTICIPATION_CLAIMS = """
with changed as (
    update claims c set status = x.status, stage = x.stage, amount = x.share,
        is_lead = x.is_lead, usd_rate = x.usd_rate, usd_rate_date = x.usd_rate_date,
        quote = x.quote, attribution = x.attribution, recorded_at = now()
    from import_participation_claim x
    where c.source_id = x.source_id and c.round_id = x.round_id
      and c.participation_id = x.participation_id
      and (c.status, c.stage, c.amount, c.is_lead)
          is distinct from (x.status, x.stage, x.share, x.is_lead)
    returning c.round_id
)
insert into import_touched select round_id from changed
"""

_INSERT_PARTICIPATION_CLAIMS = """
with added as (
    insert into claims (source_id, round_id, participation_id, quote, attribution, status,
                        stage, amount, is_lead, usd_rate, usd_rate_date)
    select x.source_id, x.round_id, x.participation_id, x.quote, x.attribution, x.status,
        x.stage, x.share, x.is_lead,
        case when x.share is not null then x.usd_rate end,
        case when x.share is not null then x.usd_rate_date end
    from import_participation_claim x
    where not exists (select from claims c where c.source_id = x.source_id
                      and c.round_id = x.round_id and c.participation_id = x.participation_id)
    order by x.line, x.ord
    returning round_id
)
insert into import_touched select round_id from added
"""

# A round this import created has one claim, this source's, and was inserted with its
# values: what the rule derives from that claim. It needs only its status events (of
# the round, and of each participation), as `refresh_round` would write them. Every
# other round whose claims changed is refreshed by the rule.
_CREATED_EVENTS = """
insert into status_events (round_id, participation_id, at, status, stage, source_id,
                           claim_id)
select c.round_id, c.participation_id, coalesce(s.published_at, c.recorded_at), c.status,
    c.stage, c.source_id, c.id
from import_round_match m
join claims c on c.round_id = m.round_id and c.source_id = m.source_id
join sources s on s.id = c.source_id
where m.outcome = 'created'
order by c.round_id, c.participation_id nulls first
"""

_REFRESH = """
select refresh_rounds(array(
    select distinct round_id from import_touched
    where round_id not in (select round_id from import_round_match where outcome = 'created')
), null)
"""

# Each row's outcome. Rejected: a problem of its own (parse, entity), or its file round is
# ambiguous. Merged: it repeats an earlier row (same file round, no investor that the
# earlier rows of that round did not name), or its file round lands on a stored round an
# earlier file round of this source already spoke for. Imported: everything else.
_OUTCOMES = """
create temp table import_outcome on commit drop as
with row_round as (
    select r.line, r.problem, r.problem_column, r.has_round, f.first_line, m.outcome as match,
        m.candidates, m.round_id, m.source_id, c.first_line as claim_line,
        min(r.line) over (partition by r.company_id) as company_first_line
    from import_row r
    left join import_file_round f on r.problem is null and f.source_ord = r.source_ord
        and f.company_id = r.company_id and f.round_key = r.round_key
    left join import_round_match m on m.first_line = f.first_line
    left join import_round_claim c on c.source_id = m.source_id and c.round_id = m.round_id
), new_investor as (
    select distinct i.line from import_investor_round i
)
select x.line, x.problem_column as column_name,
    case
        when x.problem is not null or x.match = 'ambiguous' then 'rejected'
        when not x.has_round and x.line > x.company_first_line then 'merged'
        when not x.has_round then 'imported'
        when x.line = x.first_line and x.first_line = x.claim_line then 'imported'
        when exists (select from new_investor n where n.line = x.line) then 'imported'
        else 'merged'
    end as outcome,
    case
        when x.problem is not null then x.problem
        when x.match = 'ambiguous' then
            'the round matches several stored rounds equally well: '
            || array_to_string(x.candidates, ', ')
        when not x.has_round and x.line > x.company_first_line then
            'repeats the company of an earlier row'
        when x.line = x.first_line and x.first_line = x.claim_line then null
        when exists (select from new_investor n where n.line = x.line) then null
        when x.line = x.first_line then 'describes the same stored round as an earlier row'
        else 'repeats the round of an earlier row'
    end as reason,
    x.match
from row_round x
"""


def inserted(status: str) -> int:
    """The row count of an INSERT or UPDATE's command tag ("INSERT 0 42", "UPDATE 3")."""
    return int(status.rsplit(" ", 1)[1])


async def analyze(conn: Connection, *tables: str) -> None:
    """Statistics for temporary tables, which autovacuum never sees: without them the
    planner guesses their sizes, and once took a per-row index scan of every claim of
    the source (81 s instead of 1 s for 80,000 rows)."""
    for table in tables:
        # Our own table names (the constants of this module), never input.
        await conn.execute(f"analyze {table}")


async def match_rounds(conn: Connection, tolerance_days: int) -> None:
    """Steps 1 and 2 above: the file rounds, each with its stored round or none."""
    await conn.execute("create temp table import_touched (round_id uuid) on commit drop")
    await conn.execute(_FILE_ROUNDS)
    await analyze(conn, "import_file_round")
    await conn.execute(_MATCH, list(CATCH_ALL_TYPES), tolerance_days, MAX_AMOUNT_RATIO)
    await analyze(conn, "import_round_match")


async def write_rounds(conn: Connection, *, round_claims: bool = True) -> dict[str, int]:
    """Steps 3 to 5 above; new rows per table. Without `round_claims` (a match-only file)
    the rows add participations and their claims, and nothing of the rounds'."""
    rounds = inserted(await conn.execute(_INSERT_ROUNDS))
    await conn.execute(_ROUND_CLAIMS)
    await analyze(conn, "import_round_claim")
    updated = claims = 0
    if round_claims:
        updated = inserted(await conn.execute(_UPDATE_ROUND_CLAIMS))
        claims = inserted(await conn.execute(_INSERT_ROUND_CLAIMS))
    await conn.execute(_INVESTOR_ROUNDS)
    await analyze(conn, "import_investor_round")
    participations = inserted(await conn.execute(_INSERT_PARTICIPATIONS))
    await conn.execute(_PARTICIPATION_CLAIMS)
    await analyze(conn, "import_participation_claim")
    updated += inserted(await conn.execute(_UPDATE_PARTICIPATION_CLAIMS))
    claims += inserted(await conn.execute(_INSERT_PARTICIPATION_CLAIMS))
    events = inserted(await conn.execute(_CREATED_EVENTS))
    await conn.fetchval(_REFRESH)
    return {
        "rounds": rounds,
        "claims": claims,
        "claims updated": updated,
        "participations": participations,
        "status events": events,
    }


# A match-only file creates no round: its file rounds that found none are unmatched.
# Their rows, and those of ambiguous file rounds, are rejected before the file's
# investors are resolved, so that none is made for a rejected row. (The update's
# effect is not visible to the select, which reads the match as it was, 'created'; a
# data-modifying WITH runs whether read or not.)
_REJECT_UNMATCHED = """
with unmatched as (
    update import_round_match set outcome = 'unmatched', round_id = null
    where outcome = 'created'
)
select r.line,
    case when m.outcome = 'ambiguous' then
        'the round matches several stored rounds equally well: '
        || array_to_string(m.candidates, ', ')
    else 'no matching round' end as reason
from import_row r
join import_file_round f on f.source_ord = r.source_ord and f.company_id = r.company_id
    and f.round_key = r.round_key
join import_round_match m on m.first_line = f.first_line
where r.problem is null and m.outcome in ('created', 'ambiguous')
order by r.line
"""


async def reject_unmatched(conn: Connection) -> list[tuple[int, str]]:
    """(line, reason) of the rows whose round matched no stored round, or several
    (match-only)."""
    return [(r["line"], r["reason"]) for r in await conn.fetch(_REJECT_UNMATCHED)]


async def set_problems(conn: Connection, problems: list[tuple[int, str, str | None]]) -> None:
    """Rows found unusable after staging (unmatched, an ambiguous investor) say so."""
    await conn.execute(
        """
        update import_row r set problem = x.problem, problem_column = x.problem_column
        from unnest($1::int[], $2::text[], $3::text[]) as x(line, problem, problem_column)
        where r.line = x.line and r.problem is distinct from x.problem
        """,
        [p[0] for p in problems],
        [p[1] for p in problems],
        [p[2] for p in problems],
    )


async def fetch_outcomes(
    conn: Connection,
) -> list[tuple[int, str | None, str, str | None, str | None]]:
    """(line, column, outcome, reason, round match) of every staged row, in line order."""
    await conn.execute(_OUTCOMES)
    rows = await conn.fetch(
        "select line, column_name, outcome, reason, match from import_outcome order by line"
    )
    return [(r["line"], r["column_name"], r["outcome"], r["reason"], r["match"]) for r in rows]

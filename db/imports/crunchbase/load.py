"""The set-based part of the import: COPY into staging tables, then SQL from there.

Each staged row gets exactly one outcome in a `crunchbase_*_outcome` table:
imported, merged (a duplicate of an earlier row of the same file) or rejected, with
a reason. The writes to the domain tables take the imported rows only, and skip
what is there already (a round by its id, derived from its natural key; an
organization or person by its slug; a participation by its round and investor), so
that running the import again writes nothing. Everything runs in the caller's
transaction; the staging tables go with it.
"""

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from db import entities
from db.imports.crunchbase.parse import AcquisitionRow, CompanyRow, InvestmentRow, RoundRow
from db.infra.types import Connection

# An investment with no round on its date goes to the round of its company with its very
# amount this many days from it, if there is one only.
SALVAGE_WINDOW_DAYS = 31
# Fixed, so that every import of the set cites the same source.
SOURCE_ID = uuid.UUID("0c7a1f3e-2013-4c0b-9b1e-c2b5e7a0d001")
SOURCE_TITLE = (
    "CrunchBase 2013: October 2013 export (crunchbase-companies.csv, crunchbase-rounds.csv, "
    "crunchbase-acquisitions.csv) and December 2013 snapshot (investments.csv)"
)

_STAGING = """
create temp table crunchbase_company (
    line integer not null,
    permalink text not null,
    slug text,
    slug_is_permalink boolean not null,
    name text,
    category text,
    country_code text,
    city text,
    founded_on date,
    problem text
) on commit drop;
create temp table crunchbase_round (
    line integer not null,
    permalink text not null,
    company_key text,
    round_type text,
    label text not null,
    funded_on date,
    announced_on date,
    amount numeric,
    round_id uuid,
    quote text not null,
    problem text
) on commit drop;
create temp table crunchbase_investment (
    line integer not null,
    company_key text,
    investor_slug text,
    investor_name text,
    funded_on date,
    amount numeric,
    problem text
) on commit drop;
create temp table crunchbase_acquisition (
    line integer not null,
    target_permalink text not null,
    target_slug text,
    target_name text,
    target_category text,
    target_country_code text,
    target_city text,
    acquirer_permalink text not null,
    acquirer_slug text,
    acquirer_name text,
    acquirer_category text,
    acquirer_country_code text,
    acquirer_city text,
    acquired_on date,
    price numeric,
    currency text,
    usd numeric,
    usd_rate numeric,
    usd_rate_date date,
    acquisition_id uuid,
    quote text not null,
    problem text
) on commit drop;
"""


async def stage(
    conn: Connection,
    companies: Sequence[CompanyRow],
    rounds: Sequence[RoundRow],
    investments: Sequence[InvestmentRow],
    acquisitions: Sequence[AcquisitionRow],
) -> None:
    await conn.execute(_STAGING)
    for table, rows, columns in (
        ("crunchbase_company", companies, CompanyRow._fields),
        ("crunchbase_round", rounds, RoundRow._fields),
        ("crunchbase_investment", investments, InvestmentRow._fields),
        ("crunchbase_acquisition", acquisitions, AcquisitionRow._fields),
    ):
        await conn.copy_records_to_table(table, records=rows, columns=list(columns))


# A company's first row per permalink is the one imported; when two permalinks
# normalize to one slug, the one that already is that slug keeps it, else the first
# in the file, and the other is rejected (its rounds with it).
_COMPANY_OUTCOME = """
create temp table crunchbase_company_outcome on commit drop as
with first_row as (
    select distinct on (permalink) permalink, line, slug, slug_is_permalink
    from crunchbase_company
    where problem is null
    order by permalink, line
), slug_owner as (
    select distinct on (slug) slug, line
    from first_row
    order by slug, not slug_is_permalink, line
)
select c.line, c.permalink, c.slug,
    case
        when c.problem is not null then 'rejected'
        when c.line <> f.line then 'merged'
        when c.line <> o.line then 'rejected'
        else 'imported'
    end as outcome,
    case
        when c.problem is not null then c.problem
        when c.line <> f.line then 'duplicate permalink'
        when c.line <> o.line then 'permalink normalizes to the slug of another permalink'
    end as reason
from crunchbase_company c
left join first_row f on f.permalink = c.permalink
left join slug_owner o on o.slug = c.slug
"""

# An organization that already has the slug (the demo set's "amazon", an earlier
# import) is the same company: it is used as it is, never overwritten.
_INSERT_COMPANIES = """
insert into organizations (slug, name, country_code, city, categories, founded_on,
                           founded_precision)
select c.slug, c.name, c.country_code, c.city,
    case when c.category is null then '{}' else array[c.category] end,
    c.founded_on, case when c.founded_on is not null then 'DAY'::date_precision end
from crunchbase_company c
join crunchbase_company_outcome o on o.line = c.line
where o.outcome = 'imported'
on conflict (slug) do nothing
"""

_COMPANY_ORGANIZATION = """
create temp table crunchbase_company_organization on commit drop as
select o.permalink, org.id as organization_id
from crunchbase_company_outcome o
join organizations org on org.slug = o.slug
where o.outcome = 'imported'
"""

# Rows with the same natural key (company, type, date, amount), hence the same round
# id, are one round: the first is imported, the others merged into it.
_ROUND_OUTCOME = """
create temp table crunchbase_round_outcome on commit drop as
select r.line, r.round_id, co.organization_id,
    case
        when r.problem is not null or co.organization_id is null then 'rejected'
        when r.line > min(r.line) over (partition by r.round_id) then 'merged'
        else 'imported'
    end as outcome,
    case
        when r.problem is not null then r.problem
        when co.organization_id is null then
            'company_permalink names no company imported from crunchbase-companies.csv'
        when r.line > min(r.line) over (partition by r.round_id) then
            'duplicate round: same company, type, date and amount'
    end as reason
from crunchbase_round r
left join crunchbase_company_organization co on co.permalink = r.permalink
"""

# Imported rounds that are not in the database yet, with the ids of their claims
# drawn up front so that the claim and its status event are plain inserts. Imports
# take turns (an advisory lock), so no other one can add the same round meanwhile.
_NEW_ROUNDS = """
create temp table crunchbase_new_round on commit drop as
select r.round_id as id, gen_random_uuid() as claim_id, r.line, o.organization_id,
    r.round_type::round_type as round_type, r.label, r.announced_on,
    case when r.amount is not null
        then row('EXACT', 'USD', r.amount, r.amount, r.amount)::money_estimate
    end as amount,
    r.quote
from crunchbase_round r
join crunchbase_round_outcome o on o.line = r.line
where o.outcome = 'imported'
  and not exists (select from rounds x where x.id = r.round_id)
"""

_INSERT_ROUNDS = """
insert into rounds (id, company_id, round_type, reported_label, status, stage, announced_on,
                    announced_precision, amount)
select id, organization_id, round_type, label, 'REPORTED', 'CLOSED', announced_on,
    case when announced_on is not null then 'DAY'::date_precision end, amount
from crunchbase_new_round
"""

_INSERT_CLAIMS = """
insert into claims (id, source_id, round_id, quote, attribution, status, stage, amount,
                    announced_on, announced_precision, recorded_at)
select claim_id, $1, id, quote, 'crunchbase-rounds.csv, record ' || line, 'REPORTED',
    'CLOSED', amount, announced_on,
    case when announced_on is not null then 'DAY'::date_precision end, now()
from crunchbase_new_round
"""

# At the round's date (midnight UTC) when it has one, else when it was recorded.
_INSERT_STATUS_EVENTS = """
insert into status_events (round_id, at, status, stage, source_id, claim_id, recorded_at)
select id, coalesce(announced_on::timestamp at time zone 'UTC', now()), 'REPORTED', 'CLOSED',
    $1, claim_id, now()
from crunchbase_new_round
"""

# The rounds an investment can be matched to: imported ones, by the company's name key
# (`entity_name_key`: "MongoDB, Inc." and "MongoDB Inc." are one name) and the date as
# given.
_ROUND_MATCH = """
create temp table crunchbase_round_match on commit drop as
select entity_name_key(r.company_key) as company_key, r.funded_on, r.amount, r.round_id
from crunchbase_round r
join crunchbase_round_outcome o on o.line = r.line
where o.outcome = 'imported' and r.company_key is not null and r.funded_on is not null
"""

# Who each investor is, by the rule of db/entities.py; filled by `_resolve_investors`.
_INVESTOR_IDENTITY = """
create temp table crunchbase_investor_identity (
    name text primary key,
    name_key text,
    step text not null,
    kind text,
    entity_id uuid,
    candidates text
) on commit drop
"""

# An investment goes to the one round of its company on its date; when the company
# raised more than once that day, to the one with its amount. With no round on its date,
# to the one round of its company with its very amount within a month (names and dates
# were edited between the two exports). An investor that could be two organizations is
# rejected, naming them. The first row per round and investor is imported, later ones
# merged into it.
_INVESTMENT_OUTCOME = """
create temp table crunchbase_investment_outcome on commit drop as
with investment as (
    select i.line, i.problem, i.investor_name, i.funded_on, i.amount,
        entity_name_key(i.company_key) as company_key
    from crunchbase_investment i
), same_day as (
    select i.line, m.round_id, m.amount = i.amount as same_amount
    from investment i
    join crunchbase_round_match m on m.company_key = i.company_key and m.funded_on = i.funded_on
    where i.problem is null
), within_a_month as (
    select i.line, m.round_id, true as same_amount
    from investment i
    join crunchbase_round_match m on m.company_key = i.company_key and m.amount = i.amount
        and abs(m.funded_on - i.funded_on) <= $1
    where i.problem is null and i.amount is not null
      and not exists (select from same_day d where d.line = i.line)
), candidate as (
    select * from same_day union all select * from within_a_month
), pick as (
    select line, count(*) as candidates,
        case
            when count(*) = 1 then (array_agg(round_id))[1]
            when count(*) filter (where same_amount) = 1
                then (array_agg(round_id) filter (where same_amount))[1]
        end as round_id
    from candidate
    group by line
), matched as (
    select i.line, i.problem, i.investor_name, p.candidates, p.round_id, who.step,
        who.candidates as investor_candidates,
        min(i.line) over (partition by p.round_id,
                          coalesce(who.entity_id::text, 'new:' || who.name_key)) as first_line
    from investment i
    left join pick p on p.line = i.line
    left join crunchbase_investor_identity who on who.name = i.investor_name
)
select line, investor_name, round_id,
    case
        when problem is not null or round_id is null or step = 'ambiguous' then 'rejected'
        when line > first_line then 'merged'
        else 'imported'
    end as outcome,
    case
        when problem is not null then problem
        when candidates is null then 'no matching round'
        when round_id is null then
            'ambiguous: the company has several rounds on that date, the amount does not tell'
        when step = 'ambiguous' then
            'ambiguous investor: could be any of ' || investor_candidates
        when line > first_line then 'duplicate: same investor in the same round'
    end as reason
from matched
"""

# The file's amount_usd is the round's total (every investor of a round carries the
# same figure), so a participation's own amount is unknown.
_INSERT_PARTICIPATIONS = """
insert into participations (round_id, investor_organization_id, investor_person_id, status,
                            stage)
select o.round_id,
    case when who.kind = 'organization' then who.entity_id end,
    case when who.kind = 'person' then who.entity_id end,
    'REPORTED', 'CLOSED'
from crunchbase_investment_outcome o
join crunchbase_investor_identity who on who.name = o.investor_name
where o.outcome = 'imported'
on conflict do nothing
"""

# Rows with the same natural key (company, acquirer, date, price), hence the same id, are
# one acquisition: the first is imported, the others merged into it.
_ACQUISITION_OUTCOME = """
create temp table crunchbase_acquisition_outcome on commit drop as
select a.line, a.acquisition_id,
    case
        when a.problem is not null then 'rejected'
        when a.line > min(a.line) over (partition by a.acquisition_id) then 'merged'
        else 'imported'
    end as outcome,
    case
        when a.problem is not null then a.problem
        when a.line > min(a.line) over (partition by a.acquisition_id) then
            'duplicate acquisition: same company, acquirer, date and price'
    end as reason
from crunchbase_acquisition a
"""

# The organizations the imported acquisitions name, by the slug of their permalink as
# for companies: one that has the slug already (a company of the companies file, the
# demo set's "amazon") is that organization, used as it is; the others (the companies
# file lists funded US companies only) are made from the first row naming them.
_INSERT_ACQUISITION_ORGANIZATIONS = """
insert into organizations (slug, name, country_code, city, categories)
select distinct on (slug) slug, name, country_code, city,
    case when category is null then '{}' else array[category] end
from (
    select a.line, 0 as side, a.target_slug as slug, a.target_name as name,
        a.target_category as category, a.target_country_code as country_code,
        a.target_city as city
    from crunchbase_acquisition a
    union all
    select a.line, 1, a.acquirer_slug, a.acquirer_name, a.acquirer_category,
        a.acquirer_country_code, a.acquirer_city
    from crunchbase_acquisition a
) named
join crunchbase_acquisition_outcome o on o.line = named.line
where o.outcome = 'imported'
  and not exists (select from crunchbase_acquisition_party p where p.slug = named.slug)
order by slug, named.line, side
on conflict (slug) do nothing
"""

# The parties of imported acquisitions, each (slug, name) as the first row gives it.
_ACQUISITION_PARTIES = """
select distinct on (slug) slug, name
from (
    select a.line, 0 as side, a.target_slug as slug, a.target_name as name
    from crunchbase_acquisition a
    union all
    select a.line, 1, a.acquirer_slug, a.acquirer_name from crunchbase_acquisition a
) named
join crunchbase_acquisition_outcome o on o.line = named.line
where o.outcome = 'imported' and named.slug is not null and named.name is not null
order by slug, named.line, side
"""

# Imported acquisitions not in the database yet, with their claims' ids drawn up front.
_NEW_ACQUISITIONS = """
create temp table crunchbase_new_acquisition on commit drop as
select a.acquisition_id as id, gen_random_uuid() as claim_id, a.line,
    t.organization_id as target_id, q.organization_id as acquirer_id, a.acquired_on,
    case when a.price is not null
        then row('EXACT', a.currency, a.price, a.price, a.usd)::money_estimate
    end as price,
    a.usd_rate, a.usd_rate_date, a.quote
from crunchbase_acquisition a
join crunchbase_acquisition_outcome o on o.line = a.line
join crunchbase_acquisition_party t on t.slug = a.target_slug
join crunchbase_acquisition_party q on q.slug = a.acquirer_slug
where o.outcome = 'imported'
  and not exists (select from acquisitions x where x.id = a.acquisition_id)
"""

# REPORTED (a data vendor is no party to the deal) and CLOSED (the file lists deals
# done); the file's date is the announcement's, as funded_at is for rounds.
_INSERT_ACQUISITIONS = """
insert into acquisitions (id, target_id, status, stage, announced_on, announced_precision,
                          price)
select id, target_id, 'REPORTED', 'CLOSED', acquired_on,
    case when acquired_on is not null then 'DAY'::date_precision end, price
from crunchbase_new_acquisition
"""

_INSERT_ACQUIRERS = """
insert into acquirers (acquisition_id, organization_id, is_lead)
select id, acquirer_id, true from crunchbase_new_acquisition
"""

_INSERT_ACQUISITION_CLAIMS = """
insert into claims (id, source_id, acquisition_id, quote, attribution, status, stage, amount,
                    announced_on, announced_precision, usd_rate, usd_rate_date, recorded_at)
select claim_id, $1, id, quote, 'crunchbase-acquisitions.csv, record ' || line, 'REPORTED',
    'CLOSED', price, acquired_on,
    case when acquired_on is not null then 'DAY'::date_precision end,
    usd_rate, usd_rate_date, now()
from crunchbase_new_acquisition
"""

_INSERT_ACQUISITION_EVENTS = """
insert into status_events (acquisition_id, at, status, stage, source_id, claim_id,
                           recorded_at)
select id, coalesce(acquired_on::timestamp at time zone 'UTC', now()), 'REPORTED', 'CLOSED',
    $1, claim_id, now()
from crunchbase_new_acquisition
"""

_INSERT_SOURCE = """
insert into sources (id, publisher, title, language, kind)
values ($1, 'CrunchBase', $2, 'en', 'DATA_VENDOR')
on conflict (id) do nothing
"""

_OUTCOME_TABLES = {
    "crunchbase-companies.csv": "crunchbase_company_outcome",
    "crunchbase-rounds.csv": "crunchbase_round_outcome",
    "investments.csv": "crunchbase_investment_outcome",
    "crunchbase-acquisitions.csv": "crunchbase_acquisition_outcome",
}


def _inserted(status: str) -> int:
    """The row count of an INSERT's command tag ("INSERT 0 42")."""
    return int(status.rsplit(" ", 1)[1])


async def load_companies(conn: Connection) -> dict[str, int]:
    await conn.execute(_COMPANY_OUTCOME)
    organizations = _inserted(await conn.execute(_INSERT_COMPANIES))
    await conn.execute(_COMPANY_ORGANIZATION)
    return {"organizations": organizations}


async def load_rounds(conn: Connection) -> dict[str, int]:
    sources = _inserted(await conn.execute(_INSERT_SOURCE, SOURCE_ID, SOURCE_TITLE))
    await conn.execute(_ROUND_OUTCOME)
    await conn.execute(_NEW_ROUNDS)
    rounds = _inserted(await conn.execute(_INSERT_ROUNDS))
    claims = _inserted(await conn.execute(_INSERT_CLAIMS, SOURCE_ID))
    status_events = _inserted(await conn.execute(_INSERT_STATUS_EVENTS, SOURCE_ID))
    await conn.execute(_ROUND_MATCH)
    return {
        "sources": sources,
        "rounds": rounds,
        "claims": claims,
        "status_events": status_events,
    }


async def load_investments(conn: Connection) -> tuple[dict[str, int], Counter[str]]:
    """Participations, with new rows per table and how many investor names each step of
    the entity-resolution rule settled."""
    steps = await _resolve_investors(conn)
    await conn.execute(_INVESTMENT_OUTCOME, SALVAGE_WINDOW_DAYS)
    organizations, aliases = await _create_investors(conn)
    return {
        "organizations": organizations,
        "organization_aliases": aliases,
        "participations": _inserted(await conn.execute(_INSERT_PARTICIPATIONS)),
    }, steps


async def _resolve_acquisition_parties(conn: Connection) -> None:
    """The organizations an acquisition names, found by the entity-resolution rule (its
    slug with an agreeing name, its name, an alias, a fuzzy match): "American Express"
    bought by permalink `americanexpress` is the investor `american-express` made from
    investments.csv, not a second one. A name the rule cannot settle (new, or ambiguous)
    goes by its permalink's slug, as for companies."""
    await conn.execute(
        "create temp table crunchbase_acquisition_party"
        " (slug text primary key, organization_id uuid not null) on commit drop"
    )
    parties = await conn.fetch(_ACQUISITION_PARTIES)
    found = await entities.resolve(
        conn,
        [entities.Mention(r["name"], slug=r["slug"], kind=entities.ORGANIZATION) for r in parties],
    )
    await conn.copy_records_to_table(
        "crunchbase_acquisition_party",
        records=[
            (r["slug"], f.entity_id)
            for r, f in zip(parties, found, strict=True)
            if f.entity_id is not None
        ],
        columns=["slug", "organization_id"],
    )


async def _resolve_investors(conn: Connection) -> Counter[str]:
    """Every investor name of a usable row, resolved (nothing created yet)."""
    await conn.execute(_INVESTOR_IDENTITY)
    names = [
        r["investor_name"]
        for r in await conn.fetch(
            "select investor_name from crunchbase_investment where problem is null"
            " group by investor_name order by min(line)"
        )
    ]
    found = await entities.resolve(conn, [entities.Mention(n) for n in names])
    await conn.copy_records_to_table(
        "crunchbase_investor_identity",
        records=[
            (n, r.step, r.kind, r.entity_id, ", ".join(r.candidates) or None)
            for n, r in zip(names, found, strict=True)
        ],
        columns=["name", "step", "kind", "entity_id", "candidates"],
    )
    await conn.execute("update crunchbase_investor_identity set name_key = entity_name_key(name)")
    return Counter(r.step for r in found)


async def _create_investors(conn: Connection) -> tuple[int, int]:
    """Organizations for the new investors of imported rows, one per name key, named by
    the first row naming it ("Sequoia Capital" before "sequoia capital"); the other
    spellings of a known investor become its aliases."""
    new = await conn.fetch(
        """
        select distinct on (who.name_key) who.name_key, who.name
        from crunchbase_investor_identity who
        join crunchbase_investment_outcome o on o.investor_name = who.name
        where o.outcome = 'imported' and who.step = 'new'
        order by who.name_key, o.line
        """
    )
    made = await entities.create(conn, [r["name"] for r in new])
    await conn.execute(
        """
        update crunchbase_investor_identity who set kind = 'organization', entity_id = x.id
        from unnest($1::text[], $2::uuid[]) as x(name_key, id)
        where who.step = 'new' and who.name_key = x.name_key
        """,
        [r["name_key"] for r in new],
        made,
    )
    spellings = await conn.fetch(
        """
        select distinct who.entity_id, who.name
        from crunchbase_investor_identity who
        join crunchbase_investment_outcome o on o.investor_name = who.name
        where o.outcome = 'imported' and who.kind = 'organization'
        """
    )
    aliases = await entities.add_aliases(conn, [(r["entity_id"], r["name"]) for r in spellings])
    return len(made), aliases


async def load_acquisitions(conn: Connection) -> dict[str, int]:
    await conn.execute(_ACQUISITION_OUTCOME)
    await _resolve_acquisition_parties(conn)
    organizations = _inserted(await conn.execute(_INSERT_ACQUISITION_ORGANIZATIONS))
    # The others by their slug: one join, not a lookup per acquisition and organization.
    await conn.execute(
        """
        insert into crunchbase_acquisition_party (slug, organization_id)
        select named.slug, o.id
        from (select target_slug as slug from crunchbase_acquisition
              union select acquirer_slug from crunchbase_acquisition) named
        join organizations o on o.slug = named.slug
        on conflict (slug) do nothing
        """
    )
    await conn.execute(_NEW_ACQUISITIONS)
    return {
        "organizations": organizations,
        "acquisitions": _inserted(await conn.execute(_INSERT_ACQUISITIONS)),
        "acquirers": _inserted(await conn.execute(_INSERT_ACQUIRERS)),
        "claims": _inserted(await conn.execute(_INSERT_ACQUISITION_CLAIMS, SOURCE_ID)),
        "status_events": _inserted(await conn.execute(_INSERT_ACQUISITION_EVENTS, SOURCE_ID)),
    }


class Outcome(NamedTuple):
    file: str
    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class Outcomes:
    # file → outcome ("imported", "merged", "rejected") → rows
    counts: dict[str, dict[str, int]]
    # (file, reason) → rows merged into another
    merged: dict[tuple[str, str], int]
    rejected: list[Outcome]


async def fetch_outcomes(conn: Connection) -> Outcomes:
    counts: dict[str, dict[str, int]] = {}
    merged: dict[tuple[str, str], int] = {}
    rejected: list[Outcome] = []
    for file, table in _OUTCOME_TABLES.items():
        # The table names are the constants above, never input.
        rows = await conn.fetch(
            f"select outcome, reason, count(*) as n from {table} group by outcome, reason"
        )
        counts[file] = {}
        for r in rows:
            counts[file][r["outcome"]] = counts[file].get(r["outcome"], 0) + r["n"]
            if r["outcome"] == "merged":
                merged[file, r["reason"]] = r["n"]
        rejects = await conn.fetch(
            f"select line, reason from {table} where outcome = 'rejected' order by line"
        )
        rejected.extend(Outcome(file, r["line"], r["reason"]) for r in rejects)
    return Outcomes(counts, merged, rejected)

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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from db.imports.crunchbase.parse import AcquisitionRow, CompanyRow, InvestmentRow, RoundRow
from db.infra.types import Connection

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

# The rounds an investment can be matched to: imported ones, by case-folded company
# name and the date as given.
_ROUND_MATCH = """
create temp table crunchbase_round_match on commit drop as
select r.company_key, r.funded_on, r.amount, r.round_id
from crunchbase_round r
join crunchbase_round_outcome o on o.line = r.line
where o.outcome = 'imported' and r.company_key is not null and r.funded_on is not null
"""

# An investment goes to the one round of its company on its date; when the company
# raised more than once that day, to the one with its amount. The first row per
# round and investor is imported, later ones merged into it.
_INVESTMENT_OUTCOME = """
create temp table crunchbase_investment_outcome on commit drop as
with candidate as (
    select i.line, m.round_id, m.amount = i.amount as same_amount
    from crunchbase_investment i
    join crunchbase_round_match m on m.company_key = i.company_key and m.funded_on = i.funded_on
    where i.problem is null
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
    select i.line, i.problem, i.investor_slug, p.candidates, p.round_id,
        min(i.line) over (partition by p.round_id, i.investor_slug) as first_line
    from crunchbase_investment i
    left join pick p on p.line = i.line
)
select line, investor_slug, round_id,
    case
        when problem is not null or round_id is null then 'rejected'
        when line > first_line then 'merged'
        else 'imported'
    end as outcome,
    case
        when problem is not null then problem
        when candidates is null then 'no matching round'
        when round_id is null then
            'ambiguous: the company has several rounds on that date, the amount does not tell'
        when line > first_line then 'duplicate: same investor in the same round'
    end as reason
from matched
"""

# An investor is whoever already has its slug: an organization (a company of the
# file, the demo set's "microsoft"), else a person (the demo set's "sam-altman").
# Otherwise it becomes an organization: the file cannot tell people from firms. Its
# name is that of the first row naming it ("Sequoia Capital" before "sequoia capital").
_INSERT_INVESTORS = """
insert into organizations (slug, name)
select distinct on (i.investor_slug) i.investor_slug, i.investor_name
from crunchbase_investment i
join crunchbase_investment_outcome o on o.line = i.line
where o.outcome = 'imported'
  and not exists (select from people p where p.slug = i.investor_slug)
order by i.investor_slug, i.line
on conflict (slug) do nothing
"""

# The file's amount_usd is the round's total (every investor of a round carries the
# same figure), so a participation's own amount is unknown.
_INSERT_PARTICIPATIONS = """
insert into participations (round_id, investor_organization_id, investor_person_id, status,
                            stage)
select o.round_id, org.id, case when org.id is null then person.id end, 'REPORTED', 'CLOSED'
from crunchbase_investment_outcome o
left join organizations org on org.slug = o.investor_slug
left join people person on person.slug = o.investor_slug
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
order by slug, named.line, side
on conflict (slug) do nothing
"""

# Imported acquisitions not in the database yet, with their claims' ids drawn up front.
_NEW_ACQUISITIONS = """
create temp table crunchbase_new_acquisition on commit drop as
select a.acquisition_id as id, gen_random_uuid() as claim_id, a.line,
    t.id as target_id, q.id as acquirer_id, a.acquired_on,
    case when a.price is not null
        then row('EXACT', a.currency, a.price, a.price, a.usd)::money_estimate
    end as price,
    a.usd_rate, a.usd_rate_date, a.quote
from crunchbase_acquisition a
join crunchbase_acquisition_outcome o on o.line = a.line
join organizations t on t.slug = a.target_slug
join organizations q on q.slug = a.acquirer_slug
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


async def load_investments(conn: Connection) -> dict[str, int]:
    await conn.execute(_INVESTMENT_OUTCOME)
    return {
        "organizations": _inserted(await conn.execute(_INSERT_INVESTORS)),
        "participations": _inserted(await conn.execute(_INSERT_PARTICIPATIONS)),
    }


async def load_acquisitions(conn: Connection) -> dict[str, int]:
    await conn.execute(_ACQUISITION_OUTCOME)
    organizations = _inserted(await conn.execute(_INSERT_ACQUISITION_ORGANIZATIONS))
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

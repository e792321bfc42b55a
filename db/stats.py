"""Aggregates over rounds: counts and US-dollar amounts, grouped by period, type, status,
stage, the company's country or investor, in one statement per call.

The rounds counted are exactly those `list_rounds` would list for the same filter (the
same SQL, `db.rounds.matching_rounds`), as of its time if it has one.

Amounts: a round's amount enters the sums as its `usd`, the value lists sort and filter
by: an EXACT or ABOUT figure as it is, UP_TO its upper bound, AT_LEAST its lower bound, a
RANGE its middle. Each bucket counts how many of its disclosed amounts were not exact
(by qualifier), so a chart can say "of which 3 are upper bounds".
"""

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

import asyncpg

from db.infra.errors import BadInput
from db.infra.types import Executor, Record
from db.rounds import RoundFilter, matching_rounds
from db.rows import plain_decimal

Dimension = Literal["PERIOD", "ROUND_TYPE", "STATUS", "STAGE", "COUNTRY", "INVESTOR"]
Period = Literal["MONTH", "QUARTER", "YEAR"]

DIMENSIONS: tuple[Dimension, ...] = (
    "PERIOD",
    "ROUND_TYPE",
    "STATUS",
    "STAGE",
    "COUNTRY",
    "INVESTOR",
)
# An answer is a chart's worth of buckets; more is a filter too wide for one request.
MAX_BUCKETS = 10_000

_STEPS: dict[Period, str] = {"MONTH": "1 month", "QUARTER": "3 months", "YEAR": "1 year"}


@dataclass(frozen=True, slots=True)
class _Key:
    """How one dimension is read: its columns in a bucket, and how buckets sort by it."""

    columns: tuple[str, ...]
    order: str


_KEYS: dict[Dimension, _Key] = {
    "PERIOD": _Key(("period",), "period"),
    "ROUND_TYPE": _Key(("round_type",), "round_type"),
    "STATUS": _Key(("status",), "status"),
    "STAGE": _Key(("stage",), "stage"),
    "COUNTRY": _Key(("country_code",), "country_code"),
    # By name, then id: the order a reader expects, stable between equal names.
    "INVESTOR": _Key(
        ("investor_organization_id", "investor_person_id"),
        "investor_name, coalesce(investor_organization_id, investor_person_id)",
    ),
}


@dataclass(frozen=True, slots=True)
class RoundStatsBucket:
    """One bucket; a key column is None both when not grouped by and when unknown (an
    undated round's period, a company without a country, a round without investors)."""

    period: datetime.date | None
    round_type: str | None
    status: str | None
    stage: str | None
    country_code: str | None
    investor_organization_id: uuid.UUID | None
    investor_person_id: uuid.UUID | None
    investor_name: str | None
    investor_slug: str | None
    count: int
    disclosed_count: int
    sum_usd: Decimal
    median_usd: Decimal | None
    p25_usd: Decimal | None
    p75_usd: Decimal | None
    min_usd: Decimal | None
    max_usd: Decimal | None
    up_to_count: int
    at_least_count: int
    range_count: int
    about_count: int

    @classmethod
    def from_record(cls, r: Record) -> "RoundStatsBucket":
        return cls(
            period=r["period"],
            round_type=r["round_type"],
            status=r["status"],
            stage=r["stage"],
            country_code=r["country_code"],
            investor_organization_id=r["investor_organization_id"],
            investor_person_id=r["investor_person_id"],
            investor_name=r["investor_name"],
            investor_slug=r["investor_slug"],
            count=r["count"],
            disclosed_count=r["disclosed_count"],
            sum_usd=plain_decimal(r["sum_usd"]) or Decimal(0),
            median_usd=plain_decimal(r["median_usd"]),
            p25_usd=plain_decimal(r["p25_usd"]),
            p75_usd=plain_decimal(r["p75_usd"]),
            min_usd=plain_decimal(r["min_usd"]),
            max_usd=plain_decimal(r["max_usd"]),
            up_to_count=r["up_to_count"],
            at_least_count=r["at_least_count"],
            range_count=r["range_count"],
            about_count=r["about_count"],
        )


# Every column a bucket has, null where the statement does not group by it.
_ALL_KEY_COLUMNS = (
    "period",
    "round_type",
    "status",
    "stage",
    "country_code",
    "investor_organization_id",
    "investor_person_id",
)
_KEY_TYPES = {
    "period": "date",
    "round_type": "round_type",
    "status": "deal_status",
    "stage": "deal_stage",
    "country_code": "text",
    "investor_organization_id": "uuid",
    "investor_person_id": "uuid",
}
# Percentiles interpolate as percentile_cont does. It computes in double precision: `usd`
# is whole dollars, so the quarter-dollar steps it can land on are exact below 2^51, and
# the shortest text of a double gives them back exactly.
_AGGREGATES = """
    count(*)::int as count,
    count(amount_usd)::int as disclosed_count,
    sum(amount_usd) as sum_usd,
    percentile_cont(array[0.25, 0.5, 0.75]) within group (order by amount_usd::float8)
        as quartiles,
    min(amount_usd) as min_usd,
    max(amount_usd) as max_usd,
    (count(amount_usd) filter (where qualifier = 'UP_TO'))::int as up_to_count,
    (count(amount_usd) filter (where qualifier = 'AT_LEAST'))::int as at_least_count,
    (count(amount_usd) filter (where qualifier = 'RANGE'))::int as range_count,
    (count(amount_usd) filter (where qualifier = 'ABOUT'))::int as about_count
"""
_VALUES = """
    count, disclosed_count, coalesce(sum_usd, 0) as sum_usd,
    quartiles[2]::text::numeric as median_usd, quartiles[1]::text::numeric as p25_usd,
    quartiles[3]::text::numeric as p75_usd, min_usd, max_usd,
    up_to_count, at_least_count, range_count, about_count
"""
_ZERO_VALUES = """
    0 as count, 0 as disclosed_count, 0::numeric as sum_usd, null::numeric as median_usd,
    null::numeric as p25_usd, null::numeric as p75_usd, null::numeric as min_usd,
    null::numeric as max_usd, 0 as up_to_count, 0 as at_least_count, 0 as range_count,
    0 as about_count
"""


async def fetch_without_jit(db: Executor, sql: str, *args: object) -> list[Record]:
    """The planner expects the gap-filling frame to hold hundreds of times the rows it
    has, which puts the statement past jit_above_cost: compiling it then took longer (90
    ms on the CrunchBase set) than running it (50 ms). So JIT is off for it, in a
    transaction of its own."""
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn:
            return await fetch_without_jit(conn, sql, *args)
    async with db.transaction():
        await db.execute("set local jit = off")
        return await db.fetch(sql, *args)


def check_group_by(group_by: Sequence[Dimension], field: str) -> None:
    """`field` names the grouping in errors, as the face that asks calls it."""
    if len(set(group_by)) != len(group_by):
        raise BadInput(f"{field}: a dimension is given more than once", field=field)


def too_many_buckets(group_by_field: str) -> BadInput:
    return BadInput(
        f"{group_by_field}: the answer would hold more than {MAX_BUCKETS:,} buckets; "
        "narrow the filter (announcement dates, round types, ...) or group by fewer "
        "dimensions",
        field=group_by_field,
    )


# The SQL types of round_stats_statement's parameters after the filter's: the cap on
# buckets, then (grouped by PERIOD) the period and its step.
STATS_TYPES = ("int", "text", "text")


def round_stats_statement(
    filter: RoundFilter, group_by: Sequence[Dimension], period: Period
) -> tuple[str, tuple[object, ...]]:
    """The buckets' statement and its arguments: the buckets in order, then one more if
    there are too many, or a row whose `over` is true."""
    join = "join organizations o on o.id = r.company_id" if "COUNTRY" in group_by else ""
    matched_sql, args = matching_rounds(filter, join=join)
    n = len(args)
    # The period and its step are passed only when grouped by it: an unused parameter has
    # no type PostgreSQL can tell.
    cap_parameter, period_parameter, step_parameter = n + 1, n + 2, n + 3
    columns = [c for d in group_by for c in _KEYS[d].columns]
    # Only constants of this module are spliced into the statement.
    key_expressions = {
        "period": f"date_trunc(${period_parameter}::text, r.announced_on)::date",
        "round_type": "r.round_type",
        "status": "r.status",
        "stage": "r.stage",
        "country_code": "o.country_code",
    }
    matched_keys = "".join(
        f", {key_expressions[c]} as {c}" for c in columns if c in key_expressions
    )
    investors = names = ""
    investor_name, investor_slug = "null::text", "null::text"
    if "INVESTOR" in group_by:
        # As of a time, an investor counts once a claim about its part was recorded by then.
        known = (
            ""
            if filter.as_of is None
            else """
                and exists (select 1 from claims c where c.participation_id = p.id
                            and c.recorded_at <= $9::timestamptz)"""
        )
        investors = f"""
            left join lateral (
                select p.investor_organization_id, p.investor_person_id
                from participations p where p.round_id = m.id{known}
            ) p on true"""
        names = """
            left join organizations io on io.id = g.investor_organization_id
            left join people ip on ip.id = g.investor_person_id"""
        investor_name, investor_slug = (
            "coalesce(io.name, ip.name)::text",
            "coalesce(io.slug, ip.slug)::text",
        )
    select_keys = ", ".join(
        c if c in columns else f"null::{_KEY_TYPES[c]} as {c}" for c in _ALL_KEY_COLUMNS
    )
    order = ", ".join(f"{_KEYS[d].order} nulls last" for d in group_by) or "count"
    head = f"""
        with matched as (
            select {"r.id, " if "INVESTOR" in group_by else ""}r.amount_usd,
                   (r.amount).qualifier as qualifier{matched_keys}
            {matched_sql}
        ),
        grouped as (
            select {"".join(c + ", " for c in columns)}{_AGGREGATES}
            from matched m {investors}
            {"group by " + ", ".join(columns) if columns else ""}
        ),
        named as (
            select g.*, {investor_name} as investor_name, {investor_slug} as investor_slug
            from grouped g {names}
        )"""
    if "PERIOD" not in group_by:
        sql = f"""{head}
            select {select_keys}, investor_name, investor_slug, {_VALUES}, false as over
            from named
            order by {order}
            limit ${cap_parameter} + 1
        """
    else:
        others = [c for c in columns if c != "period"]
        series = (
            f"select distinct {', '.join(others)}, investor_name, investor_slug from named"
            if others
            else "select null::text as investor_name, null::text as investor_slug"
        )
        joined = " and ".join(
            ["g.period = f.period", *(f"g.{c} is not distinct from f.{c}" for c in others)]
        )
        frame_keys = ", ".join(
            f"f.{c}" if c in columns else f"null::{_KEY_TYPES[c]} as {c}" for c in _ALL_KEY_COLUMNS
        )
        # $6 and $7 are the filter's announcedFrom and announcedTo; asyncpg sends the first
        # and last dates Python has as -infinity and infinity, which no series can reach.
        sql = f"""{head},
            bounds as (
                select date_trunc(${period_parameter}::text,
                                  coalesce($6::date, min(period)))::date as lo,
                       date_trunc(${period_parameter}::text,
                                  coalesce($7::date, max(period)))::date as hi
                from grouped
            ),
            periods as (
                select d::date as period
                from bounds,
                     generate_series(
                         case when lo is null or lo > '0001-01-01' then lo else '0001-01-01' end,
                         case when hi is null or hi < '9999-12-31' then hi else '9999-12-31' end,
                         ${step_parameter}::text::interval) d
            ),
            series as ({series}),
            size as (
                select (select count(*) from periods) * (select count(*) from series)
                       > ${cap_parameter} as over
            ),
            frame as (
                select p.period, s.* from periods p cross join series s
                where not (select over from size)
            ),
            answer as (
                select {frame_keys}, f.investor_name, f.investor_slug,
                       coalesce(g.count, 0) as count,
                       coalesce(g.disclosed_count, 0) as disclosed_count,
                       g.sum_usd, g.quartiles, g.min_usd, g.max_usd,
                       coalesce(g.up_to_count, 0) as up_to_count,
                       coalesce(g.at_least_count, 0) as at_least_count,
                       coalesce(g.range_count, 0) as range_count,
                       coalesce(g.about_count, 0) as about_count
                from frame f left join named g on {joined}
                union all
                select {select_keys}, investor_name, investor_slug, count, disclosed_count, sum_usd,
                       quartiles, min_usd, max_usd,
                       up_to_count, at_least_count, range_count, about_count
                from named where period is null
            )
            select * from (
                select {select_keys}, investor_name, investor_slug, {_VALUES}, false as over
                from answer
                union all
                select {", ".join(f"null::{_KEY_TYPES[c]}" for c in _ALL_KEY_COLUMNS)}, null, null,
                       {_ZERO_VALUES}, true
                from size where over
            ) buckets
            order by over desc, {order}
            limit ${cap_parameter} + 1
        """
    by_period = (period.lower(), _STEPS[period]) if "PERIOD" in group_by else ()
    return sql, (*args, MAX_BUCKETS, *by_period)


async def round_stats(
    db: Executor,
    *,
    filter: RoundFilter,
    group_by: Sequence[Dimension],
    period: Period = "QUARTER",
    group_by_field: str,
) -> list[RoundStatsBucket]:
    """The buckets, ordered by their key in the order of `group_by` (unknown keys last).
    Grouped by PERIOD, every period from the filter's first announcement date (else the
    earliest round's) to its last (else the latest round's) has a bucket for each
    combination of the other keys, with zeros where no round fell."""
    check_group_by(group_by, group_by_field)
    sql, args = round_stats_statement(filter, group_by, period)
    records = await fetch_without_jit(db, sql, *args)
    if len(records) > MAX_BUCKETS or any(r["over"] for r in records):
        raise too_many_buckets(group_by_field)
    return [RoundStatsBucket.from_record(r) for r in records]

"""Rounds: lookups by id, and the filtered, keyset-paginated list."""

import datetime
import hashlib
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

import orjson

from db.infra.batch import many_per_key, one_per_key
from db.infra.pagination import Keyset, Page, PageRequest, build_page, page_request
from db.infra.types import Executor
from db.rows import Round

ROUND_COLUMNS = """
    r.id, r.company_id, r.round_type, r.reported_label, r.status, r.stage,
    r.announced_on, r.announced_precision, r.closed_on,
    r.expected_close_on, r.expected_close_precision,
    r.amount, r.target_amount, r.pre_money_valuation, r.post_money_valuation
"""

OrderField = Literal["ANNOUNCED_ON", "AMOUNT_USD"]
Direction = Literal["ASC", "DESC"]


@dataclass(frozen=True, slots=True)
class SortKey:
    expression: str
    sql_type: str


# Undated rounds and undisclosed amounts sort last in either direction: the
# sentinel stands in for null so that the keyset comparison stays a plain row compare.
SORT_KEYS: dict[tuple[OrderField, Direction], SortKey] = {
    ("ANNOUNCED_ON", "ASC"): SortKey("coalesce(r.announced_on, 'infinity'::date)", "date"),
    ("ANNOUNCED_ON", "DESC"): SortKey("coalesce(r.announced_on, '-infinity'::date)", "date"),
    ("AMOUNT_USD", "ASC"): SortKey("coalesce(r.amount_usd, 'Infinity'::numeric)", "numeric"),
    ("AMOUNT_USD", "DESC"): SortKey("coalesce(r.amount_usd, '-Infinity'::numeric)", "numeric"),
}


@dataclass(frozen=True, slots=True)
class RoundFilter:
    statuses: list[str] | None = None
    stages: list[str] | None = None
    round_types: list[str] | None = None
    company_id: uuid.UUID | None = None
    investor_id: uuid.UUID | None = None
    announced_from: datetime.date | None = None
    announced_to: datetime.date | None = None
    min_amount_usd: Decimal | None = None
    # What was known at this time: only claims recorded by then count.
    as_of: datetime.datetime | None = None

    def fingerprint(self) -> str:
        return hashlib.sha256(orjson.dumps(self, default=str)).hexdigest()


@dataclass(frozen=True, slots=True)
class RoundOrder:
    field: OrderField = "ANNOUNCED_ON"
    direction: Direction = "DESC"


# $1..$8 are the filter; every list and count of rounds shares it.
_FILTER_TEMPLATE = """
    ($1::deal_status[] is null or r.status = any($1))
    and ($2::deal_stage[] is null or r.stage = any($2))
    and ($3::round_type[] is null or r.round_type = any($3))
    and ($4::uuid is null or r.company_id = $4)
    and ($5::uuid is null or exists (
        select 1 from participations p
        where p.round_id = r.id
          and (p.investor_organization_id = $5 or p.investor_person_id = $5){known}))
    and ($6::date is null or r.announced_on >= $6)
    and ($7::date is null or r.announced_on <= $7)
    and ($8::numeric is null or r.amount_usd >= $8)
"""
FILTER_SQL = _FILTER_TEMPLATE.format(known="")


def filter_sql(f: "RoundFilter", as_of_parameter: int) -> str:
    """The filter; as of a time, an investor counts only once a claim about its part was
    recorded by then."""
    if f.as_of is None:
        return FILTER_SQL
    return _FILTER_TEMPLATE.format(
        known=f"""
          and exists (select 1 from claims c where c.participation_id = p.id
                      and c.recorded_at <= ${as_of_parameter}::timestamptz)"""
    )


def rounds_source(f: RoundFilter, as_of_parameter: int) -> str:
    """The relation rounds are read from: the stored present, or a past derived again."""
    if f.as_of is None:
        return "rounds r"
    return f"rounds_as_of(${as_of_parameter}::timestamptz) r"


def _as_of_args(f: RoundFilter) -> tuple[object, ...]:
    return () if f.as_of is None else (f.as_of,)


def filter_args(f: RoundFilter) -> tuple[object, ...]:
    return (
        f.statuses,
        f.stages,
        f.round_types,
        f.company_id,
        f.investor_id,
        f.announced_from,
        f.announced_to,
        f.min_amount_usd,
    )


def matching_rounds(f: RoundFilter, *, join: str = "") -> tuple[str, tuple[object, ...]]:
    """`from ... where ...` over the rounds `r` a filter matches (as of its time, if any),
    with `join` (a constant) before the `where`, and its arguments from $1 ($9 is the time
    as of which, if any): what lists, counts and aggregates of rounds all read. Parameters
    a caller adds are numbered from len(args) + 1."""
    as_of_parameter = 9
    sql = f"from {rounds_source(f, as_of_parameter)} {join} where {filter_sql(f, as_of_parameter)}"
    return sql, (*filter_args(f), *_as_of_args(f))


def rounds_scope(f: RoundFilter, order: RoundOrder) -> str:
    return f"rounds:{order.field}:{order.direction}:{f.fingerprint()}"


def rounds_page_request(
    f: RoundFilter,
    order: RoundOrder,
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> PageRequest:
    return page_request(rounds_scope(f, order), first=first, after=after, last=last, before=before)


async def list_rounds(
    db: Executor, *, filter: RoundFilter, order: RoundOrder, page: PageRequest
) -> Page[Round]:
    key = SORT_KEYS[(order.field, order.direction)]
    direction, comparison = page.order_sql(descending=order.direction == "DESC")
    # Only constants from SORT_KEYS and the two words above are spliced in.
    sql = f"""
        select {ROUND_COLUMNS}, {key.expression}::text as sort_key
        from {rounds_source(filter, 12)}
        where {filter_sql(filter, 12)}
          and ($9::text is null
               or ({key.expression}, r.id) {comparison} ($9::{key.sql_type}, $10::uuid))
        order by {key.expression} {direction}, r.id {direction}
        limit $11
    """
    records = await db.fetch(
        sql, *filter_args(filter), *page.cursor_args, page.fetch_limit, *_as_of_args(filter)
    )
    rows = [(Round.from_record(r), Keyset(r["sort_key"], r["id"])) for r in records]
    return build_page(rounds_scope(filter, order), page, rows)


# The present's rounds filtered on status, stage and round type alone are counted from
# round_counts (migration 0130), a few hundred rows kept by the rounds' triggers, instead
# of every matching round: the same number.
_COUNTED = """
    select coalesce(sum(c.n), 0)::bigint from round_counts c
    where ($1::deal_status[] is null or c.status = any($1))
      and ($2::deal_stage[] is null or c.stage = any($2))
      and ($3::round_type[] is null or c.round_type = any($3))
"""


def counted_from_totals(f: RoundFilter) -> bool:
    """Whether round_counts answers this filter's count: one on status, stage and round
    type alone, of the present."""
    return all(
        value is None
        for value in (
            f.company_id, f.investor_id, f.announced_from, f.announced_to, f.min_amount_usd,
            f.as_of,
        )
    )  # fmt: skip


def count_sql(f: RoundFilter) -> str:
    """The statement counting the rounds a filter matches; its arguments are
    filter_args(f) then the time as of which ($9), if any, of which it may read only
    the first three (PostgreSQL refuses a parameter nothing reads: pass count_args)."""
    if counted_from_totals(f):
        return _COUNTED
    return f"select count(*) from {rounds_source(f, 9)} where {filter_sql(f, 9)}"


def count_args(f: RoundFilter) -> tuple[object, ...]:
    if counted_from_totals(f):
        return filter_args(f)[:3]
    return (*filter_args(f), *_as_of_args(f))


async def count_rounds(db: Executor, *, filter: RoundFilter) -> int:
    count = await db.fetchval(count_sql(filter), *count_args(filter))
    return int(count)


async def list_rounds_by_ids(
    db: Executor, ids: list[uuid.UUID], *, as_of: datetime.datetime | None = None
) -> list[Round | None]:
    """The rounds with these ids, in the order asked, None where there is none (or, as of
    a time, none known then)."""
    source = RoundFilter(as_of=as_of)
    records = await db.fetch(
        f"select {ROUND_COLUMNS} from {rounds_source(source, 2)} where r.id = any($1::uuid[])",
        ids,
        *_as_of_args(source),
    )
    return one_per_key(ids, ((r["id"], Round.from_record(r)) for r in records))


def company_rounds_scope(company_id: uuid.UUID) -> str:
    return rounds_scope(RoundFilter(company_id=company_id), RoundOrder())


async def list_rounds_of_companies(
    db: Executor, company_ids: list[uuid.UUID], page: PageRequest
) -> list[Page[Round]]:
    """The same page of each company's rounds, in the default order, in one query."""
    key = SORT_KEYS[("ANNOUNCED_ON", "DESC")]
    direction, comparison = page.order_sql(descending=True)
    records = await db.fetch(
        f"""
        select c.company_id as parent, x.*
        from unnest($1::uuid[]) as c (company_id)
        cross join lateral (
            select {ROUND_COLUMNS}, {key.expression}::text as sort_key
            from rounds r
            where r.company_id = c.company_id
              and ($2::text is null
                   or ({key.expression}, r.id) {comparison} ($2::{key.sql_type}, $3::uuid))
            order by {key.expression} {direction}, r.id {direction}
            limit $4
        ) x
        """,
        company_ids,
        *page.cursor_args,
        page.fetch_limit,
    )
    grouped = many_per_key(
        company_ids,
        ((r["parent"], (Round.from_record(r), Keyset(r["sort_key"], r["id"]))) for r in records),
    )
    return [
        build_page(company_rounds_scope(company_id), page, rows)
        for company_id, rows in zip(company_ids, grouped, strict=True)
    ]


async def count_rounds_of_companies(db: Executor, company_ids: list[uuid.UUID]) -> list[int]:
    records = await db.fetch(
        "select company_id, count(*) as n from rounds"
        " where company_id = any($1::uuid[]) group by company_id",
        company_ids,
    )
    counts = {r["company_id"]: int(r["n"]) for r in records}
    return [counts.get(c, 0) for c in company_ids]


async def rounds_matching(
    db: Executor, *, filter: RoundFilter, ids: list[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of these rounds the filter lets through now (its as_of is not looked at)."""
    if not ids:
        return set()
    records = await db.fetch(
        f"select r.id from rounds r where r.id = any($9::uuid[]) and {FILTER_SQL}",
        *filter_args(filter),
        ids,
    )
    return {r["id"] for r in records}

"""Acquisitions: lookups by id, their acquirers, and the filtered, keyset-paginated list."""

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
from db.rounds import SortKey
from db.rows import Acquirer, Acquisition

ACQUISITION_COLUMNS = """
    a.id, a.target_id, a.status, a.stage, a.announced_on, a.announced_precision,
    a.closed_on, a.price, a.terms, a.percent_acquired
"""

OrderField = Literal["ANNOUNCED_ON", "PRICE_USD"]
Direction = Literal["ASC", "DESC"]

# As for rounds: undated and undisclosed last either way (indexes in migration 0080).
SORT_KEYS: dict[tuple[OrderField, Direction], SortKey] = {
    ("ANNOUNCED_ON", "ASC"): SortKey("coalesce(a.announced_on, 'infinity'::date)", "date"),
    ("ANNOUNCED_ON", "DESC"): SortKey("coalesce(a.announced_on, '-infinity'::date)", "date"),
    ("PRICE_USD", "ASC"): SortKey("coalesce(a.price_usd, 'Infinity'::numeric)", "numeric"),
    ("PRICE_USD", "DESC"): SortKey("coalesce(a.price_usd, '-Infinity'::numeric)", "numeric"),
}


@dataclass(frozen=True, slots=True)
class AcquisitionFilter:
    statuses: list[str] | None = None
    stages: list[str] | None = None
    acquirer_id: uuid.UUID | None = None
    target_id: uuid.UUID | None = None
    announced_from: datetime.date | None = None
    announced_to: datetime.date | None = None
    min_price_usd: Decimal | None = None
    # What was known at this time: only claims recorded by then count.
    as_of: datetime.datetime | None = None

    def fingerprint(self) -> str:
        return hashlib.sha256(orjson.dumps(self, default=str)).hexdigest()


@dataclass(frozen=True, slots=True)
class AcquisitionOrder:
    field: OrderField = "ANNOUNCED_ON"
    direction: Direction = "DESC"


# $1..$7 are the filter, $8 the time of an as-of read; every list and count shares it
# (db/json/acquisitions.py too, which builds the compiled lists from it).
FILTER_SQL = """
    ($1::deal_status[] is null or a.status = any($1))
    and ($2::deal_stage[] is null or a.stage = any($2))
    and ($3::uuid is null or exists (
        select 1 from acquirers q
        where q.acquisition_id = a.id and q.organization_id = $3
          and q.added_at <= coalesce($8::timestamptz, 'infinity')))
    and ($4::uuid is null or a.target_id = $4)
    and ($5::date is null or a.announced_on >= $5)
    and ($6::date is null or a.announced_on <= $6)
    and ($7::numeric is null or a.price_usd >= $7)
"""


def acquisitions_source(f: AcquisitionFilter) -> str:
    """The relation acquisitions are read from: the stored present, or a past derived again."""
    return "acquisitions a" if f.as_of is None else "acquisitions_as_of($8::timestamptz) a"


def filter_args(f: AcquisitionFilter) -> tuple[object, ...]:
    return (
        f.statuses,
        f.stages,
        f.acquirer_id,
        f.target_id,
        f.announced_from,
        f.announced_to,
        f.min_price_usd,
        f.as_of,
    )


def acquisitions_scope(f: AcquisitionFilter, order: AcquisitionOrder) -> str:
    return f"acquisitions:{order.field}:{order.direction}:{f.fingerprint()}"


def acquisitions_page_request(
    f: AcquisitionFilter,
    order: AcquisitionOrder,
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> PageRequest:
    return page_request(
        acquisitions_scope(f, order), first=first, after=after, last=last, before=before
    )


async def list_acquisitions(
    db: Executor, *, filter: AcquisitionFilter, order: AcquisitionOrder, page: PageRequest
) -> Page[Acquisition]:
    key = SORT_KEYS[(order.field, order.direction)]
    direction, comparison = page.order_sql(descending=order.direction == "DESC")
    # Only constants from SORT_KEYS and the two words above are spliced in.
    sql = f"""
        select {ACQUISITION_COLUMNS}, {key.expression}::text as sort_key
        from {acquisitions_source(filter)}
        where {FILTER_SQL}
          and ($9::text is null
               or ({key.expression}, a.id) {comparison} ($9::{key.sql_type}, $10::uuid))
        order by {key.expression} {direction}, a.id {direction}
        limit $11
    """
    records = await db.fetch(sql, *filter_args(filter), *page.cursor_args, page.fetch_limit)
    rows = [(Acquisition.from_record(r), Keyset(r["sort_key"], r["id"])) for r in records]
    return build_page(acquisitions_scope(filter, order), page, rows)


async def count_acquisitions(db: Executor, *, filter: AcquisitionFilter) -> int:
    count = await db.fetchval(
        f"select count(*) from {acquisitions_source(filter)} where {FILTER_SQL}",
        *filter_args(filter),
    )
    return int(count)


async def list_acquisitions_by_ids(
    db: Executor, ids: list[uuid.UUID], *, as_of: datetime.datetime | None = None
) -> list[Acquisition | None]:
    """The acquisitions with these ids, in the order asked, None where there is none (or,
    as of a time, none known then)."""
    source = "acquisitions a" if as_of is None else "acquisitions_as_of($2::timestamptz) a"
    records = await db.fetch(
        f"select {ACQUISITION_COLUMNS} from {source} where a.id = any($1::uuid[])",
        ids,
        *(() if as_of is None else (as_of,)),
    )
    return one_per_key(ids, ((r["id"], Acquisition.from_record(r)) for r in records))


async def list_acquirers_by_acquisitions(
    db: Executor, acquisition_ids: list[uuid.UUID]
) -> list[list[Acquirer]]:
    """Each acquisition's acquirers, the lead first, then in the order they were reported."""
    records = await db.fetch(
        """
        select acquisition_id, organization_id, is_lead, added_at
        from acquirers
        where acquisition_id = any($1::uuid[])
        order by acquisition_id, is_lead desc, added_at, organization_id
        """,
        acquisition_ids,
    )
    return many_per_key(
        acquisition_ids,
        (
            (
                r["acquisition_id"],
                Acquirer(r["acquisition_id"], r["organization_id"], r["is_lead"], r["added_at"]),
            )
            for r in records
        ),
    )


async def list_acquisitions_of_targets(
    db: Executor, target_ids: list[uuid.UUID]
) -> list[list[Acquisition]]:
    """Each organization's acquisitions as the target, the latest announced first."""
    records = await db.fetch(
        f"""
        select {ACQUISITION_COLUMNS} from acquisitions a
        where a.target_id = any($1::uuid[])
        order by a.target_id, coalesce(a.announced_on, '-infinity'::date) desc, a.id desc
        """,
        target_ids,
    )
    return many_per_key(target_ids, ((r["target_id"], Acquisition.from_record(r)) for r in records))


def acquirer_scope(acquirer_id: uuid.UUID) -> str:
    return acquisitions_scope(AcquisitionFilter(acquirer_id=acquirer_id), AcquisitionOrder())


async def list_acquisitions_of_acquirers(
    db: Executor, acquirer_ids: list[uuid.UUID], page: PageRequest
) -> list[Page[Acquisition]]:
    """The same page of each organization's acquisitions as an acquirer, in the default
    order, in one query."""
    key = SORT_KEYS[("ANNOUNCED_ON", "DESC")]
    direction, comparison = page.order_sql(descending=True)
    records = await db.fetch(
        f"""
        select o.acquirer_id as parent, x.*
        from unnest($1::uuid[]) as o (acquirer_id)
        cross join lateral (
            select {ACQUISITION_COLUMNS}, {key.expression}::text as sort_key
            from acquirers q join acquisitions a on a.id = q.acquisition_id
            where q.organization_id = o.acquirer_id
              and ($2::text is null
                   or ({key.expression}, a.id) {comparison} ($2::{key.sql_type}, $3::uuid))
            order by {key.expression} {direction}, a.id {direction}
            limit $4
        ) x
        """,
        acquirer_ids,
        *page.cursor_args,
        page.fetch_limit,
    )
    grouped = many_per_key(
        acquirer_ids,
        (
            (r["parent"], (Acquisition.from_record(r), Keyset(r["sort_key"], r["id"])))
            for r in records
        ),
    )
    return [
        build_page(acquirer_scope(acquirer_id), page, rows)
        for acquirer_id, rows in zip(acquirer_ids, grouped, strict=True)
    ]


async def count_acquisitions_of_acquirers(db: Executor, acquirer_ids: list[uuid.UUID]) -> list[int]:
    records = await db.fetch(
        "select organization_id, count(*) as n from acquirers"
        " where organization_id = any($1::uuid[]) group by organization_id",
        acquirer_ids,
    )
    counts = {r["organization_id"]: int(r["n"]) for r in records}
    return [counts.get(a, 0) for a in acquirer_ids]

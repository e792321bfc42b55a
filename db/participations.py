"""Participations: who invests in a round, and on what terms."""

import uuid

from db.batch import many_per_key, one_per_key
from db.pagination import Keyset, Page, PageRequest, build_page
from db.rows import Participation
from db.types import Executor

_COLUMNS = """
    p.id, p.round_id, p.investor_organization_id, p.investor_person_id,
    p.amount, p.is_lead, p.status, p.stage
"""


async def list_participations_by_ids(
    db: Executor, ids: list[uuid.UUID]
) -> list[Participation | None]:
    records = await db.fetch(
        f"select {_COLUMNS} from participations p where p.id = any($1::uuid[])",  # noqa: S608
        ids,
    )
    return one_per_key(ids, ((r["id"], Participation.from_record(r)) for r in records))


async def list_participations_by_rounds(
    db: Executor, round_ids: list[uuid.UUID]
) -> list[list[Participation]]:
    """Each round's participations, leads first, then by amount."""
    records = await db.fetch(
        f"""
        select {_COLUMNS}
        from participations p
        where p.round_id = any($1::uuid[])
        order by p.round_id, p.is_lead desc, (p.amount).usd desc nulls last, p.id
        """,  # noqa: S608
        round_ids,
    )
    return many_per_key(round_ids, ((r["round_id"], Participation.from_record(r)) for r in records))


def investments_scope(investor_id: uuid.UUID) -> str:
    return f"investments:{investor_id}"


async def list_investments(
    db: Executor, *, investor_id: uuid.UUID, page: PageRequest
) -> Page[Participation]:
    """An investor's participations, the latest announced round first, undated ones last."""
    direction, comparison = page.order_sql(descending=True)
    key = "coalesce(r.announced_on, '-infinity'::date)"
    records = await db.fetch(
        f"""
        select {_COLUMNS}, {key}::text as sort_key
        from participations p join rounds r on r.id = p.round_id
        where (p.investor_organization_id = $1 or p.investor_person_id = $1)
          and ($2::text is null or ({key}, p.id) {comparison} ($2::date, $3::uuid))
        order by {key} {direction}, p.id {direction}
        limit $4
        """,  # noqa: S608
        investor_id,
        *page.cursor_args,
        page.fetch_limit,
    )
    rows = [(Participation.from_record(r), Keyset(r["sort_key"], r["id"])) for r in records]
    return build_page(investments_scope(investor_id), page, rows)


async def count_investments(db: Executor, *, investor_id: uuid.UUID) -> int:
    count = await db.fetchval(
        """
        select count(*) from participations p
        where p.investor_organization_id = $1 or p.investor_person_id = $1
        """,
        investor_id,
    )
    return int(count)

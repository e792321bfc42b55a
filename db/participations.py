"""Participations: who invests in a round, and on what terms."""

import datetime
import uuid

from db.infra.batch import many_per_key, one_per_key
from db.infra.pagination import Keyset, Page, PageRequest, build_page
from db.infra.types import Executor
from db.rows import Participation


def participation_order(table: str) -> str:
    """How every face lists a round's participations: leads first, then by amount (in
    US dollars, undisclosed last), then by id. Index participations_round_order serves it."""
    return f"{table}.is_lead desc, ({table}.amount).usd desc nulls last, {table}.id"


_COLUMNS = """
    p.id, p.round_id, p.investor_organization_id, p.investor_person_id,
    p.amount, p.is_lead, p.status, p.stage
"""


async def list_participations_by_ids(
    db: Executor, ids: list[uuid.UUID]
) -> list[Participation | None]:
    records = await db.fetch(
        f"select {_COLUMNS} from participations p where p.id = any($1::uuid[])",
        ids,
    )
    return one_per_key(ids, ((r["id"], Participation.from_record(r)) for r in records))


# A participation as of a time: known if a claim about it was recorded by then, with
# the values its claims gave then.
_COLUMNS_AS_OF = """
    p.id, p.round_id, p.investor_organization_id, p.investor_person_id,
    d.amount, coalesce(d.is_lead, false) as is_lead,
    coalesce(d.status, p.status) as status, coalesce(d.stage, p.stage) as stage
"""


def participations_as_of(as_of: str) -> str:
    """The participations known at `as_of` (an SQL expression) with the values their
    claims gave then, as a relation with the table's columns."""
    return (
        f"(select {_COLUMNS_AS_OF} from participations p"
        f" cross join lateral derive(p.round_id, p.id, {as_of}) d where d.known)"
    )


async def list_participations_by_rounds(
    db: Executor, round_ids: list[uuid.UUID], *, as_of: datetime.datetime | None = None
) -> list[list[Participation]]:
    """Each round's participations, leads first, then by amount."""
    args: tuple[datetime.datetime, ...] = ()
    if as_of is None:
        source, columns = "participations p", _COLUMNS
    else:
        source = "participations p cross join lateral derive(p.round_id, p.id, $2) d"
        columns, args = _COLUMNS_AS_OF, (as_of,)
    records = await db.fetch(
        f"""
        select * from (
            select {columns} from {source}
            where p.round_id = any($1::uuid[]) {"" if as_of is None else "and d.known"}
        ) p
        order by p.round_id, {participation_order("p")}
        """,
        round_ids,
        *args,
    )
    return many_per_key(round_ids, ((r["round_id"], Participation.from_record(r)) for r in records))


def investments_scope(investor_id: uuid.UUID) -> str:
    return f"investments:{investor_id}"


async def list_investments_of_investors(
    db: Executor, investor_ids: list[uuid.UUID], page: PageRequest
) -> list[Page[Participation]]:
    """The same page of each investor's participations, latest announced round first,
    undated ones last, in one query."""
    direction, comparison = page.order_sql(descending=True)
    # investment_order (migration 0132): the investor's participations in the index's
    # order, with their rounds' announcement dates (undated as -infinity).
    key = "o.round_announced_key"
    records = await db.fetch(
        f"""
        select i.investor_id as parent, x.*
        from unnest($1::uuid[]) as i (investor_id)
        cross join lateral (
            select {_COLUMNS}, {key}::text as sort_key
            from investment_order o join participations p on p.id = o.participation_id
            where o.investor_id = i.investor_id
              and ($2::text is null
                   or ({key}, o.participation_id) {comparison} ($2::date, $3::uuid))
            order by {key} {direction}, o.participation_id {direction}
            limit $4
        ) x
        """,
        investor_ids,
        *page.cursor_args,
        page.fetch_limit,
    )
    grouped = many_per_key(
        investor_ids,
        (
            (r["parent"], (Participation.from_record(r), Keyset(r["sort_key"], r["id"])))
            for r in records
        ),
    )
    return [
        build_page(investments_scope(investor_id), page, rows)
        for investor_id, rows in zip(investor_ids, grouped, strict=True)
    ]


async def count_investments_of_investors(db: Executor, investor_ids: list[uuid.UUID]) -> list[int]:
    records = await db.fetch(
        """
        select investor_id, count(*) as n from investment_order
        where investor_id = any($1::uuid[])
        group by investor_id
        """,
        investor_ids,
    )
    counts = {r["investor_id"]: int(r["n"]) for r in records}
    return [counts.get(i, 0) for i in investor_ids]

"""Co-investors: who invested in the same rounds as an investor, most shared rounds first."""

import uuid
from dataclasses import dataclass

from db.infra.batch import many_per_key
from db.infra.pagination import Keyset, Page, PageRequest, build_page
from db.infra.types import Executor


@dataclass(frozen=True, slots=True)
class CoInvestor:
    organization_id: uuid.UUID | None
    person_id: uuid.UUID | None
    slug: str
    name: str
    shared_rounds: int

    @property
    def id(self) -> uuid.UUID:
        found = self.organization_id or self.person_id
        assert found is not None  # a check constraint on participations guarantees it
        return found


def co_investors_scope(investor_id: uuid.UUID) -> str:
    return f"co-investors:{investor_id}"


def shared_rounds_sql(investor: str) -> str:
    """The other participations in the rounds of the investor whose id is the SQL
    `investor`, per co-investor (its id as `co_id` and as `id`). An investor is in a
    round at most once (unique constraints), so rows count shared rounds."""
    return f"""
    select q.investor_organization_id, q.investor_person_id,
           coalesce(q.investor_organization_id, q.investor_person_id) as co_id,
           coalesce(q.investor_organization_id, q.investor_person_id) as id,
           count(*)::int as shared_rounds
    from participations p
    join participations q on q.round_id = p.round_id and q.id <> p.id
    where p.investor_organization_id = {investor} or p.investor_person_id = {investor}
    group by q.investor_organization_id, q.investor_person_id
"""


_SHARED = shared_rounds_sql("i.investor_id")


async def list_co_investors(
    db: Executor, investor_ids: list[uuid.UUID], page: PageRequest
) -> list[Page[CoInvestor]]:
    """The same page of each investor's co-investors, most shared rounds first (then by
    id), in one query."""
    direction, comparison = page.order_sql(descending=True)
    # Only the two words order_sql gives are spliced in.
    records = await db.fetch(
        f"""
        select i.investor_id as parent, x.*, coalesce(o.slug, pe.slug)::text as slug,
               coalesce(o.name, pe.name)::text as name
        from unnest($1::uuid[]) with ordinality as i (investor_id, n)
        cross join lateral (
            select * from ({_SHARED}) s
            where $2::text is null or (s.shared_rounds, s.co_id) {comparison} ($2::int, $3::uuid)
            order by s.shared_rounds {direction}, s.co_id {direction}
            limit $4
        ) x
        left join organizations o on o.id = x.investor_organization_id
        left join people pe on pe.id = x.investor_person_id
        order by i.n, x.shared_rounds {direction}, x.co_id {direction}
        """,
        investor_ids,
        *page.cursor_args,
        page.fetch_limit,
    )
    grouped = many_per_key(
        investor_ids,
        (
            (
                r["parent"],
                (
                    CoInvestor(
                        r["investor_organization_id"],
                        r["investor_person_id"],
                        r["slug"],
                        r["name"],
                        r["shared_rounds"],
                    ),
                    Keyset(str(r["shared_rounds"]), r["co_id"]),
                ),
            )
            for r in records
        ),
    )
    return [
        build_page(co_investors_scope(investor_id), page, rows)
        for investor_id, rows in zip(investor_ids, grouped, strict=True)
    ]


async def count_co_investors(db: Executor, investor_ids: list[uuid.UUID]) -> list[int]:
    records = await db.fetch(
        f"""
        select i.investor_id, (select count(*) from ({_SHARED}) s)::int as n
        from unnest($1::uuid[]) as i (investor_id)
        """,
        investor_ids,
    )
    counts = {r["investor_id"]: r["n"] for r in records}
    return [counts[i] for i in investor_ids]

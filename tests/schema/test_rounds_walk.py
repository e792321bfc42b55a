"""A client pages through tens of thousands of rounds and meets each exactly once."""

from typing import Any

import httpx
import pytest

from db.infra.types import Pool
from tests.graphql import graphql_data

ROUND_COUNT = 20_000

PAGE = """
query ($first: Int, $after: String, $last: Int, $before: String) {
  rounds(first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


@pytest.fixture(scope="module", autouse=True)
async def rounds(pool: Pool) -> None:
    # Dates repeat (a few hundred distinct days) and one round in seven is undated.
    await pool.execute(
        """
        with company as (
            insert into organizations (slug, name) values ('big', 'Big Co') returning id
        )
        insert into rounds (company_id, round_type, status, stage, announced_on,
                            announced_precision)
        select company.id, 'SERIES_A', 'CONFIRMED', 'CLOSED',
               case when i % 7 = 0 then null else date '2000-01-01' + (i % 300) end,
               case when i % 7 = 0 then null else 'DAY'::date_precision end
        from company, generate_series(1, $1) as i
        """,
        ROUND_COUNT,
    )


async def _walk(client: httpx.AsyncClient, *, backward: bool) -> tuple[list[str], set[int]]:
    ids: list[str] = []
    totals: set[int] = set()
    cursor = None
    while True:
        variables: dict[str, Any] = (
            {"last": 100, "before": cursor} if backward else {"first": 100, "after": cursor}
        )
        page = (await graphql_data(client, PAGE, variables))["rounds"]
        totals.add(page["totalCount"])
        page_ids = [e["node"]["id"] for e in page["edges"]]
        ids = page_ids + ids if backward else ids + page_ids
        info = page["pageInfo"]
        if not (info["hasPreviousPage"] if backward else info["hasNextPage"]):
            return ids, totals
        cursor = info["startCursor"] if backward else info["endCursor"]


async def test_forward_and_backward_walks_meet_every_round_once(
    client: httpx.AsyncClient,
) -> None:
    forward, totals = await _walk(client, backward=False)
    assert totals == {ROUND_COUNT}
    assert len(forward) == len(set(forward)) == ROUND_COUNT
    backward, _ = await _walk(client, backward=True)
    assert backward == forward

"""Walking `rounds` page by page meets every round once, in order, both ways."""

from typing import Any

import httpx
import pytest

from db.infra.types import Pool
from tests.graphql import error_codes, graphql, graphql_data

ROUND_COUNT = 230

PAGE = """
query ($first: Int, $after: String, $last: Int, $before: String,
       $filter: RoundFilter, $orderBy: RoundOrder) {
  rounds(first: $first, after: $after, last: $last, before: $before,
         filter: $filter, orderBy: $orderBy) {
    totalCount
    edges { cursor node { id status stage announcedOn amount { usd } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


@pytest.fixture(scope="module", autouse=True)
async def rounds(pool: Pool) -> None:
    # Many rounds share a date or an amount, and some have none, so the order must
    # fall back on the id and place the nulls consistently.
    await pool.execute(
        """
        with company as (
            insert into organizations (slug, name) values ('paged', 'Paged Inc') returning id
        )
        insert into rounds (company_id, round_type, status, stage, announced_on,
                            announced_precision, amount)
        select company.id, 'SEED',
               (array['REPORTED', 'CONFIRMED', 'DENIED']::deal_status[])[1 + i % 3],
               (array['IN_TALKS', 'ANNOUNCED', 'CLOSED']::deal_stage[])[1 + i % 3],
               case when i % 11 = 0 then null else date '2020-01-01' + (i % 40) end,
               case when i % 11 = 0 then null else 'DAY'::date_precision end,
               case when i % 5 = 0 then null
                    else row('EXACT', 'USD', (i % 17) * 1000, (i % 17) * 1000,
                             (i % 17) * 1000)::money_estimate_fields end
        from company, generate_series(1, $1) as i
        """,
        ROUND_COUNT,
    )


async def _walk(
    client: httpx.AsyncClient, *, backward: bool, size: int, **variables: Any
) -> tuple[list[dict[str, Any]], int]:
    nodes: list[dict[str, Any]] = []
    cursor = None
    total = -1
    for _ in range(ROUND_COUNT + 2):
        page_vars = (
            {"last": size, "before": cursor} if backward else {"first": size, "after": cursor}
        )
        data = (await graphql_data(client, PAGE, {**variables, **page_vars}))["rounds"]
        total = data["totalCount"]
        page_nodes = [e["node"] for e in data["edges"]]
        nodes = page_nodes + nodes if backward else nodes + page_nodes
        info = data["pageInfo"]
        if not (info["hasPreviousPage"] if backward else info["hasNextPage"]):
            return nodes, total
        cursor = info["startCursor"] if backward else info["endCursor"]
    raise AssertionError("the walk never ended")


def _sort_key(node: dict[str, Any], field: str) -> Any:
    if field == "ANNOUNCED_ON":
        return node["announcedOn"]
    return None if node["amount"] is None else int(node["amount"]["usd"])


@pytest.mark.parametrize("field", ["ANNOUNCED_ON", "AMOUNT_USD"])
@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_walking_forward_and_back_meets_each_round_once(
    client: httpx.AsyncClient, field: str, direction: str
) -> None:
    order = {"field": field, "direction": direction}
    forward, total = await _walk(client, backward=False, size=17, orderBy=order)
    assert total == ROUND_COUNT
    ids = [n["id"] for n in forward]
    assert len(ids) == len(set(ids)) == ROUND_COUNT

    keys = [_sort_key(n, field) for n in forward]
    present = [k for k in keys if k is not None]
    assert present == sorted(present, reverse=direction == "DESC")
    # Nulls (undated, undisclosed) come last whichever the direction.
    first_null = keys.index(None)
    assert all(k is None for k in keys[first_null:])

    backward, _ = await _walk(client, backward=True, size=23, orderBy=order)
    assert [n["id"] for n in backward] == ids


async def test_filter_by_status_and_stage_agrees_with_total_count(
    client: httpx.AsyncClient,
) -> None:
    flt = {"status": ["CONFIRMED"], "stage": ["ANNOUNCED", "CLOSED"]}
    nodes, total = await _walk(client, backward=False, size=100, filter=flt)
    assert total == len(nodes) > 0
    assert {(n["status"], n["stage"]) for n in nodes} == {("CONFIRMED", "ANNOUNCED")}


async def test_default_page_is_twenty_and_first_zero_is_empty(client: httpx.AsyncClient) -> None:
    data = (await graphql_data(client, PAGE))["rounds"]
    assert len(data["edges"]) == 20
    assert data["pageInfo"]["hasNextPage"] is True
    assert data["pageInfo"]["hasPreviousPage"] is False
    empty = (await graphql_data(client, PAGE, {"first": 0}))["rounds"]
    assert empty["edges"] == []
    assert empty["totalCount"] == ROUND_COUNT


@pytest.mark.parametrize(
    ("variables", "needle"),
    [
        ({"first": 101}, "first must be between 0 and 100"),
        ({"first": -1}, "first must be between 0 and 100"),
        ({"first": 5, "last": 5}, "either first or last"),
        ({"after": "garbage"}, "not a valid cursor"),
        ({"filter": {"companyId": "org_" + "0" * 32}}, "no organization has the id"),
        ({"filter": {"investorId": "rnd_" + "0" * 32}}, "not an organization's or person's id"),
        ({"filter": {"announcedFrom": "2021-01-01", "announcedTo": "2020-01-01"}}, "is after"),
    ],
)
async def test_bad_arguments_are_coded_errors(
    client: httpx.AsyncClient, variables: dict[str, Any], needle: str
) -> None:
    answer = await graphql(client, PAGE, variables)
    assert answer["data"] is None
    assert error_codes(answer) in (["BAD_USER_INPUT"], ["NOT_FOUND"])
    assert needle in answer["errors"][0]["message"]


async def test_a_cursor_is_refused_under_another_order_or_filter(
    client: httpx.AsyncClient,
) -> None:
    page = (await graphql_data(client, PAGE, {"first": 3}))["rounds"]
    cursor = page["pageInfo"]["endCursor"]
    for other in (
        {"orderBy": {"field": "AMOUNT_USD", "direction": "DESC"}},
        {"filter": {"status": ["REPORTED"]}},
    ):
        answer = await graphql(client, PAGE, {"first": 3, "after": cursor, **other})
        assert error_codes(answer) == ["BAD_USER_INPUT"]
        assert "another ordering or filter" in answer["errors"][0]["message"]


async def test_unknown_enum_value_in_filter_is_a_validation_error(
    client: httpx.AsyncClient,
) -> None:
    answer = await graphql(client, PAGE, {"filter": {"status": ["RUMOURED"]}})
    assert "RUMOURED" in answer["errors"][0]["message"]
    assert error_codes(answer) == ["BAD_USER_INPUT"]
    answer = await graphql(client, "{ rounds(filter: {status: [RUMOURED]}) { totalCount } }")
    assert error_codes(answer) == ["GRAPHQL_VALIDATION_FAILED"]
    answer = await graphql(client, "{ rounds(first: ) { totalCount } }")
    assert error_codes(answer) == ["GRAPHQL_PARSE_FAILED"]

"""organizations(filter:): fuzzy search on names and aliases, and the other filters."""

from typing import Any

import httpx
import pytest

from db.infra.types import Pool
from db.seed import seed
from tests.graphql import error_codes, graphql, graphql_data

QUERY = """
query ($filter: OrganizationFilter, $first: Int, $after: String) {
  organizations(filter: $filter, first: $first, after: $after) {
    totalCount
    edges { node { slug name } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


@pytest.fixture(scope="module", autouse=True)
async def demo(pool: Pool) -> None:
    async with pool.acquire() as conn:
        await seed(conn)
    await pool.execute(
        "insert into organizations (slug, name, country_code) values"
        " ('openaire', 'OpenAIRE', 'BEL'), ('open-table', 'OpenTable', 'USA')"
    )


async def _slugs(client: httpx.AsyncClient, **flt: Any) -> list[str]:
    data = await graphql_data(client, QUERY, {"filter": flt, "first": 50})
    return [e["node"]["slug"] for e in data["organizations"]["edges"]]


async def test_search_is_fuzzy_and_ranked(client: httpx.AsyncClient) -> None:
    slugs = await _slugs(client, search="open ai")
    assert slugs[0] == "openai"
    assert "amazon" not in slugs
    assert (await _slugs(client, search="microsft"))[0] == "microsoft"


async def test_search_matches_aliases(client: httpx.AsyncClient) -> None:
    assert (await _slugs(client, search="AWS"))[0] == "amazon"
    assert "middle-east-sovereign-wealth-funds" in await _slugs(client, search="fonds souverains")


async def test_filters_by_country_investor_type_and_role(client: httpx.AsyncClient) -> None:
    assert await _slugs(client, countryCode="JPN") == ["softbank"]
    assert await _slugs(client, investorType=["SOVEREIGN_WEALTH_FUND"]) == [
        "middle-east-sovereign-wealth-funds"
    ]
    assert await _slugs(client, role="RAISED") == ["anthropic", "openai"]
    invested = await _slugs(client, role="INVESTED")
    assert set(invested) == {
        "amazon",
        "microsoft",
        "nvidia",
        "softbank",
        "middle-east-sovereign-wealth-funds",
    }
    assert await _slugs(client, role="INVESTED", countryCode="JPN") == ["softbank"]


async def test_paging_by_name_meets_each_once(client: httpx.AsyncClient) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        data = (await graphql_data(client, QUERY, {"first": 2, "after": cursor}))["organizations"]
        seen += [e["node"]["name"] for e in data["edges"]]
        if not data["pageInfo"]["hasNextPage"]:
            break
        cursor = data["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == data["totalCount"] == 9
    assert seen == sorted(seen, key=str.lower)


async def test_search_pages_keep_their_ranking(client: httpx.AsyncClient) -> None:
    everything = await _slugs(client, search="open")
    first = await graphql_data(client, QUERY, {"filter": {"search": "open"}, "first": 1})
    cursor = first["organizations"]["pageInfo"]["endCursor"]
    rest = await graphql_data(
        client, QUERY, {"filter": {"search": "open"}, "first": 50, "after": cursor}
    )
    paged = [first["organizations"]["edges"][0]["node"]["slug"]] + [
        e["node"]["slug"] for e in rest["organizations"]["edges"]
    ]
    assert paged == everything


@pytest.mark.parametrize(
    ("flt", "needle"),
    [
        ({"countryCode": "US"}, "not an ISO 3166-1 alpha-3 code"),
        ({"search": "   "}, "filter.search must have 1 to 200 characters"),
        ({"search": "x" * 201}, "filter.search must have 1 to 200 characters"),
    ],
)
async def test_bad_filters_are_coded_errors(
    client: httpx.AsyncClient, flt: dict[str, Any], needle: str
) -> None:
    answer = await graphql(client, QUERY, {"filter": flt})
    assert error_codes(answer) == ["BAD_USER_INPUT"]
    assert needle in answer["errors"][0]["message"]

"""organizations(filter: {search}) on CrunchBase data: what a search finds and in what
order, as one types and with typos, page after page.

The data is tests/fixtures/crunchbase-search, cut from the shared CrunchBase set (its
README says how): every organization these searches meet in the full set, with the
rounds and investments that make their prominence. The order of the first names of each
search here is the order on the full set.
"""

from typing import Any

import httpx
import pytest

from db.imports.crunchbase import import_crunchbase
from db.infra.types import Pool
from tests.fixtures.cut_search_set import TARGET
from tests.graphql import graphql_data

QUERY = """
query ($search: String!, $first: Int, $after: String, $role: OrganizationRole) {
  organizations(filter: {search: $search, role: $role}, first: $first, after: $after) {
    totalCount
    edges { cursor node { name } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


@pytest.fixture(scope="module", autouse=True)
async def crunchbase(pool: Pool) -> None:
    async with pool.acquire() as conn:
        await import_crunchbase(conn, TARGET)


async def _search(client: httpx.AsyncClient, search: str, **variables: Any) -> dict[str, Any]:
    data = await graphql_data(client, QUERY, {"search": search, "first": 8, **variables})
    found: dict[str, Any] = data["organizations"]
    return found


async def _names(client: httpx.AsyncClient, search: str, **variables: Any) -> list[str]:
    return [e["node"]["name"] for e in (await _search(client, search, **variables))["edges"]]


async def test_sequoia_finds_sequoia_capital_first_then_the_other_sequoias(
    client: httpx.AsyncClient,
) -> None:
    # All four names start with "Sequoia"; Sequoia Capital made 363 investments, the
    # others raised 7, 2 and 1 rounds.
    assert (await _names(client, "sequoia"))[:4] == [
        "Sequoia Capital",
        "Sequoia Communications",
        "Sequoia Pharmaceuticals",
        "Sequoia Media Group",
    ]


@pytest.mark.parametrize(
    ("search", "first"),
    [
        ("andreessen", "Andreessen Horowitz"),  # before Marc Andreessen: his name starts
        ("horowitz", "Andreessen Horowitz"),  # a later word, the most prominent
        ("face book", "Facebook"),  # spaces and punctuation do not count
        ("FACEBOOK", "Facebook"),
        ("Séquoia", "Sequoia Capital"),  # nor do accents
        ("cap sequ", "Sequoia Capital"),  # the start of each word, in any order
        ("sequioa", "Sequoia Capital"),  # two letters swapped
        ("facebok", "Facebook"),  # a letter missing
        ("facebooc", "Facebook"),  # a letter wrong
        ("andreesen", "Andreessen Horowitz"),
    ],
)
async def test_the_best_match_comes_first(
    client: httpx.AsyncClient, search: str, first: str
) -> None:
    assert (await _names(client, search))[0] == first


@pytest.mark.parametrize("typed", ["seq", "sequ", "sequo", "sequoi", "sequoia", "sequoia c"])
async def test_sequoia_capital_leads_as_one_types(client: httpx.AsyncClient, typed: str) -> None:
    assert (await _names(client, typed))[0] == "Sequoia Capital"


async def test_an_exact_name_outranks_a_more_prominent_longer_one(
    client: httpx.AsyncClient, pool: Pool
) -> None:
    await pool.execute("insert into organizations (slug, name) values ('sequ', 'Sequ')")
    try:
        assert (await _names(client, "sequ"))[:2] == ["Sequ", "Sequoia Capital"]
    finally:
        await pool.execute("delete from organizations where slug = 'sequ'")


async def test_near_misses_come_after_what_matches_as_typed(client: httpx.AsyncClient) -> None:
    # "Sequit(ur Labs)" is two edits from "sequoia", and as prominent as Sequoia Media
    # Group: it still comes after every Sequoia.
    assert (await _names(client, "sequoia"))[4:] == ["Sequitur Labs"]
    # Three or more edits from any name's start: nothing.
    assert await _names(client, "sqeuoai") == []
    found = await _search(client, "?!")
    assert found["edges"] == []
    assert found["totalCount"] == 0


async def test_pages_meet_each_match_once_in_rank_order(client: httpx.AsyncClient) -> None:
    whole = await graphql_data(client, QUERY, {"search": "sequ", "first": 100})
    expected = [e["node"]["name"] for e in whole["organizations"]["edges"]]
    assert len(expected) == whole["organizations"]["totalCount"] > 8
    seen: list[str] = []
    cursor = None
    while True:
        page = await _search(client, "sequ", first=3, after=cursor)
        seen += [e["node"]["name"] for e in page["edges"]]
        assert page["totalCount"] == len(expected)
        if not page["pageInfo"]["hasNextPage"]:
            break
        cursor = page["pageInfo"]["endCursor"]
    assert seen == expected


BACKWARD = """
query ($search: String!, $last: Int, $before: String) {
  organizations(filter: {search: $search}, last: $last, before: $before) {
    edges { node { name } }
    pageInfo { hasPreviousPage startCursor }
  }
}
"""


async def test_pages_backward_meet_the_same_matches(client: httpx.AsyncClient) -> None:
    whole = await graphql_data(client, QUERY, {"search": "sequ", "first": 100})
    expected = [e["node"]["name"] for e in whole["organizations"]["edges"]]
    seen: list[str] = []
    cursor = None
    while True:
        page = (
            await graphql_data(client, BACKWARD, {"search": "sequ", "last": 4, "before": cursor})
        )["organizations"]
        seen = [e["node"]["name"] for e in page["edges"]] + seen
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        cursor = page["pageInfo"]["startCursor"]
    assert seen == expected


async def test_search_goes_with_the_other_filters(client: httpx.AsyncClient) -> None:
    assert await _names(client, "sequoia", role="INVESTED") == ["Sequoia Capital"]
    raised = await _names(client, "sequoia", role="RAISED")
    assert "Sequoia Capital" not in raised
    assert raised[0] == "Sequoia Communications"


async def test_prominence_follows_rounds_and_investments(
    client: httpx.AsyncClient, pool: Pool
) -> None:
    """Sequoia Media Group, last of the Sequoias, passes Sequoia Capital with 400 rounds
    raised, and falls back when they go."""
    company = await pool.fetchval("select id from organizations where name = 'Sequoia Media Group'")
    await pool.execute(
        """
        insert into rounds (company_id, round_type, status, stage)
        select $1, 'SEED', 'REPORTED', 'CLOSED' from generate_series(1, 400)
        """,
        company,
    )
    try:
        assert (await _names(client, "sequoia"))[0] == "Sequoia Media Group"
    finally:
        await pool.execute(
            "delete from rounds r where r.company_id = $1 and r.round_type = 'SEED'"
            " and not exists (select 1 from claims c where c.round_id = r.id)",
            company,
        )
    assert (await _names(client, "sequoia"))[0] == "Sequoia Capital"


async def test_names_and_aliases_follow_their_changes(
    client: httpx.AsyncClient, pool: Pool
) -> None:
    facebook = await pool.fetchval("select id from organizations where name = 'Facebook'")
    await pool.execute(
        "insert into organization_aliases (organization_id, alias) values ($1, 'TheFacebook')",
        facebook,
    )
    await pool.execute("update organizations set name = 'Meta Platforms' where id = $1", facebook)
    try:
        assert (await _names(client, "thefacebook"))[0] == "Meta Platforms"
        assert (await _names(client, "meta plat"))[0] == "Meta Platforms"
        assert "Meta Platforms" not in await _names(client, "facebook")
    finally:
        await pool.execute("update organizations set name = 'Facebook' where id = $1", facebook)
        await pool.execute("delete from organization_aliases where organization_id = $1", facebook)
    assert (await _names(client, "facebook"))[0] == "Facebook"
    assert await _names(client, "thefacebook") == []


async def test_what_the_triggers_keep_is_what_a_rebuild_makes(pool: Pool) -> None:
    columns = "organization_id, name, is_alias, words, key, prominence"
    kept = await pool.fetch(f"select {columns} from organization_search_names order by 1, 2")
    await pool.execute("select organization_search_rebuild()")
    rebuilt = await pool.fetch(f"select {columns} from organization_search_names order by 1, 2")
    assert len(kept) > 1000
    assert [tuple(r) for r in kept] == [tuple(r) for r in rebuilt]

"""Lists that read whole tables are priced by the rows they can touch, and a request as a
whole has a time budget (issue 14, item 2).

Size matters here, so the module loads a generated set of the CrunchBase set's order of
size (30,000 organizations and rounds, each round with a claim, so 30,000 versions in
round_history) and analyzes it, then starts the app, which reads the tables' sizes.
Before: `rounds(asOf:) { edges }` was priced 2 and `totalCount` 1, whatever the size;
a search was priced 1 (200 characters took 3 s on the shared set before the search was
index-backed).
"""

import math
from collections.abc import AsyncIterator

import httpx
import pytest

from api.app import create_app
from db.infra.types import Pool
from schema.scan_cost import ROWS_PER_POINT, SEARCH_ROWS_PER_POINT
from tests.api.keyed import serving
from tests.api.processes import tables_locked
from tests.conftest import bearer, create_key
from tests.graphql import error_codes, graphql

ROWS = 30_000
SEARCH = "数据" * 100


@pytest.fixture(scope="module")
async def loaded(db_url: str, pool: Pool) -> str:
    await pool.execute(
        """
        with source as (
            insert into sources (publisher, kind) values ('Generator', 'DATA_VENDOR')
            returning id
        ), companies as (
            insert into organizations (slug, name)
            select 'gen-' || i, 'Generated company ' || i from generate_series(1, $1) i
            returning id
        ), made as (
            insert into rounds (company_id, round_type, status, stage, announced_on,
                                announced_precision)
            select id, 'SEED', 'REPORTED', 'CLOSED', date '2000-01-01' + (random() * 8000)::int,
                   'DAY'
            from companies
            returning id, announced_on
        )
        insert into claims (source_id, round_id, status, stage, announced_on,
                            announced_precision)
        select source.id, made.id, 'REPORTED', 'CLOSED', made.announced_on, 'DAY'
        from made, source
        """,
        ROWS,
    )
    await pool.execute("analyze")
    return await create_key(db_url)


@pytest.fixture(scope="module")
async def http(db_url: str, loaded: str) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(create_app(db_url, pool_min_size=1, pool_max_size=4)) as client:
        client.headers.update(bearer(loaded))
        yield client


async def _price(http: httpx.AsyncClient, query: str) -> int:
    answer = await graphql(http, query)
    assert "errors" not in answer, answer
    price: int = answer["extensions"]["cost"]["requested"]
    return price


async def test_a_page_as_of_a_time_is_priced_by_the_versions_it_may_walk(
    http: httpx.AsyncClient,
) -> None:
    query = '{ rounds(first: 1, asOf: "2000-01-01T00:00:00Z") { edges { node { id } } } }'
    assert await _price(http, query) >= 1 + ROWS // ROWS_PER_POINT + 1


async def test_total_count_and_filters_are_priced_by_the_rows_they_count(
    http: httpx.AsyncClient, pool: Pool
) -> None:
    filtered = "{ rounds(first: 1, filter: {status: [DENIED]}) { edges { node { id } } } }"
    assert await _price(http, filtered) >= 1 + ROWS // ROWS_PER_POINT + 1
    counted = '{ rounds(first: 0, filter: {announcedFrom: "2000-01-01"}) { totalCount } }'
    assert await _price(http, counted) >= 1 + ROWS // ROWS_PER_POINT
    # Unfiltered, the count sums the counts the rounds' triggers keep (migration 0130):
    # priced as one parent's count, whatever the size, and as exact as counting.
    assert await _price(http, "{ rounds(first: 0) { totalCount } }") == 1 + 1
    data = await graphql(http, "{ rounds(first: 0) { totalCount } }")
    assert data["data"]["rounds"]["totalCount"] == await pool.fetchval(
        "select count(*) from rounds"
    )
    # A page in index order reads what it shows: priced as before.
    assert await _price(http, "{ rounds(first: 1) { edges { node { id } } } }") == 2
    # One company's rounds are counted through an index.
    one = '{ organization(slug: "gen-1") { rounds { totalCount } } }'
    assert await _price(http, one) == 1 + 1 + 1


async def test_a_search_is_priced_by_the_scans_it_makes(http: httpx.AsyncClient) -> None:
    # The page and the count each search the organizations' indexes.
    query = f'{{ organizations(first: 1, filter: {{search: "{SEARCH}"}}) {{ totalCount }} }}'
    expected = 1 + 2 * math.ceil(ROWS / SEARCH_ROWS_PER_POINT)
    assert await _price(http, query) == expected
    page = '{ organizations(first: 1, filter: {search: "generated"}) { edges { node { id } } } }'
    assert await _price(http, page) == 1 + math.ceil(ROWS / SEARCH_ROWS_PER_POINT) + 1


async def test_a_request_over_its_time_budget_is_stopped_with_a_503(
    db_url: str, loaded: str
) -> None:
    app = create_app(db_url, pool_min_size=1, pool_max_size=4, request_timeout=0.5)
    aliases = " ".join(
        f"a{i}: organizations(first: 1) {{ edges {{ node {{ id }} }} }}" for i in range(3)
    )
    async with serving(app) as client:
        client.headers.update(bearer(loaded))
        # Its statements wait on a lock, each within the statement timeout (5 s), the
        # request as a whole past its budget.
        async with tables_locked(db_url, "organizations"):
            response = await client.post("/graphql", json={"query": f"{{ {aliases} }}"})
        assert response.status_code == 503
        assert error_codes(response.json()) == ["QUERY_TIMEOUT"]
        assert response.headers["retry-after"]
        # Its statements were cancelled with it: the pool serves the next request.
        after = await client.post(
            "/graphql", json={"query": '{ organization(slug: "gen-1") { name } }'}
        )
        assert after.status_code == 200
        assert after.json()["data"]["organization"]["name"] == "Generated company 1"


async def test_rest_lists_are_priced_by_the_same_rule(db_url: str, http: httpx.AsyncClient) -> None:
    small = bearer(await create_key(db_url, rate_limit=20))
    page = await http.get("/v1/rounds", params={"limit": 1}, headers=small)
    assert page.status_code == 200
    # As of a time, it may walk 30,000 versions: 31 points, over the key's 20 a minute.
    as_of = await http.get(
        "/v1/rounds", params={"limit": 1, "as_of": "2000-01-01T00:00:00Z"}, headers=small
    )
    assert as_of.status_code == 400
    assert as_of.json()["code"] == "QUERY_TOO_COSTLY"
    filtered = await http.get("/v1/rounds", params={"limit": 1, "status": "DENIED"}, headers=small)
    assert filtered.status_code == 400

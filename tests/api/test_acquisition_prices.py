"""Acquisition lists are priced as round lists are (schema/scan_cost.py): by the rows they
can touch, on both faces, whichever path answers them. A generated set of 30,000
acquisitions (each with an acquirer and a claim), analyzed, gives the tables' sizes."""

import math
from collections.abc import AsyncIterator

import httpx
import pytest

from api.app import create_app
from db.infra.types import Pool
from schema.limits import ASSUMED_LIST_LENGTH
from schema.scan_cost import ACQUISITIONS_AS_OF_ROWS_PER_POINT, ROWS_PER_POINT
from tests.api.keyed import serving
from tests.conftest import bearer, create_key
from tests.graphql import graphql

ROWS = 30_000


@pytest.fixture(scope="module")
async def loaded(db_url: str, pool: Pool) -> str:
    await pool.execute(
        """
        with source as (
            insert into sources (publisher, kind) values ('Generator', 'DATA_VENDOR')
            returning id
        ), buyer as (
            insert into organizations (slug, name) values ('gen-buyer', 'Generated buyer')
            returning id
        ), companies as (
            insert into organizations (slug, name)
            select 'gen-' || i, 'Generated company ' || i from generate_series(1, $1) i
            returning id
        ), made as (
            insert into acquisitions (target_id, status, stage, announced_on,
                                      announced_precision)
            select id, 'REPORTED', 'ANNOUNCED', date '2000-01-01' + (random() * 8000)::int, 'DAY'
            from companies
            returning id, announced_on
        ), acquired as (
            insert into acquirers (acquisition_id, organization_id, is_lead)
            select made.id, buyer.id, true from made, buyer
        )
        insert into claims (source_id, acquisition_id, status, stage, announced_on,
                            announced_precision)
        select source.id, made.id, 'REPORTED', 'ANNOUNCED', made.announced_on, 'DAY'
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


async def test_graphql_acquisition_lists_are_priced_by_the_rows_they_may_read(
    http: httpx.AsyncClient,
) -> None:
    # A page in index order reads what it shows.
    assert await _price(http, "{ acquisitions(first: 1) { edges { node { id } } } }") == 2
    counted = "{ acquisitions(first: 0) { totalCount } }"
    assert await _price(http, counted) == 1 + math.ceil(ROWS / ROWS_PER_POINT)
    filtered = '{ acquisitions(first: 1, filter: {minPriceUsd: "1"}) { edges { node { id } } } }'
    assert await _price(http, filtered) == 1 + math.ceil(ROWS / ROWS_PER_POINT) + 1
    # As of a time, each acquisition is derived again from its claims.
    as_of = '{ acquisitions(first: 1, asOf: "2000-01-01T00:00:00Z") { edges { node { id } } } }'
    expected = 1 + math.ceil(ROWS / ACQUISITIONS_AS_OF_ROWS_PER_POINT) + 1
    assert await _price(http, as_of) == expected


async def test_an_organizations_acquisitions_are_priced_as_its_rounds(
    http: httpx.AsyncClient,
) -> None:
    # Its acquisitions are counted through an index on the acquirer.
    one = '{ organization(slug: "gen-buyer") { acquisitions { totalCount } } }'
    assert await _price(http, one) == 1 + 1 + 1
    rounds = '{ organization(slug: "gen-buyer") { rounds { totalCount } } }'
    assert await _price(http, rounds) == await _price(http, one)
    # acquiredBy is a list: priced as other lists are, at the assumed length.
    targets = '{ organization(slug: "gen-1") { acquiredBy { id target { name } } } }'
    assert await _price(http, targets) == 1 + ASSUMED_LIST_LENGTH * (1 + 1)


async def test_rest_acquisition_lists_are_priced_by_the_same_rule(
    db_url: str, http: httpx.AsyncClient
) -> None:
    small = bearer(await create_key(db_url, rate_limit=20))
    page = await http.get("/v1/acquisitions", params={"limit": 1}, headers=small)
    assert page.status_code == 200
    # As of a time, 30,000 acquisitions derived again: 3,001 points, over the key's 20.
    as_of = await http.get(
        "/v1/acquisitions", params={"limit": 1, "as_of": "2000-01-01T00:00:00Z"}, headers=small
    )
    assert as_of.status_code == 400
    assert as_of.json()["code"] == "QUERY_TOO_COSTLY"
    filtered = await http.get(
        "/v1/acquisitions", params={"limit": 1, "status": "DENIED"}, headers=small
    )
    assert filtered.status_code == 400
    assert filtered.json()["code"] == "QUERY_TOO_COSTLY"

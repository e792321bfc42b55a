"""Every wait on the database is bounded: for a connection (the pool timeout) and for a
statement (the statement timeout). Past either, a 503 with Retry-After and a clear
reason, on REST and GraphQL alike; once the database is free again, answers as usual.

A request is made to wait honestly: the test holds an exclusive lock on the tables the
request reads, from a connection of its own.
"""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from api.app import create_app
from api.graphql.endpoint import GRAPHQL_RESPONSE
from tests import figures
from tests.api.processes import tables_locked, until_waiting
from tests.conftest import bearer, create_key
from tests.contract.openapi import check_rest_response

ROUNDS_GRAPHQL = {"query": "{ rounds(first: 1) { totalCount } }"}
ORGANIZATIONS_GRAPHQL = {"query": "{ organizations(first: 1) { totalCount } }"}


@contextlib.asynccontextmanager
async def _client(db_url: str, **options: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(db_url, pool_min_size=1, **options)
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app),
            base_url="http://test",
            headers=bearer(await create_key(db_url)),
            event_hooks={"response": [check_rest_response]},
            timeout=10,
        ) as http,
    ):
        yield http


async def _graphql(http: httpx.AsyncClient, payload: dict[str, str]) -> httpx.Response:
    return await http.post("/graphql", json=payload, headers={"accept": GRAPHQL_RESPONSE})


def _assert_problem(response: httpx.Response, code: str, detail: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "2"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert response.json()["detail"] == detail


def _assert_graphql_error(response: httpx.Response, code: str, message: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "2"
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == code
    assert error["message"] == message


async def test_with_every_connection_taken_a_request_waits_the_pool_timeout_then_gets_503(
    db_url: str,
) -> None:
    async with _client(db_url, pool_max_size=1, pool_timeout=0.5) as http:
        assert (await http.get("/v1/organizations/openai")).status_code == 404
        async with tables_locked(db_url, "rounds") as locker:
            # It takes the pool's only connection and keeps it while it waits on the lock.
            holder = asyncio.create_task(http.get("/v1/rounds"))
            await until_waiting(locker)
            started = time.monotonic()
            rest = await http.get("/v1/organizations/openai")
            waited = time.monotonic() - started
            graphql = await _graphql(http, ORGANIZATIONS_GRAPHQL)
        held = await asyncio.wait_for(holder, 5)
        after = await http.get("/v1/organizations/openai")

    detail = "no database connection became available within 0.5 s; retry later"
    _assert_problem(rest, "SERVICE_UNAVAILABLE", detail)
    _assert_graphql_error(graphql, "SERVICE_UNAVAILABLE", detail)
    assert 0.5 <= waited < 1.0, waited
    figures.record(f"pool exhausted: 503 after {waited:.2f} s of waiting (pool timeout 0.5 s)")
    # The request that held the connection finishes, and the pool serves again.
    assert held.status_code == 200
    assert after.status_code == 404


async def test_a_query_past_the_statement_timeout_is_cancelled_with_a_503(db_url: str) -> None:
    async with _client(db_url, pool_max_size=4, statement_timeout_ms=100) as http:
        assert (await http.get("/v1/rounds")).status_code == 200
        async with tables_locked(db_url, "rounds", "organizations"):
            started = time.monotonic()
            rest = await http.get("/v1/rounds")
            took = time.monotonic() - started
            rounds = await _graphql(http, ROUNDS_GRAPHQL)
            organizations = await _graphql(http, ORGANIZATIONS_GRAPHQL)
        after = await http.get("/v1/rounds")
        after_graphql = await _graphql(http, ORGANIZATIONS_GRAPHQL)

    message = "the query took longer than 100 ms and was cancelled; retry later"
    _assert_problem(rest, "QUERY_TIMEOUT", message)
    _assert_graphql_error(rounds, "QUERY_TIMEOUT", message)
    _assert_graphql_error(organizations, "QUERY_TIMEOUT", message)
    figures.record(f"statement timeout: 503 after {took:.2f} s (statement timeout 100 ms)")
    assert 0.1 <= took < 0.6, took
    assert after.status_code == 200
    assert after.json() == {"data": [], "next_cursor": None}
    assert after_graphql.status_code == 200
    assert after_graphql.json()["data"] == {"organizations": {"totalCount": 0}}

"""Rate limits per key: points per minute in a bucket shared through PostgreSQL, 429 with
Retry-After when it runs dry, and the RateLimit headers on every keyed answer."""

import asyncio
import re

import httpx

from db.access.principal import Scope
from schema.limits import MAX_COST
from tests.api.keyed import ECHO, guarded_app, serving
from tests.conftest import bearer, create_key

GRAPHQL_RESPONSE = "application/graphql-response+json"
# The connection and ten rounds: 11 points.
TEN_ROUNDS = "{ rounds(first: 10) { edges { node { id } } } }"


def _state(response: httpx.Response) -> tuple[int, int]:
    """(remaining, seconds until full) from the RateLimit header."""
    match = re.fullmatch(r'"key";r=(\d+);t=(\d+)', response.headers["ratelimit"])
    assert match, response.headers["ratelimit"]
    return int(match[1]), int(match[2])


def _policy(response: httpx.Response) -> int:
    match = re.fullmatch(r'"key";q=(\d+);w=60', response.headers["ratelimit-policy"])
    assert match, response.headers["ratelimit-policy"]
    return int(match[1])


async def test_rest_requests_cost_a_point_each_until_429(db_url: str) -> None:
    secret = await create_key(db_url, scope=Scope.READ, rate_limit=3)
    async with serving(guarded_app(db_url)) as http:
        answers = [await http.get("/v1/rounds", headers=bearer(secret)) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [_policy(a) for a in answers] == [3, 3, 3, 3]
    assert [_state(a)[0] for a in answers] == [2, 1, 0, 0]
    # 3 points a minute come back one every 20 s; after the first, the bucket is
    # full again 20 s later.
    assert 0 < _state(answers[0])[1] <= 20
    refused = answers[-1]
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "RATE_LIMITED"
    assert 1 <= int(refused.headers["retry-after"]) <= 20


async def test_graphql_queries_cost_their_query_cost(db_url: str) -> None:
    secret = await create_key(db_url, scope=Scope.READ, rate_limit=30)
    headers = {**bearer(secret), "accept": GRAPHQL_RESPONSE}
    async with serving(guarded_app(db_url)) as http:
        first = await http.post("/graphql", json={"query": TEN_ROUNDS}, headers=headers)
        second = await http.post("/graphql", json={"query": TEN_ROUNDS}, headers=headers)
        # 8 points left: not enough for 11, so refused, and the refusal costs 1.
        third = await http.post("/graphql", json={"query": TEN_ROUNDS}, headers=headers)
        # A query of no cost (only __typename) still costs 1.
        cheap = await http.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
    assert first.json()["extensions"]["cost"] == {
        "requested": 11,
        "limit": MAX_COST,
        "charged": 11,
        "remaining": 19,
    }
    assert _state(first)[0] == 19
    assert second.json()["extensions"]["cost"]["remaining"] == 8
    assert third.status_code == 429
    assert third.headers["content-type"] == GRAPHQL_RESPONSE
    assert [e["extensions"]["code"] for e in third.json()["errors"]] == ["RATE_LIMITED"]
    # 11 points at 30 a minute: the 3 missing ones take 6 s.
    assert 5 <= int(third.headers["retry-after"]) <= 7
    assert _state(third)[0] == 7
    assert cheap.status_code == 200
    assert cheap.json()["extensions"]["cost"] == {
        "requested": 0,
        "limit": MAX_COST,
        "charged": 1,
        "remaining": 6,
    }


async def test_a_query_over_the_keys_whole_budget_is_refused_as_too_costly(
    db_url: str,
) -> None:
    secret = await create_key(db_url, scope=Scope.READ, rate_limit=10)
    async with serving(guarded_app(db_url)) as http:
        response = await http.post(
            "/graphql",
            json={"query": TEN_ROUNDS},
            headers={**bearer(secret), "accept": GRAPHQL_RESPONSE},
        )
    # No wait would let it through, so it is no 429.
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert "budget of 10 points per minute" in error["message"]


async def test_keys_without_a_limit_get_the_configured_default(db_url: str) -> None:
    secret = await create_key(db_url, scope=Scope.READ, rate_limit=None)
    async with serving(guarded_app(db_url, rate_limit_per_minute=2)) as http:
        answers = [await http.get("/v1/rounds", headers=bearer(secret)) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert _policy(answers[0]) == 2


async def test_every_keyed_answer_carries_the_headers(db_url: str) -> None:
    secret = await create_key(db_url, scope=Scope.READ, rate_limit=100)
    headers = bearer(secret)
    async with serving(guarded_app(db_url)) as http:
        answers = {
            "rest 200": await http.get("/v1/rounds", headers=headers),
            "rest 403": await http.post(ECHO, headers=headers),
            "rest 404": await http.get("/v1/no-such-thing", headers=headers),
            "rest 400": await http.get("/v1/rounds", params={"nope": "1"}, headers=headers),
            "graphql 200": await http.post(
                "/graphql", json={"query": "{ __typename }"}, headers=headers
            ),
            "graphql parse error": await http.post(
                "/graphql", json={"query": "{"}, headers=headers
            ),
            "graphql 406": await http.post(
                "/graphql",
                json={"query": "{ __typename }"},
                headers={**headers, "accept": "text/csv"},
            ),
        }
    for name, answer in answers.items():
        assert _policy(answer) == 100, name
        assert _state(answer)[0] < 100, name


async def test_points_come_back_with_time(db_url: str) -> None:
    # 120 a minute: one point every half second.
    secret = await create_key(db_url, scope=Scope.READ, rate_limit=120)
    async with serving(guarded_app(db_url)) as http:
        statuses = set()
        # Points come back while the loop runs (two a second): on a slow machine 121
        # requests do not empty the bucket, so go on until it is empty, within a bound.
        for _ in range(2_000):
            statuses.add((await http.get(ECHO, headers=bearer(secret))).status_code)
            if 429 in statuses:
                break
        assert 429 in statuses
        await asyncio.sleep(1.1)
        again = await http.get(ECHO, headers=bearer(secret))
    assert again.status_code == 200

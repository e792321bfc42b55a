"""/metrics: request counts and latencies by route template, the pool, rate-limit refusals.

In one process here; tests/api/test_workers.py reads it across two, with an import.
"""

import httpx

from db.access.principal import Scope
from tests.api.serving import metric
from tests.conftest import bearer, create_key

COUNT = "dealgraph_http_requests_total"
LATENCIES = "dealgraph_http_request_duration_seconds_count"
REJECTIONS = "dealgraph_rate_limit_rejections_total"


async def _scrape(client: httpx.AsyncClient) -> str:
    answer = await client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return answer.text


async def test_requests_are_counted_by_route_template(client: httpx.AsyncClient) -> None:
    before = await _scrape(client)
    answers = [await client.get(f"/v1/organizations/no-such-slug-{i}") for i in range(3)]
    assert {a.status_code for a in answers} == {404}
    await client.get("/no/such/page")
    after = await _scrape(client)

    labels = {"route": "/v1/organizations/{id_or_slug}", "method": "GET", "status": "404"}
    for name in (COUNT, LATENCIES):
        assert metric(after, name, **labels) - metric(before, name, **labels) == 3
    unmatched = {"route": "<unmatched>", "method": "GET", "status": "404"}
    assert metric(after, COUNT, **unmatched) - metric(before, COUNT, **unmatched) == 1
    # Labels are templates: no path of a request makes a series of its own.
    assert "no-such-slug" not in after
    assert "/no/such/page" not in after


async def test_the_pool_is_measured(client: httpx.AsyncClient) -> None:
    text = await _scrape(client)
    size = metric(text, "dealgraph_db_pool_size", pool="primary")
    idle = metric(text, "dealgraph_db_pool_idle", pool="primary")
    in_use = metric(text, "dealgraph_db_pool_in_use", pool="primary")
    assert size >= 1
    assert idle + in_use == size
    # The app under test is made with pool_max_size=4 (tests/conftest.py).
    assert metric(text, "dealgraph_db_pool_max_size", pool="primary") == 4


async def test_every_429_counts_as_a_rate_limit_rejection(
    client: httpx.AsyncClient, db_url: str
) -> None:
    secret = await create_key(db_url, scope=Scope.READ, rate_limit=1)
    before = await _scrape(client)
    rest = [(await client.get("/v1/rounds", headers=bearer(secret))).status_code for _ in range(3)]
    graphql = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers=bearer(secret)
    )
    after = await _scrape(client)

    assert rest == [200, 429, 429]
    assert graphql.status_code == 429
    assert metric(after, REJECTIONS) - metric(before, REJECTIONS) == 3

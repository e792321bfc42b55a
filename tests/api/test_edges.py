"""The server's edges (issue 14, item 17): who may read /metrics, what CORS lets a browser
send, and what /docs/assets serves."""

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from api.app import create_app

ORIGIN = "https://app.example.com"


@pytest.fixture(scope="module")
async def app_manager(db_url: str) -> AsyncIterator[LifespanManager]:
    app = create_app(db_url, pool_min_size=1, pool_max_size=2, cors_origins=[ORIGIN])
    async with LifespanManager(app) as manager:
        yield manager


def _client(manager: LifespanManager, peer: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=manager.app, client=(peer, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


@pytest.mark.parametrize(
    ("peer", "status"),
    [("127.0.0.1", 200), ("10.1.2.3", 200), ("::1", 200), ("203.0.113.7", 404)],
)
async def test_metrics_answer_the_allowed_networks_only(
    app_manager: LifespanManager, peer: str, status: int
) -> None:
    async with _client(app_manager, peer) as http:
        # A header says nothing of where the client is.
        answer = await http.get("/metrics", headers={"x-forwarded-for": "127.0.0.1"})
    assert answer.status_code == status
    assert ("dealgraph_http_requests_total" in answer.text) == (status == 200)


async def test_metrics_networks_are_configured(db_url: str) -> None:
    app = create_app(db_url, pool_min_size=1, pool_max_size=2, metrics_allow=["203.0.113.0/24"])
    async with LifespanManager(app) as manager:
        async with _client(manager, "203.0.113.7") as http:
            assert (await http.get("/metrics")).status_code == 200
        async with _client(manager, "127.0.0.1") as http:
            assert (await http.get("/metrics")).status_code == 404


async def test_browsers_may_send_the_headers_the_api_reads(app_manager: LifespanManager) -> None:
    async with _client(app_manager, "127.0.0.1") as http:
        preflight = await http.options(
            "/v1/reports",
            headers={
                "origin": ORIGIN,
                "access-control-request-method": "POST",
                "access-control-request-headers": "authorization, idempotency-key, if-none-match",
            },
        )
    assert preflight.status_code == 200
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert "idempotency-key" in allowed
    assert "if-none-match" in allowed


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
async def test_browsers_may_manage_webhooks(app_manager: LifespanManager, method: str) -> None:
    async with _client(app_manager, "127.0.0.1") as http:
        preflight = await http.options(
            "/v1/webhooks/1",
            headers={"origin": ORIGIN, "access-control-request-method": method},
        )
    assert preflight.status_code == 200
    assert method in preflight.headers["access-control-allow-methods"]


async def test_browsers_may_read_their_budget_and_validators(
    app_manager: LifespanManager,
) -> None:
    async with _client(app_manager, "127.0.0.1") as http:
        answer = await http.get("/v1/rounds?limit=1", headers={"origin": ORIGIN})
    exposed = answer.headers["access-control-expose-headers"].lower()
    for header in ("ratelimit", "ratelimit-policy", "retry-after", "etag"):
        assert header in exposed


@pytest.mark.parametrize(
    ("asset", "status"),
    [
        ("swagger-ui.css", 200),
        ("swagger-ui-bundle.js", 200),
        ("index.html", 404),
        ("index.j2", 404),
        ("swagger-initializer.js", 404),
        ("swagger-ui-bundle.js.map", 404),
        ("..%2Findex.html", 404),
    ],
)
async def test_docs_assets_are_what_the_docs_page_loads(
    app_manager: LifespanManager, asset: str, status: int
) -> None:
    async with _client(app_manager, "127.0.0.1") as http:
        answer = await http.get(f"/docs/assets/{asset}")
    assert answer.status_code == status

"""GraphQL over HTTP as the GraphQL-over-HTTP specification has it."""

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from api.app import create_app
from api.graphql.endpoint import MAX_BODY_BYTES, negotiate
from tests.conftest import bearer, create_key

GRAPHQL_RESPONSE = "application/graphql-response+json"
QUERY = '{ organization(slug: "nothing-here") { id } }'


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, "application/json"),
        ("application/json", "application/json"),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", "application/json"),
        ("*/*", GRAPHQL_RESPONSE),
        ("text/html", None),
        (f"{GRAPHQL_RESPONSE};q=0", None),
    ],
)
def test_accept_negotiation(accept: str | None, chosen: str | None) -> None:
    assert negotiate(accept) == chosen


async def test_post_json_answers_data(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": QUERY}, headers={"accept": "application/json"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["data"] == {"organization": None}


async def test_get_runs_queries(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql",
        params={
            "query": "query ($s: String) { organization(slug: $s) { id } }",
            "variables": '{"s": "nothing-here"}',
        },
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert response.json()["data"] == {"organization": None}


async def test_get_refuses_mutations(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "mutation { roundReport }"})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ organization(slug: ", "GRAPHQL_PARSE_FAILED"),
        ("{ noSuchField }", "GRAPHQL_VALIDATION_FAILED"),
    ],
)
async def test_request_errors_are_4xx_only_for_graphql_response_json(
    client: httpx.AsyncClient, query: str, code: str
) -> None:
    modern = await client.post(
        "/graphql", json={"query": query}, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert modern.status_code == 400
    assert modern.headers["content-type"] == GRAPHQL_RESPONSE
    assert "data" not in modern.json()
    assert modern.json()["errors"][0]["extensions"]["code"] == code
    legacy = await client.post(
        "/graphql", json={"query": query}, headers={"accept": "application/json"}
    )
    assert legacy.status_code == 200
    assert legacy.json()["errors"][0]["extensions"]["code"] == code


async def test_bad_variables_are_a_request_error(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        json={
            "query": "query ($n: Int) { rounds(first: $n) { totalCount } }",
            "variables": {"n": "ten"},
        },
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_field_errors_are_200_with_data(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        json={"query": '{ round(id: "nope") { id } }'},
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"round": None}
    assert body["errors"][0]["path"] == ["round"]


@pytest.mark.parametrize(
    ("kwargs", "status", "needle"),
    [
        ({"content": b"{", "headers": {"content-type": "application/json"}}, 400, "not valid JSON"),
        ({"content": b"[]", "headers": {"content-type": "application/json"}}, 400, "JSON object"),
        ({"json": {"variables": {}}}, 400, "has no query"),
        ({"json": {"query": QUERY, "variables": [1]}}, 400, "`variables` must be a JSON object"),
        ({"content": QUERY.encode(), "headers": {"content-type": "text/plain"}}, 415, "text/plain"),
        ({"json": {"query": "#" * (MAX_BODY_BYTES + 1)}}, 413, "over"),
    ],
)
async def test_malformed_requests(
    client: httpx.AsyncClient, kwargs: dict[str, object], status: int, needle: str
) -> None:
    response = await client.post("/graphql", **kwargs)  # type: ignore[arg-type]
    assert response.status_code == status
    assert needle in response.json()["errors"][0]["message"]


async def test_unacceptable_accept_is_406(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": QUERY}, headers={"accept": "text/csv"})
    assert response.status_code == 406


async def test_browsers_get_graphiql(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_other_methods_are_405(client: httpx.AsyncClient) -> None:
    assert (await client.put("/graphql", json={"query": QUERY})).status_code == 405


@pytest.fixture(scope="module")
async def cors_client(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(db_url, pool_min_size=1, pool_max_size=2, cors_origins=["https://app.example"])
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", headers=bearer(await create_key(db_url))
        ) as http:
            yield http


async def test_cors_allows_only_configured_origins(cors_client: httpx.AsyncClient) -> None:
    preflight = {"access-control-request-method": "POST"}
    allowed = await cors_client.options(
        "/graphql", headers={"origin": "https://app.example", **preflight}
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    refused = await cors_client.options(
        "/graphql", headers={"origin": "https://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in refused.headers


async def test_no_cors_by_default(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": QUERY}, headers={"origin": "https://app.example"}
    )
    assert "access-control-allow-origin" not in response.headers

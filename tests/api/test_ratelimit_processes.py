"""One key's limit holds across two real server processes sharing one database."""

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from db.access.principal import Scope
from tests.conftest import bearer, create_key

ROOT = Path(__file__).parents[2]
PER_MINUTE = 100
REQUESTS = 300


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextlib.contextmanager
def _server(db_url: str, log: Path) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": db_url, "DEALGRAPH_POOL_MAX_SIZE": "4"}
    command = [sys.executable, "-m", "uvicorn", "--factory", "api.asgi:from_environment"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "info"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            assert time.monotonic() < deadline, "the server did not start:\n" + log.read_text()
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _fire(urls: list[str], secret: str) -> tuple[dict[str, list[int]], float]:
    """REQUESTS requests, alternating servers and faces, ten at a time; the statuses each
    server gave, and how long it all took."""
    statuses: dict[str, list[int]] = {url: [] for url in urls}
    gate = asyncio.Semaphore(10)

    async def one(http: httpx.AsyncClient, i: int) -> None:
        url = urls[i % len(urls)]
        async with gate:
            if i % 4 < 2:
                response = await http.get(f"{url}/v1/rounds")
            else:
                response = await http.post(f"{url}/graphql", json={"query": "{ __typename }"})
        statuses[url].append(response.status_code)

    started = time.monotonic()
    async with httpx.AsyncClient(headers=bearer(secret), timeout=30) as http:
        await asyncio.gather(*(one(http, i) for i in range(REQUESTS)))
    return statuses, time.monotonic() - started


async def test_two_processes_share_one_keys_limit(db_url: str, tmp_path: Path) -> None:
    secret = await create_key(db_url, scope=Scope.READ, rate_limit=PER_MINUTE)
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    with _server(db_url, logs[0]) as first, _server(db_url, logs[1]) as second:
        statuses, elapsed = await _fire([first, second], secret)
    everything = [s for answers in statuses.values() for s in answers]
    assert set(everything) == {200, 429}
    accepted = everything.count(200)
    # A full bucket, plus what refilled while the requests ran.
    budget = PER_MINUTE + PER_MINUTE * elapsed / 60
    assert abs(accepted - budget) <= 0.1 * budget, (accepted, budget, elapsed)
    # Both took a share of one budget; limits per process would have let in twice as many.
    assert all(answers.count(200) > 0 for answers in statuses.values())
    # The servers' own logs (access log included) never show the secret.
    for log in logs:
        text = log.read_text()
        assert "GET /v1/rounds" in text
        assert secret not in text

"""What API keys and rate limits cost a request: throughput with and without them.

    uv run python -m bench.auth_overhead

Uses DATABASE_URL's server (or postgresql://postgres@127.0.0.1:5432/postgres) and makes
and drops a scratch database of its own, with the demo data and one key. It starts two
uvicorn processes (one worker each), one with the key check and rate limit and one
without (`create_app(guarded=False)`), and drives them from here with `wrk` if it is
installed, else with an httpx client. Each arm is measured on both servers in turn, for
a few rounds, and the medians are printed with the ratio of guarded to unguarded:
turns taken closely together see the same noise from whatever else the machine runs.
Takes under a minute.

Arms: /healthz (no key, no database: the HTTP stack's ceiling), a cheap GraphQL query
(cost 1: one extra statement with a key), a GraphQL query of cost 6 (two extra
statements: the first point, then the rest) and a REST list (one extra statement).
"""

import asyncio
import contextlib
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
from starlette.applications import Starlette

from api.app import create_app
from api.guard.keys import hash_secret, issue_key
from db.access.principal import Scope
from db.access.ratelimit import charge_by_secret_hash
from db.infra.migrate import migrate
from db.seed import seed

ROOT = Path(__file__).parents[1]
WARMUP_SECONDS = 1
SECONDS = 2
ROUNDS = 3
CONNECTIONS = 16
# Far more than the runs can spend: the bench measures the check, not refusals.
PER_MINUTE = 1_000_000_000


@dataclass(frozen=True)
class Arm:
    name: str
    method: str
    path: str
    body: str | None = None


CHEAP = '{"query": "{ organization(slug: \\"openai\\") { name } }"}'
COST_6 = '{"query": "{ rounds(first: 5) { edges { node { id } } } }"}'
ARMS = [
    Arm("graphql, cost 1", "POST", "/graphql", CHEAP),
    Arm("graphql, cost 6", "POST", "/graphql", COST_6),
    Arm("rest GET /v1/rounds?limit=5", "GET", "/v1/rounds?limit=5"),
]


def guarded() -> Starlette:
    return create_app(os.environ["BENCH_DATABASE_URL"])


def unguarded() -> Starlette:
    return create_app(os.environ["BENCH_DATABASE_URL"], guarded=False)


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


async def _prepare(url: str) -> str:
    """Migrate and seed the scratch database; a key's secret."""
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
        await seed(conn)
        issued = await issue_key(
            conn, name="bench", scope=Scope.READ, rate_limit_per_minute=PER_MINUTE
        )
    finally:
        await conn.close()
    return issued.secret


async def _statement_latency(url: str, secret: str, times: int = 2_000) -> float:
    """Microseconds per lookup-and-charge statement, one after another on one connection."""
    conn = await asyncpg.connect(url)
    try:
        secret_hash = hash_secret(secret)
        started = time.perf_counter()
        for _ in range(times):
            await charge_by_secret_hash(
                conn, secret_hash=secret_hash, points=1, default_per_minute=PER_MINUTE
            )
        return (time.perf_counter() - started) / times * 1e6
    finally:
        await conn.close()


@contextlib.contextmanager
def _server(factory: str, db_url: str) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "uvicorn", "--factory", f"bench.auth_overhead:{factory}"]
    command += ["--port", str(port), "--log-level", "critical", "--no-access-log"]
    env = {**os.environ, "BENCH_DATABASE_URL": db_url}
    process = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603 (our own command)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the {factory} server exited with {process.returncode}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the {factory} server did not start")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wrk(url: str, arm: Arm, headers: dict[str, str], seconds: int) -> float:
    wrk = shutil.which("wrk")
    assert wrk is not None
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(f'wrk.method = "{arm.method}"\n')
        if arm.body is not None:
            script.write(f"wrk.body = [[{arm.body}]]\n")
            script.write('wrk.headers["content-type"] = "application/json"\n')
        for name, value in headers.items():
            script.write(f'wrk.headers["{name}"] = "{value}"\n')
    try:
        command = [wrk, "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "-s", script.name]
        out = subprocess.run(  # noqa: S603 (wrk, with arguments of our own)
            [*command, url + arm.path], check=True, capture_output=True, text=True
        ).stdout
    finally:
        Path(script.name).unlink()
    if "Non-2xx" in out:
        raise RuntimeError(f"{arm.name}: some answers were not 2xx:\n{out}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert found is not None, out
    return float(found[1])


async def _httpx(url: str, arm: Arm, headers: dict[str, str], seconds: int) -> float:
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    content = None if arm.body is None else arm.body.encode()
    if content is not None:
        headers = {**headers, "content-type": "application/json"}
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits) as http:
        done = 0
        stop = time.monotonic() + seconds

        async def worker() -> None:
            nonlocal done
            while time.monotonic() < stop:
                response = await http.request(arm.method, arm.path, content=content)
                if response.status_code != 200:
                    raise RuntimeError(f"{arm.name}: {response.status_code} {response.text}")
                done += 1

        await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    return done / seconds


def _rate(url: str, arm: Arm, headers: dict[str, str], seconds: int = SECONDS) -> float:
    if shutil.which("wrk"):
        return _wrk(url, arm, headers, seconds)
    return asyncio.run(_httpx(url, arm, headers, seconds))


def main() -> None:
    server = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"dealgraph_bench_{uuid.uuid4().hex[:8]}"
    admin_url = _with_database(server, "postgres")

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    healthz = Arm("/healthz", "GET", "/healthz")
    rates: dict[str, dict[str, list[float]]] = {
        arm.name: {"off": [], "on": []} for arm in [healthz, *ARMS]
    }
    asyncio.run(admin(f'create database "{name}"'))
    try:
        db_url = _with_database(server, name)
        secret = asyncio.run(_prepare(db_url))
        latency = asyncio.run(_statement_latency(db_url, secret))
        keyed = {"authorization": f"Bearer {secret}"}
        with _server("unguarded", db_url) as off, _server("guarded", db_url) as on:
            urls = {"off": (off, {}), "on": (on, keyed)}
            for arm in ARMS:
                for url, headers in urls.values():
                    _rate(url, arm, headers, WARMUP_SECONDS)
            for url_name, (url, _) in urls.items():
                rates[healthz.name][url_name].append(_rate(url, healthz, {}))
            for _ in range(ROUNDS):
                for arm in ARMS:
                    for url_name, (url, headers) in urls.items():
                        rates[arm.name][url_name].append(_rate(url, arm, headers))
    finally:
        asyncio.run(admin(f'drop database if exists "{name}" with (force)'))

    driver = "wrk" if shutil.which("wrk") else "httpx"
    print(
        f"driver: {driver}, {CONNECTIONS} connections, one worker per server; "
        f"medians of {ROUNDS} turns of {SECONDS} s, off and on alternating"
    )
    print(f"lookup-and-charge statement alone: {latency:.0f} µs (one connection, sequential)")
    print(f"{'arm':<30} {'off req/s':>10} {'on req/s':>10} {'on/off':>7} {'µs added':>9}")
    ratios = []
    for arm_name, measured in rates.items():
        off_rate, on_rate = statistics.median(measured["off"]), statistics.median(measured["on"])
        ratio = on_rate / off_rate
        if arm_name != healthz.name:
            ratios.append(ratio)
        added = (1 / on_rate - 1 / off_rate) * 1e6
        print(f"{arm_name:<30} {off_rate:>10.0f} {on_rate:>10.0f} {ratio:>7.2f} {added:>9.0f}")
    print(f"keyed arms, mean on/off: {statistics.mean(ratios):.2f}")


if __name__ == "__main__":
    main()

"""Real server processes for tests, and a table lock that makes a request wait.

A server runs on a free loopback port, logs to a file, and is stopped when the block
ends (SIGTERM, then SIGKILL after 10 s), whatever the test did to it meanwhile.
"""

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from db.infra.types import Connection

ROOT = Path(__file__).parents[2]


def uvicorn_command(port: int) -> list[str]:
    command = [sys.executable, "-m", "uvicorn", "--factory", "api.asgi:from_environment"]
    return [*command, "--host", "127.0.0.1", "--port", str(port)]


def serve_command(port: int) -> list[str]:
    # The console script, as a user runs it.
    return [str(Path(sys.executable).parent / "dealgraph"), "serve", "--port", str(port)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@dataclass(frozen=True)
class Server:
    process: "subprocess.Popen[bytes]"
    url: str
    log: Path


@contextlib.contextmanager
def running(
    command: list[str], port: int, env: Mapping[str, str], log: Path, *, timeout: float = 30
) -> Iterator[Server]:
    """The server, once /healthz answers (the database need not be up)."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=out
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            assert process.poll() is None, "the server exited:\n" + log.read_text()
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                    break
            assert time.monotonic() < deadline, "the server did not start:\n" + log.read_text()
            time.sleep(0.1)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.asynccontextmanager
async def tables_locked(db_url: str, *tables: str) -> AsyncIterator[Connection]:
    """Hold an exclusive lock on `tables` for the block: statements that touch them wait.
    Yields the connection that holds it, to watch the waiters from."""
    conn = await asyncpg.connect(db_url)
    try:
        async with conn.transaction():
            await conn.execute(f"lock table {', '.join(tables)} in access exclusive mode")
            yield conn
    finally:
        await conn.close()


async def until_waiting(conn: Connection, count: int = 1) -> None:
    """Return once `count` sessions of the database wait for a lock (within 10 s)."""
    async with asyncio.timeout(10):
        while True:
            waiting = await conn.fetchval(
                """
                select count(*) from pg_stat_activity
                where datname = current_database() and wait_event_type = 'Lock'
                """
            )
            if waiting >= count:
                return
            await asyncio.sleep(0.02)

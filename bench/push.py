"""Push latency and throughput: from a write to its webhook delivery and to its
subscription event, at a steady write rate; and the deliveries per second one
`dealgraph worker` sustains.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        flock /tmp/dealgraph-bench.lock uv run python -m bench.push --seconds 10 --rate 20

Uses (drops and makes again) the database `dealgraph_bench_push` on DATABASE_URL's
server. One `dealgraph serve` process takes the writes, dispatches and sends the
webhooks and serves the subscription; this process writes, receives the webhooks on
loopback and holds the WebSocket. Latencies run from the moment a write is sent: they
include the write itself, whose own p50 is printed alongside.
"""

import argparse
import asyncio
import contextlib
import datetime
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import orjson
import websockets

from api.guard.keys import issue_key
from api.push.signing import new_secret
from bench.harness import free_port, server
from db.access.principal import Scope
from db.infra.migrate import migrate
from db.webhooks.feed import NewDelivery, insert_deliveries

DATABASE = "dealgraph_bench_push"
SUBSCRIPTION = "subscription { roundChanged { event round { company { slug } } } }"
SOURCE = {
    "publisher": "Bench Wire",
    "kind": "PRESS_ANONYMOUS",
    "published_at": "2026-01-29T22:00:00Z",
}


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


class Receiver:
    """Answers 200 to every POST and notes when each body arrived."""

    def __init__(self, expected: int = 0) -> None:
        self.port = free_port()
        self.arrivals: list[tuple[float, bytes]] = []
        self.expected = expected
        self.all_in = asyncio.Event()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
                length = int(head.split("content-length:")[1].split("\r\n")[0])
                body = await reader.readexactly(length)
                self.arrivals.append((time.perf_counter(), body))
                if len(self.arrivals) == self.expected:
                    self.all_in.set()
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def _percentiles(values: list[float]) -> str:
    if not values:
        return "none"
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered):.1f} ms, p99 {p99:.1f} ms (n={len(ordered)})"


async def _fresh(admin_url: str) -> str:
    admin = await asyncpg.connect(_with_database(admin_url, "postgres"))
    try:
        await admin.execute(f"drop database if exists {DATABASE} with (force)")
        await admin.execute(f"create database {DATABASE}")
    finally:
        await admin.close()
    url = _with_database(admin_url, DATABASE)
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    return url


async def _latency(url: str, seconds: float, rate: float, log: Path) -> None:
    conn = await asyncpg.connect(url)
    try:
        key = (
            await issue_key(conn, name="bench", scope=Scope.WRITE, rate_limit_per_minute=10**9)
        ).secret
    finally:
        await conn.close()
    receiver = Receiver()
    listening = await asyncio.start_server(receiver.serve, "127.0.0.1", receiver.port)
    port = free_port()
    env = {"DATABASE_URL": url, "DEALGRAPH_WEBHOOK_ALLOW_PRIVATE": "1"}
    command = [str(Path(sys.executable).parent / "dealgraph"), "serve", "--port", str(port)]
    with server(command, port=port, env=env, ready_path="/healthz", log=log):
        headers = {"authorization": f"Bearer {key}"}
        async with (
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers) as http,
            websockets.connect(
                f"ws://127.0.0.1:{port}/graphql",
                subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            ) as ws,
        ):
            created = await http.post(
                "/v1/webhooks",
                json={"url": f"http://127.0.0.1:{receiver.port}/", "events": ["round.created"]},
            )
            created.raise_for_status()
            await ws.send(
                orjson.dumps(
                    {"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}
                ).decode()
            )
            await ws.recv()
            await ws.send(
                orjson.dumps(
                    {"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}
                ).decode()
            )
            events: list[tuple[float, dict[str, Any]]] = []

            async def listen() -> None:
                async for message in ws:
                    events.append((time.perf_counter(), orjson.loads(message)))

            listener = asyncio.create_task(listen())
            await asyncio.sleep(1)  # the subscription starts
            sent: dict[str, float] = {}
            writes: list[float] = []
            run = uuid.uuid4().hex[:6]
            started = time.perf_counter()
            n = 0
            while (now := time.perf_counter()) - started < seconds:
                slug_name = f"Bench {run} {n}"
                sent[f"bench-{run}-{n}"] = now
                answer = await http.post(
                    "/v1/reports",
                    json={
                        "company": {"name": slug_name},
                        "round_type": "SEED",
                        "stage": "ANNOUNCED",
                        "source": SOURCE,
                    },
                )
                answer.raise_for_status()
                writes.append((time.perf_counter() - now) * 1000)
                n += 1
                await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
            await asyncio.sleep(3)  # the last deliveries arrive
            listener.cancel()
    listening.close()

    def latencies(pairs: list[tuple[float, str]]) -> list[float]:
        return [(at - sent[slug]) * 1000 for at, slug in pairs if slug in sent]

    webhooks = latencies(
        [
            (at, orjson.loads(body)["data"]["round"]["company"]["slug"])
            for at, body in receiver.arrivals
        ]
    )
    subscriptions = latencies(
        [
            (at, e["payload"]["data"]["roundChanged"]["round"]["company"]["slug"])
            for at, e in events
            if e.get("type") == "next"
            and e["payload"]["data"]["roundChanged"]["event"] == "round.created"
        ]
    )
    print(f"writes: {n} at {rate:g}/s for {seconds:g} s; the write itself: {_percentiles(writes)}")
    print(f"write -> webhook delivered: {_percentiles(webhooks)}; {len(webhooks)}/{n} received")
    print(
        f"write -> subscription event: {_percentiles(subscriptions)};"
        f" {len(subscriptions)}/{n} received"
    )


async def _throughput(url: str, deliveries: int, log: Path) -> None:
    receiver = Receiver(deliveries)
    listening = await asyncio.start_server(receiver.serve, "127.0.0.1", receiver.port)
    conn = await asyncpg.connect(url)
    try:
        key_id = await conn.fetchval("select id from api_keys limit 1")
        endpoint = await conn.fetchval(
            """
            insert into webhook_endpoints (api_key_id, url, events, secret)
            values ($1, $2, '{round.created}', $3)
            returning id
            """,
            key_id,
            f"http://127.0.0.1:{receiver.port}/",
            new_secret(),
        )
        async with conn.transaction():
            await insert_deliveries(
                conn,
                [
                    NewDelivery(endpoint, "round.created", uuid.uuid4(), b'{"type":"bench"}')
                    for _ in range(deliveries)
                ],
                retry_window=datetime.timedelta(hours=1),
            )
        env = {**os.environ, "DATABASE_URL": url, "DEALGRAPH_WEBHOOK_ALLOW_PRIVATE": "1"}
        command = [str(Path(sys.executable).parent / "dealgraph"), "worker"]
        with log.open("ab") as out:
            process = await asyncio.create_subprocess_exec(
                *command, env=env, stdout=out, stderr=out
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(receiver.all_in.wait(), 300)
        await asyncio.sleep(1)  # the last attempts are recorded
        process.terminate()
        await process.wait()
        done = await conn.fetchval(
            """
            select count(*) from webhook_deliveries
            where status = 'delivered' and endpoint_id = $1
            """,
            endpoint,
        )
    finally:
        await conn.close()
        listening.close()
    # From the first arrival to the last: the worker's start-up is not its throughput.
    first, last = receiver.arrivals[0][0], receiver.arrivals[-1][0]
    print(
        f"one `dealgraph worker` (concurrency 4): {len(receiver.arrivals)} deliveries,"
        f" {(len(receiver.arrivals) - 1) / (last - first):.0f}/s between the first and the"
        f" last ({done} recorded delivered)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rate", type=float, default=20, help="writes per second")
    parser.add_argument("--deliveries", type=int, default=2000)
    args = parser.parse_args()
    url = await _fresh(os.environ["DATABASE_URL"])
    with tempfile.TemporaryDirectory(prefix="dealgraph-bench-push-") as directory:
        await _latency(url, args.seconds, args.rate, Path(directory) / "serve.log")
        await _throughput(url, args.deliveries, Path(directory) / "worker.log")


if __name__ == "__main__":
    asyncio.run(main())

"""Database time per point charged, over a corpus of expensive request shapes.

    DATABASE_URL=postgresql://.../db_with_crunchbase \\
        flock /tmp/dealgraph-bench.lock uv run python -m bench.cost [--repeat 3]

Runs against DATABASE_URL's database as it is (load the shared CrunchBase set first:
`dealgraph import crunchbase DIR`); it migrates it, analyzes it, and adds one key. The
app runs in this process; every statement on its pool is timed by asyncpg's query logger,
so a request's database time is the sum of its statements' (concurrent ones summed: the
database time it consumed, not its latency). What a request paid is read from its quota
once it is answered (owed points included). For each shape it prints the points, the
median database time and their ratio; then the worst ratio C: a request costing N points
took at most C x N ms of database time over this corpus. Refused shapes (priced over the
cost limit) are listed with their price and no database time.
"""

import argparse
import asyncio
import os
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
from asgi_lifespan import LifespanManager
from starlette.types import ASGIApp, Receive, Scope, Send

from api.app import create_app
from api.guard.keys import issue_key
from db.access.keys import ALL_SOURCE_KINDS
from db.access.principal import Scope as KeyScope
from db.infra.migrate import migrate

# More than the corpus can spend: the bench measures prices, not refusals.
PER_MINUTE = 1_000_000_000
CJK = "数据"


@dataclass(frozen=True)
class Shape:
    name: str
    method: str
    path: str
    body: dict[str, Any] | None = None


def _graphql(name: str, query: str) -> Shape:
    return Shape(name, "POST", "/graphql", {"query": query})


NODE = "id status amount { usd } company { name }"
OLD = "2000-01-01T00:00:00Z"
RECENT = "2026-01-01T00:00:00Z"
# After any import: as of now, every round is known.
NOW = "2100-01-01T00:00:00Z"


def corpus(big_round: str) -> list[Shape]:
    aliases = " ".join(
        f'a{i}: rounds(first: 20, asOf: "{RECENT}") {{ edges {{ node {{ {NODE} }} }} }}'
        for i in range(10)
    )
    return [
        _graphql(
            "rounds page (baseline)", f"{{ rounds(first: 20) {{ edges {{ node {{ {NODE} }} }} }} }}"
        ),
        _graphql("rounds totalCount", "{ rounds(first: 0) { totalCount } }"),
        _graphql(
            "rounds filtered, nothing matches",
            '{ rounds(first: 20, filter: {minAmountUsd: "1000000000000"})'
            " { edges { node { id } } } }",
        ),
        _graphql(
            "rounds asOf recent",
            f'{{ rounds(first: 20, asOf: "{RECENT}") {{ edges {{ node {{ {NODE} }} }} }} }}',
        ),
        _graphql(
            "rounds asOf now",
            f'{{ rounds(first: 20, asOf: "{NOW}") {{ edges {{ node {{ {NODE} }} }} }} }}',
        ),
        _graphql(
            "rounds asOf before all data",
            f'{{ rounds(first: 1, asOf: "{OLD}") {{ edges {{ node {{ id }} }} }} }}',
        ),
        _graphql(
            "rounds asOf totalCount",
            f'{{ rounds(first: 0, asOf: "{NOW}") {{ totalCount }} }}',
        ),
        _graphql("10 aliases of asOf pages", f"{{ {aliases} }}"),
        _graphql(
            "search 'sequoia' page",
            '{ organizations(first: 20, filter: {search: "sequoia"}) { edges { node { name } } } }',
        ),
        _graphql(
            "search 'sequoia' + totalCount",
            '{ organizations(first: 20, filter: {search: "sequoia"})'
            " { totalCount edges { node { name } } } }",
        ),
        *(
            _graphql(
                f"search {n} CJK characters + totalCount",
                f'{{ organizations(first: 1, filter: {{search: "{CJK * (n // 2)}"}})'
                " { totalCount } }",
            )
            for n in (20, 60, 200)
        ),
        _graphql("organizations totalCount", "{ organizations(first: 0) { totalCount } }"),
        _graphql(
            "nested connections",
            "{ organizations(first: 20, filter: {role: RAISED}) { edges { node { name"
            " rounds(first: 20) { totalCount edges { node {"
            " participations { investor { name } } } } } } } } }",
        ),
        _graphql("introspection (GraphiQL's)", _introspection()),
        _graphql(
            "round with participations, claims, history",
            f'{{ round(id: "{big_round}") {{ participations {{ investor {{ name }} }}'
            " claims { recordedAt source { url } } history { at status } } }",
        ),
        Shape("REST /v1/rounds?limit=100", "GET", "/v1/rounds?limit=100"),
        Shape("REST /v1/rounds as_of limit=100", "GET", f"/v1/rounds?limit=100&as_of={RECENT}"),
        Shape("REST /v1/rounds as_of now limit=100", "GET", f"/v1/rounds?limit=100&as_of={NOW}"),
        Shape("REST /v1/rounds status=DENIED", "GET", "/v1/rounds?limit=100&status=DENIED"),
        Shape("REST /v1/rounds/{largest round}", "GET", f"/v1/rounds/{big_round}"),
    ]


def _introspection() -> str:
    from graphql import get_introspection_query

    return get_introspection_query(descriptions=True)


class Timer:
    """Database time of every statement on the app's connections."""

    def __init__(self) -> None:
        self.seconds = 0.0

    async def attach(self, conn: "asyncpg.Connection[Any]") -> None:
        conn.add_query_logger(self._log)

    def _log(self, query: Any) -> None:
        self.seconds += query.elapsed


class Charged:
    """What the last request paid, read from its quota once it is answered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.points = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        quota = scope.get("state", {}).get("quota")
        if quota is not None:
            self.points = quota.charged


async def _largest_round(url: str) -> str:
    from db.infra.ids import Kind, encode_id

    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
        await conn.execute("analyze")
        found = await conn.fetchval(
            "select round_id from participations group by round_id order by count(*) desc limit 1"
        )
    finally:
        await conn.close()
    return encode_id(Kind.ROUND, found)


async def _key(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        issued = await issue_key(
            conn,
            name="bench cost",
            scope=KeyScope.READ,
            rate_limit_per_minute=PER_MINUTE,
            source_kinds=ALL_SOURCE_KINDS,
        )
    finally:
        await conn.close()
    return issued.secret


async def run(url: str, repeat: int) -> None:
    big_round = await _largest_round(url)
    secret = await _key(url)
    timer = Timer()
    app = Charged(create_app(url, pool_min_size=2, pool_max_size=10, on_connect=timer.attach))
    rows: list[tuple[str, int, float | None, str]] = []
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        headers = {"authorization": f"Bearer {secret}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", headers=headers, timeout=60
        ) as http:
            for shape in corpus(big_round):
                times: list[float] = []
                status = ""
                for attempt in range(repeat + 1):
                    before = timer.seconds
                    response = await http.request(shape.method, shape.path, json=shape.body)
                    status = str(response.status_code)
                    body = response.json()
                    errors = body.get("errors") if isinstance(body, dict) else None
                    if errors:
                        status = errors[0]["extensions"]["code"]
                    if attempt:  # the first run warms the caches
                        times.append((timer.seconds - before) * 1000)
                refused = status not in ("200",)
                ms = None if refused else statistics.median(times)
                rows.append((shape.name, app.points, ms, status))
    width = max(len(r[0]) for r in rows)
    print(f"{'shape':<{width}}  {'points':>7}  {'db ms':>8}  {'ms/point':>8}  answer")
    worst = 0.0
    for name, points, ms, status in rows:
        ratio = None if ms is None else ms / max(points, 1)
        worst = max(worst, ratio or 0.0)
        shown_ms = "-" if ms is None else f"{ms:8.1f}"
        shown_ratio = "-" if ratio is None else f"{ratio:8.3f}"
        print(f"{name:<{width}}  {points:>7}  {shown_ms:>8}  {shown_ratio:>8}  {status}")
    print(f"worst ratio C = {worst:.3f} ms of database time per point charged")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each shape")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("set DATABASE_URL to a database holding the CrunchBase set")
    started = time.monotonic()
    asyncio.run(run(url, args.repeat))
    print(f"in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()

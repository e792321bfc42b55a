"""roundStats and coInvestors against their floor: the same GROUP BY and self-join written
by hand and run through asyncpg, in the same run.

Prepares the CrunchBase database as bench/run does (`dealgraph_bench`) and, unless
`--skip-million`, its copy grown to a million rounds (`dealgraph_bench_1m`, dropped at
the end); starts dealgraph on each; then, one request at a time, alternates each face's
request with its floor query, `--samples` times each; and the same for the statements
alone, as the API runs them without HTTP. Prints a RESULT line per side (p50,
p99, mean in ms) and `RATIO <goal> <measured> target <=1.5 ok|short` (medians compared).
Uses fixed database names: run it under the benchmark lock.

    flock /tmp/dealgraph-bench.lock uv run python -m bench.stats [--samples 30] [--skip-million]
"""

import argparse
import asyncio
import contextlib
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import httpx

from bench.harness import free_port, server
from bench.run import CACHE, DATABASE, MILLION, _admin, _grow_to_a_million, _prepare, _url
from db.co_investors import co_investors_scope, list_co_investors
from db.infra.ids import Kind, encode_id
from db.infra.pagination import page_request
from db.rounds import RoundFilter
from db.stats import round_stats

STATS_QUERY = """{ roundStats(groupBy: [PERIOD, ROUND_TYPE], period: QUARTER) {
  key { period { date precision text } roundType }
  count disclosedCount amountUsd { sum median p25 p75 min max }
  boundedCount { upTo atLeast range about } } }"""
STATS_REST = "/v1/stats/rounds?group_by=quarter,round_type"
# The floor: what one would write by hand for the same figures (but no empty quarters).
STATS_FLOOR = """
    select date_trunc('quarter', announced_on)::date as quarter, round_type,
           count(*), count(amount_usd), sum(amount_usd),
           percentile_cont(array[0.25, 0.5, 0.75]) within group (order by amount_usd::float8),
           min(amount_usd), max(amount_usd),
           count(amount_usd) filter (where (amount).qualifier = 'UP_TO'),
           count(amount_usd) filter (where (amount).qualifier = 'AT_LEAST'),
           count(amount_usd) filter (where (amount).qualifier = 'RANGE'),
           count(amount_usd) filter (where (amount).qualifier = 'ABOUT')
    from rounds group by 1, 2 order by 1, 2
"""
CO_INVESTORS_QUERY = """query ($id: ID!) { organization(id: $id) {
  coInvestors(first: 20) { edges { sharedRounds node { id name } } } } }"""
CO_INVESTORS_FLOOR = """
    select s.id, coalesce(o.name, pe.name) as name, s.shared
    from (
        select coalesce(q.investor_organization_id, q.investor_person_id) as id,
               count(*) as shared
        from participations p
        join participations q on q.round_id = p.round_id and q.id <> p.id
        where p.investor_organization_id = $1
        group by 1
        order by 2 desc, 1 desc
        limit 20
    ) s
    left join organizations o on o.id = s.id
    left join people pe on pe.id = s.id
    order by s.shared desc, s.id desc
"""


@dataclass(frozen=True, slots=True)
class Timings:
    p50_ms: float
    p99_ms: float
    mean_ms: float

    @classmethod
    def of(cls, seconds: list[float]) -> "Timings":
        ms = sorted(s * 1000 for s in seconds)
        p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
        return cls(statistics.median(ms), p99, statistics.mean(ms))


async def _timed(call: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


async def _pair(
    label: str,
    face: Callable[[], Awaitable[object]],
    floor: Callable[[], Awaitable[object]],
    samples: int,
) -> None:
    await face(), await floor()  # warm up: plans, caches, connections
    faces, floors = [], []
    for _ in range(samples):
        faces.append(await _timed(face))
        floors.append(await _timed(floor))
    a, b = Timings.of(faces), Timings.of(floors)
    for side, t in ((label, a), (f"{label}_floor", b)):
        print(
            f"RESULT {side} p50_ms={t.p50_ms:.1f} p99_ms={t.p99_ms:.1f} mean_ms={t.mean_ms:.1f}"
            f" samples={samples}"
        )
    ratio = a.p50_ms / b.p50_ms
    print(f"RATIO {label} {ratio:.2f} target <=1.5 {'ok' if ratio <= 1.5 else 'short'}")
    sys.stdout.flush()


async def _measure(port: int, db_url: str, secret: str, scale: str, samples: int) -> None:
    conn = await asyncpg.connect(db_url)
    headers = {"Authorization": f"Bearer {secret}"}
    base = f"http://127.0.0.1:{port}"
    try:
        rounds = await conn.fetchval("select count(*) from rounds")
        busiest = await conn.fetchrow(
            "select investor_organization_id, count(*) from participations"
            " where investor_organization_id is not null group by 1 order by 2 desc limit 1"
        )
        assert busiest is not None
        investor, investments = busiest
        print(f"RESULT {scale} rounds={rounds} most_active_investor_investments={investments}")
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as http:

            async def graphql(query: str, variables: dict[str, object] | None = None) -> None:
                answer = await http.post("/graphql", json={"query": query, "variables": variables})
                assert answer.status_code == 200, answer.text
                assert "errors" not in answer.json(), answer.text

            async def rest(path: str) -> None:
                answer = await http.get(path)
                assert answer.status_code == 200, answer.text

            public = encode_id(Kind.ORGANIZATION, investor)
            # The statements as the API runs them, without HTTP: what the database side
            # costs against the floor.
            await _pair(
                f"round_stats_statement_{scale}",
                lambda: round_stats(
                    conn,
                    filter=RoundFilter(),
                    group_by=["PERIOD", "ROUND_TYPE"],
                    period="QUARTER",
                    group_by_field="groupBy",
                ),
                lambda: conn.fetch(STATS_FLOOR),
                samples,
            )
            await _pair(
                f"co_investors_statement_{scale}",
                lambda: list_co_investors(
                    conn, [investor], page_request(co_investors_scope(investor), first=20)
                ),
                lambda: conn.fetch(CO_INVESTORS_FLOOR, investor),
                samples,
            )
            await _pair(
                f"round_stats_graphql_{scale}",
                lambda: graphql(STATS_QUERY),
                lambda: conn.fetch(STATS_FLOOR),
                samples,
            )
            await _pair(
                f"round_stats_rest_{scale}",
                lambda: rest(STATS_REST),
                lambda: conn.fetch(STATS_FLOOR),
                samples,
            )
            await _pair(
                f"co_investors_graphql_{scale}",
                lambda: graphql(CO_INVESTORS_QUERY, {"id": public}),
                lambda: conn.fetch(CO_INVESTORS_FLOOR, investor),
                samples,
            )
            await _pair(
                f"co_investors_rest_{scale}",
                lambda: rest(f"/v1/organizations/{public}/co-investors?limit=20"),
                lambda: conn.fetch(CO_INVESTORS_FLOOR, investor),
                samples,
            )
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=30, help="requests per side")
    parser.add_argument("--skip-million", action="store_true", help="leave out the 1M scale")
    args = parser.parse_args()
    secret, _ = asyncio.run(_prepare())
    logs = CACHE / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    uvicorn = [sys.executable, "-m", "uvicorn", "--factory", "--no-access-log"]
    scales = [("30k", DATABASE)]
    with contextlib.ExitStack() as servers:
        if not args.skip_million:
            servers.callback(
                lambda: asyncio.run(_admin(f"drop database if exists {MILLION} with (force)"))
            )
            started = time.monotonic()
            total = asyncio.run(_grow_to_a_million())
            print(f"RESULT million_rounds={total} built_seconds={time.monotonic() - started:.0f}")
            scales.append(("1m", MILLION))
        for scale, database in scales:
            port = free_port()
            with server(
                [*uvicorn, "--port", str(port), "api.asgi:from_environment"],
                port=port,
                env={"DATABASE_URL": _url(database)},
                ready_path="/healthz",
                log=logs / f"dealgraph-stats-{scale}.log",
            ):
                asyncio.run(_measure(port, _url(database), secret, scale, args.samples))


if __name__ == "__main__":
    main()

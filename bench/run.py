"""The performance targets of the project, measured in one run on one database.

Prepares a database from the real CrunchBase 2013 set (about 31,600 rounds), starts
dealgraph, PostGraphile v4 and a bare asyncpg handler serving the same REST JSON (one
process each), loads them with wrk, and prints a RESULT line per measurement and a
RATIO line per goal:
`RATIO <goal> <measured> target <target> ok|short`. Installs wrk (apt-get) and
PostGraphile (npm, into bench/.cache) when they are missing; stops all it started.

    bench/run [--seconds 10] [--skip-million]
"""

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import asyncpg
import orjson
import psutil

from bench.harness import ROOT, Load, free_port, server, wrk
from db.pagination import Keyset, encode_cursor
from db.rounds import RoundFilter, RoundOrder, rounds_scope

CACHE = ROOT / "bench" / ".cache"
DATA = ROOT.parent / "shared" / "data" / "crunchbase-2013"
BASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DATABASE = "dealgraph_bench"

LIST_QUERY = (
    "{ rounds(first: 50) { edges { node { id company { name } "
    "participations { investor { name } } } } } }"
)
POSTGRAPHILE_LIST = (
    "{ allRounds(first: 50, orderBy: ANNOUNCED_ON_DESC) { nodes { id "
    "organizationByCompanyId { name } participationsByRoundId { nodes { "
    "organizationByInvestorOrganizationId { name } personByInvestorPersonId { name } } } } } }"
)
NESTED_QUERY = (
    '{ organization(slug: "%s") { name rounds(first: 50) { edges { node { id '
    "participations { investor { name } } } } } } }"
)
POSTGRAPHILE_NESTED = (
    '{ organizationBySlug(slug: "%s") { name roundsByCompanyId(first: 50, '
    "orderBy: ANNOUNCED_ON_DESC) { nodes { id participationsByRoundId { nodes { "
    "organizationByInvestorOrganizationId { name } personByInvestorPersonId { name } } } } } } }"
)


def _url(name: str) -> str:
    head, _, _ = BASE_URL.rpartition("/")
    return f"{head}/{name}"


def _ensure_tools() -> Path:
    if shutil.which("wrk") is None:
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True)  # noqa: S607
    postgraphile = CACHE / "node_modules" / ".bin" / "postgraphile"
    if not postgraphile.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(  # noqa: S603
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(CACHE), "postgraphile@4"],  # noqa: S607
            check=True,
        )
    return postgraphile


def _dealgraph(*args: str, env: dict[str, str]) -> str:
    command = str(Path(sys.executable).parent / "dealgraph")
    done = subprocess.run(  # noqa: S603
        [command, *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


async def _prepare() -> tuple[str, str]:
    """A fresh database with the real set and the demo; a key without a practical limit."""
    admin = await asyncpg.connect(_url("postgres"))
    try:
        await admin.execute(f"drop database if exists {DATABASE} with (force)")
        await admin.execute(f"create database {DATABASE}")
    finally:
        await admin.close()
    env = {"DATABASE_URL": _url(DATABASE)}
    started = time.monotonic()
    _dealgraph("import", "crunchbase", str(DATA), env=env)
    _dealgraph("seed", env=env)
    print(f"RESULT prepare_seconds {time.monotonic() - started:.1f}")
    out = _dealgraph(
        "keys",
        "create",
        "--name",
        "bench",
        "--scope",
        "read",
        "--rate-limit",
        "1000000000",
        env=env,
    )
    secret = out.strip().splitlines()[-1]
    conn = await asyncpg.connect(_url(DATABASE))
    try:
        # As autovacuum would soon after a load: plans from real statistics.
        await conn.execute("analyze")
        busiest = await conn.fetchval(
            "select o.slug from organizations o join rounds r on r.company_id = o.id"
            " group by o.slug order by count(*) desc, o.slug limit 1"
        )
    finally:
        await conn.close()
    return secret, busiest


def _report(goal: str, measured: float, target: float, *, higher_is_better: bool = True) -> None:
    ok = measured >= target if higher_is_better else measured <= target
    sign = ">=" if higher_is_better else "<="
    print(f"RATIO {goal} {measured:.2f} target {sign}{target} {'ok' if ok else 'short'}")


def _result(name: str, load: Load) -> None:
    print(
        f"RESULT {name} rps={load.requests_per_second:.0f} p99_ms={load.p99_ms:.1f}"
        f" mean_ms={load.mean_ms:.2f} errors={load.errors}"
    )


def _graphql_body(query: str) -> str:
    return orjson.dumps({"query": query}).decode()


def _rss_during_load(
    pid: int, url: str, body: str, headers: dict[str, str], seconds: int
) -> list[float]:
    samples: list[float] = []
    process = psutil.Process(pid)
    worker = [p for p in process.children(recursive=True) if "python" in p.name().lower()] or [
        process
    ]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append(sum(p.memory_info().rss for p in worker) / 2**20)
            time.sleep(1)

    thread = threading.Thread(target=sample)
    thread.start()
    try:
        wrk(url, body=body, headers=headers, seconds=seconds)
    finally:
        stop.set()
        thread.join()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rss-seconds", type=int, default=60)
    parser.add_argument("--skip-million", action="store_true", help="leave out the 1M scale")
    args = parser.parse_args()
    postgraphile = _ensure_tools()
    secret, busiest = asyncio.run(_prepare())
    auth = {"Authorization": f"Bearer {secret}"}
    db_url = _url(DATABASE)
    logs = CACHE / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    ours, theirs, bare = free_port(), free_port(), free_port()
    uvicorn = [sys.executable, "-m", "uvicorn", "--factory", "--no-access-log"]
    env = {"DATABASE_URL": db_url}
    postgraphile_command = [
        str(postgraphile), "-c", db_url, "--port", str(theirs), "--host", "127.0.0.1",
        "--disable-graphiql",
    ]  # fmt: skip
    with (
        server([*uvicorn, "--port", str(ours), "api.asgi:from_environment"], port=ours,
               env=env, ready_path="/healthz", log=logs / "dealgraph.log") as dealgraph,
        server(postgraphile_command, port=theirs, env={}, ready_path="/graphql",
               log=logs / "postgraphile.log"),
        server([*uvicorn, "--port", str(bare), "bench.bare:app"], port=bare, env=env,
               ready_path="/v1/rounds", log=logs / "bare.log"),
    ):  # fmt: skip
        targets = Targets(ours, theirs, bare, auth, busiest, args.seconds)
        small = targets.measure("30k", deep_rows=500 * 50, compare=True)
        samples = _rss_during_load(
            dealgraph.pid, targets.ours_graphql, _graphql_body(LIST_QUERY), auth, args.rss_seconds
        )
        spread = (max(samples) - min(samples)) / statistics.mean(samples)
        print(f"RESULT rss_mb min={min(samples):.1f} max={max(samples):.1f} samples={len(samples)}")
        _report("rss_flat", spread, 0.05, higher_is_better=False)
        _report("rss_max_mb", max(samples), 200, higher_is_better=False)
        if args.skip_million:
            return
        started = time.monotonic()
        total = asyncio.run(_grow_to_a_million(db_url))
        print(f"RESULT million_rounds={total} built_seconds={time.monotonic() - started:.0f}")
        large = targets.measure("1m", deep_rows=10_000 * 50, compare=False)
        for name, latency in large.items():
            _report(f"scale_{name}", latency / small[name], 1.2, higher_is_better=False)


class Targets:
    """The servers under test, and the measurements made of them on one database."""

    def __init__(
        self, ours: int, theirs: int, bare: int, auth: dict[str, str], busiest: str, seconds: int
    ) -> None:
        self.ours_graphql = f"http://127.0.0.1:{ours}/graphql"
        self.theirs_graphql = f"http://127.0.0.1:{theirs}/graphql"
        self.ours_rest = f"http://127.0.0.1:{ours}/v1/rounds?limit=50"
        self.bare_rest = f"http://127.0.0.1:{bare}/v1/rounds"
        self.auth, self.busiest, self.seconds = auth, busiest, seconds

    def measure(self, label: str, *, deep_rows: int, compare: bool) -> dict[str, float]:
        """Mean latencies (ms) by measurement; with `compare`, against the others too."""
        latencies: dict[str, float] = {}
        pairs = {
            "graphql_list": (LIST_QUERY, POSTGRAPHILE_LIST),
            "graphql_nested": (NESTED_QUERY % self.busiest, POSTGRAPHILE_NESTED % self.busiest),
        }
        for goal, (our_query, their_query) in pairs.items():
            body = _graphql_body(our_query)
            wrk(self.ours_graphql, body=body, headers=self.auth, seconds=2)  # warm up
            mine = wrk(self.ours_graphql, body=body, headers=self.auth, seconds=self.seconds)
            _result(f"{goal}_dealgraph_{label}", mine)
            latencies[goal] = mine.mean_ms
            if compare:
                theirs = _graphql_body(their_query)
                wrk(self.theirs_graphql, body=theirs, seconds=2)
                other = wrk(self.theirs_graphql, body=theirs, seconds=self.seconds)
                _result(f"{goal}_postgraphile_{label}", other)
                _report(goal, mine.requests_per_second / other.requests_per_second, 1.0)
                _report(f"{goal}_p99", mine.p99_ms / other.p99_ms, 1.0, higher_is_better=False)
        rest = wrk(self.ours_rest, headers=self.auth, seconds=self.seconds)
        _result(f"rest_list_dealgraph_{label}", rest)
        latencies["rest_list"] = rest.mean_ms
        if compare:
            floor = wrk(self.bare_rest, seconds=self.seconds)
            _result(f"rest_list_bare_{label}", floor)
            _report("rest_list", rest.requests_per_second / floor.requests_per_second, 0.8)
        deep = asyncio.run(_deep_cursor(_url(DATABASE), rows=deep_rows))
        deep_query = LIST_QUERY.replace("first: 50", f'first: 50, after: "{deep}"')
        later = wrk(
            self.ours_graphql, body=_graphql_body(deep_query), headers=self.auth,
            seconds=self.seconds,
        )  # fmt: skip
        pages = deep_rows // 50
        _result(f"page_{pages}_{label}", later)
        _report(
            f"deep_page_{pages}_{label}", later.mean_ms / latencies["graphql_list"], 1.2,
            higher_is_better=False,
        )  # fmt: skip
        return latencies


async def _grow_to_a_million(db_url: str) -> int:
    """Synthetic rounds copied in SQL from the real ones (new ids, dates a day later each
    copy, the same companies and investors) up to a million. Triggers are skipped, as a
    bulk load of a benchmark database may: the change feed is not under test here."""
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute("set session_replication_role = replica")
        real = await conn.fetchval("select count(*) from rounds")
        await conn.execute(
            "create temp table copied as select r.id as source, gen_random_uuid() as id,"
            " c as copy from rounds r, generate_series(1, $1) as c",
            -(-1_000_000 // real) - 1,
        )
        await conn.execute(
            """
            insert into rounds (id, company_id, round_type, reported_label, status, stage,
                                announced_on, announced_precision, amount)
            select k.id, r.company_id, r.round_type, r.reported_label, r.status, r.stage,
                   r.announced_on + k.copy, r.announced_precision, r.amount
            from copied k join rounds r on r.id = k.source
            """
        )
        await conn.execute(
            """
            insert into participations (round_id, investor_organization_id, investor_person_id,
                                        amount, is_lead, status, stage)
            select k.id, p.investor_organization_id, p.investor_person_id, p.amount, p.is_lead,
                   p.status, p.stage
            from copied k join participations p on p.round_id = k.source
            """
        )
        await conn.execute("analyze")
        total: int = await conn.fetchval("select count(*) from rounds")
        return total
    finally:
        await conn.close()


async def _deep_cursor(db_url: str, *, rows: int) -> str:
    """The cursor of the row `rows` into the default list, made as the API makes it."""
    conn = await asyncpg.connect(db_url)
    try:
        row = await conn.fetchrow(
            "select coalesce(announced_on, '-infinity'::date)::text as key, id from rounds"
            " order by coalesce(announced_on, '-infinity'::date) desc, id desc offset $1 limit 1",
            rows,
        )
    finally:
        await conn.close()
    assert row is not None
    return encode_cursor(rounds_scope(RoundFilter(), RoundOrder()), Keyset(row["key"], row["id"]))


if __name__ == "__main__":
    main()

"""The performance targets of the project, measured in one run.

Prepares a database from the real CrunchBase 2013 set (about 31,600 rounds) and a copy
grown to a million rounds and a million organizations; starts dealgraph on each,
PostGraphile v4 (with postgraphile-plugin-connection-filter) and a bare asyncpg handler
serving the same REST JSON (one process each); loads them with wrk, the two sides of
each ratio in turn, each side first asked until it answers; prints a RESULT line per
measurement and a RATIO line per goal: `RATIO <goal> <measured> target <target>
ok|short`. Installs wrk (apt-get) and PostGraphile (npm, into bench/.cache) when they
are missing; stops all it started and drops the 1M-round database.

    bench/run [--seconds 10] [--rounds 3] [--rss-seconds 60] [--skip-million] [--reuse-database]
              [--corpus-selections 12] [--corpus-samples 15]
"""

import argparse
import asyncio
import contextlib
import dataclasses
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import orjson
import psutil

from bench import corpus, screens
from bench.harness import ROOT, Load, WrkOutputError, free_port, server, wrk
from db.infra.pagination import Keyset, encode_cursor, load_cursor_key
from db.rounds import RoundFilter, RoundOrder, rounds_scope

CACHE = ROOT / "bench" / ".cache"
DATA = ROOT.parent / "shared" / "data" / "crunchbase-2013"
BASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# BENCH_DATABASE: another name, for a run beside another helper's database.
DATABASE = os.environ.get("BENCH_DATABASE", "dealgraph_bench")
MILLION = f"{DATABASE}_1m"
# What a run can measure (--only picks some): the 30k set's goals, then the 1M scale's.
SMALL_GOALS = (
    "postgraphile", "screens", "corpus", "floor", "autocomplete", "typing", "deep_page", "rss",
)  # fmt: skip
MILLION_GOALS = ("scale", "screens_1m", "typing_1m", "deep_page_1m")

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
# A frontend's autocomplete: 8 organizations for what is typed. PostGraphile's
# equivalent, with postgraphile-plugin-connection-filter as its users run it, is a
# case-insensitive substring of the name (no aliases, no typos, no ranking).
AUTOCOMPLETE_QUERY = (
    '{ organizations(first: 8, filter: {search: "%s"}) { edges { node { id name slug } } } }'
)
POSTGRAPHILE_AUTOCOMPLETE = (
    '{ allOrganizations(first: 8, filter: {name: {includesInsensitive: "%s"}}, '
    "orderBy: NAME_ASC) { nodes { id name slug } } }"
)
# What a typist sends: a name, the first letters of names as typed, typos.
AUTOCOMPLETE_TERMS = ("sequoia", "seq", "sequ", "andre", "face book", "sequioa", "facebok")
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
    plugin = CACHE / "node_modules" / "postgraphile-plugin-connection-filter"
    if not (postgraphile.exists() and plugin.exists()):
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(  # noqa: S603
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(CACHE), "postgraphile@4",  # noqa: S607
             "postgraphile-plugin-connection-filter@2"],
            check=True,
        )  # fmt: skip
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


async def _admin(*statements: str) -> None:
    admin = await asyncpg.connect(_url("postgres"))
    try:
        for statement in statements:
            await admin.execute(statement)
    finally:
        await admin.close()


async def _admin_in(name: str, *statements: str) -> None:
    conn = await asyncpg.connect(_url(name))
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def _recreate(name: str, *, template: str = "template1") -> None:
    await _admin(
        f"drop database if exists {name} with (force)",
        f"create database {name} template {template}",
    )


async def _loaded() -> bool:
    """Whether the benchmark database exists and holds the real set."""
    admin = await asyncpg.connect(_url("postgres"))
    try:
        exists = await admin.fetchval("select 1 from pg_database where datname = $1", DATABASE)
    finally:
        await admin.close()
    if not exists:
        return False
    conn = await asyncpg.connect(_url(DATABASE))
    try:
        loaded: bool = await conn.fetchval(
            "select to_regclass('rounds') is not null"
            " and exists (select 1 from rounds offset 30000)"
        )
    finally:
        await conn.close()
    return loaded


async def _prepare(*, reuse: bool = False) -> tuple[str, str]:
    """A fresh database with the real set and the demo (or, with `reuse`, the one a
    previous run loaded, migrated); a key without a practical limit."""
    env = {"DATABASE_URL": _url(DATABASE)}
    started = time.monotonic()
    if reuse and await _loaded():
        _dealgraph("migrate", env=env)
    else:
        await _recreate(DATABASE)
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
        # What autovacuum would do soon after a load, done before measuring instead of
        # during: plans from real statistics, no vacuum of fresh rows competing for CPU.
        await conn.execute("vacuum (analyze)")
        await conn.execute("checkpoint")
        busiest = await conn.fetchval(
            "select o.slug from organizations o join rounds r on r.company_id = o.id"
            " group by o.slug order by count(*) desc, o.slug limit 1"
        )
    finally:
        await conn.close()
    return secret, busiest


def _ratio(measured: float, against: float) -> float:
    """measured / against; infinite when the other side completed nothing (PostGraphile's
    substring search at 1M organizations may answer no request within a run)."""
    return measured / against if against else float("inf")


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
    parser.add_argument("--seconds", type=int, default=10, help="length of one wrk run")
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating runs of each side of a ratio"
    )
    parser.add_argument("--rss-seconds", type=int, default=60)
    parser.add_argument("--skip-million", action="store_true", help="leave out the 1M scale")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated goals to measure, of "
        + ", ".join(SMALL_GOALS + MILLION_GOALS)
        + ", or 1m for all of the 1M scale's (default: all)",
    )
    parser.add_argument(
        "--reuse-database",
        action="store_true",
        help=f"keep {DATABASE} (and {MILLION}) as a previous run loaded them (migrated)"
        " instead of loading them again; the 1M database is then kept at the end",
    )
    parser.add_argument(
        "--corpus-selections", type=int, default=12, help="field selections of the corpus"
    )
    parser.add_argument("--corpus-samples", type=int, default=15, help="requests per query")
    args = parser.parse_args()
    goals = _goals(args.only, skip_million=args.skip_million)
    postgraphile = _ensure_tools()
    secret, busiest = asyncio.run(_prepare(reuse=args.reuse_database))
    million = any(goal in MILLION_GOALS for goal in goals)
    if million:
        started = time.monotonic()
        reused = args.reuse_database and asyncio.run(_grown())
        if reused:
            _dealgraph("migrate", env={"DATABASE_URL": _url(MILLION)})
            asyncio.run(_copy_keys())
            # As after the grow and for the 30k database: what autovacuum would do soon
            # after the migrations' writes (a table they filled has no visibility map
            # yet, so its counts read the heap), done before measuring.
            asyncio.run(_admin_in(MILLION, "vacuum (analyze)", "checkpoint"))
        else:
            asyncio.run(_grow_to_a_million())
        rounds, organizations, size = asyncio.run(_sizes(MILLION))
        print(
            f"RESULT million_rounds={rounds} organizations={organizations} db_mb={size}"
            f" {'migrated' if reused else 'built'}_seconds={time.monotonic() - started:.0f}"
        )
    auth = {"Authorization": f"Bearer {secret}"}
    logs = CACHE / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    ours, theirs, bare, ours_1m = free_port(), free_port(), free_port(), free_port()
    uvicorn = [sys.executable, "-m", "uvicorn", "--factory", "--no-access-log"]
    small_env, large_env = {"DATABASE_URL": _url(DATABASE)}, {"DATABASE_URL": _url(MILLION)}
    postgraphile_command = [
        str(postgraphile), "-c", _url(DATABASE), "--port", str(theirs), "--host", "127.0.0.1",
        "--disable-graphiql", "--append-plugins", "postgraphile-plugin-connection-filter",
    ]  # fmt: skip
    with contextlib.ExitStack() as servers:
        if million and not args.reuse_database:
            # 1.6 GB, built again by the next run: gone once its server has stopped.
            servers.callback(
                lambda: asyncio.run(_admin(f"drop database if exists {MILLION} with (force)"))
            )
        dealgraph = servers.enter_context(
            server([*uvicorn, "--port", str(ours), "api.asgi:from_environment"], port=ours,
                   env=small_env, ready_path="/healthz", log=logs / "dealgraph.log")
        )  # fmt: skip
        servers.enter_context(
            server(postgraphile_command, port=theirs, env={}, ready_path="/graphql",
                   log=logs / "postgraphile.log")
        )  # fmt: skip
        servers.enter_context(
            server([*uvicorn, "--port", str(bare), "bench.bare:app"], port=bare, env=small_env,
                   ready_path="/v1/rounds", log=logs / "bare.log")
        )  # fmt: skip
        if million:
            # Measured first, before anything else has asked it: a restarted server's
            # first answers (its connections, cold plans and pages) are a goal too.
            servers.enter_context(
                server([*uvicorn, "--port", str(ours_1m), "api.asgi:from_environment"],
                       port=ours_1m, env=large_env, ready_path="/healthz",
                       log=logs / "dealgraph-1m.log")
            )  # fmt: skip
        bench = Bench(auth, busiest, seconds=args.seconds, rounds=args.rounds)
        small = Targets(ours, auth, busiest)
        large = Targets(ours_1m, auth, busiest)
        if million:
            bench.first_answers(large, "1m")
        if "postgraphile" in goals:
            bench.against_postgraphile(small, f"http://127.0.0.1:{theirs}/graphql")
        if "screens" in goals:
            screens.measure(bench, small.graphql, auth, _url(DATABASE), logs)
        if "corpus" in goals:
            corpus.measure(
                small.graphql, auth, _url(DATABASE), selections_count=args.corpus_selections,
                samples=args.corpus_samples, seed=19,
            )  # fmt: skip
        if "floor" in goals:
            bench.against_floor(small, f"http://127.0.0.1:{bare}/v1/rounds")
        if "autocomplete" in goals:
            bench.autocomplete(small, f"http://127.0.0.1:{theirs}/graphql")
        if "typing" in goals:
            bench.typing(small, "30k")
        if "deep_page" in goals:
            bench.deep_page(small, _url(DATABASE), pages=500, label="30k")
        if "rss" in goals:
            samples = _rss_during_load(
                dealgraph.pid, small.graphql, _graphql_body(LIST_QUERY), auth, args.rss_seconds
            )
            spread = (max(samples) - min(samples)) / statistics.mean(samples)
            print(
                f"RESULT rss_mb min={min(samples):.1f} max={max(samples):.1f}"
                f" samples={len(samples)}"
            )
            _report("rss_flat", spread, 0.05, higher_is_better=False)
            _report("rss_max_mb", max(samples), 200, higher_is_better=False)
        if "scale" in goals:
            bench.at_scale(small, large)
            screens.at_scale(bench, small.graphql, large.graphql, auth, _url(DATABASE))
        if "screens_1m" in goals:
            screens.measure(
                bench, large.graphql, auth, _url(MILLION), logs, label="1m",
                picks_url=_url(DATABASE),
            )  # fmt: skip
        if "typing_1m" in goals:
            bench.typing(large, "1m")
        if "deep_page_1m" in goals:
            bench.deep_page(large, _url(MILLION), pages=10_000, label="1m")


def _goals(only: str, *, skip_million: bool) -> tuple[str, ...]:
    known = SMALL_GOALS + MILLION_GOALS
    if not only:
        return SMALL_GOALS if skip_million else known
    asked = {g.strip() for g in only.split(",") if g.strip()}
    if "1m" in asked:
        asked = (asked - {"1m"}) | set(MILLION_GOALS)
    unknown = asked - set(known)
    if unknown:
        raise SystemExit(f"unknown goals {sorted(unknown)}; known: {', '.join(known)}, 1m")
    return tuple(g for g in known if g in asked)


@dataclass(frozen=True, slots=True)
class Request:
    """One request wrk repeats: a GET, or a POST of `body`."""

    url: str
    body: str | None = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)

    def load(self, seconds: int, *, connections: int = 16) -> Load:
        return wrk(
            self.url, body=self.body, headers=self.headers, seconds=seconds,
            connections=connections,
        )  # fmt: skip

    def answered(self, *, within: float) -> float:
        """Seconds until this request is first answered 200 (without GraphQL errors):
        a server just started, or on a database just loaded, may take a while."""
        started = time.monotonic()
        last = "nothing"
        while (waited := time.monotonic() - started) < within:
            try:
                answer = httpx.request(
                    "GET" if self.body is None else "POST", self.url, content=self.body,
                    headers={**self.headers, "Content-Type": "application/json"},
                    timeout=within - waited,
                )  # fmt: skip
            except httpx.HTTPError as error:
                last = repr(error)
                time.sleep(0.5)
                continue
            if answer.status_code == 200 and "errors" not in answer.json():
                return time.monotonic() - started
            last = f"{answer.status_code} {answer.text[:500]}"
            if answer.status_code not in (429, 502, 503, 504):
                break  # asking again will not help
        raise RuntimeError(f"{self.url} ({(self.body or '')[:120]}) answered {last}")


class Targets:
    """The requests under test on one dealgraph server."""

    def __init__(self, port: int, auth: dict[str, str], busiest: str) -> None:
        self.graphql = f"http://127.0.0.1:{port}/graphql"
        self.auth = auth
        self.graphql_list = self.query(LIST_QUERY)
        self.graphql_nested = self.query(NESTED_QUERY % busiest)
        self.rest_list = Request(f"http://127.0.0.1:{port}/v1/rounds?limit=50", None, auth)

    def query(self, text: str) -> Request:
        return Request(self.graphql, _graphql_body(text), self.auth)


def _median_load(loads: list[Load]) -> Load:
    return Load(
        statistics.median(x.requests_per_second for x in loads),
        statistics.median(x.p99_ms for x in loads),
        statistics.median(x.mean_ms for x in loads),
        sum(x.errors for x in loads),
    )


class Bench:
    """Each ratio from its two sides run in turn, `rounds` times each, medians compared:
    on a shared machine a slow minute then falls on both sides instead of on one."""

    def __init__(self, auth: dict[str, str], busiest: str, *, seconds: int, rounds: int) -> None:
        self.auth, self.busiest, self.seconds, self.rounds = auth, busiest, seconds, rounds

    def warm(self, request: Request) -> None:
        """Until the server answers (however long its first answer takes: that is
        printed when over a second), then load for a few times that long (2 s at
        least), so each run starts warm. A side slower than a wrk run is still measured:
        its runs say how slow."""
        first = request.answered(within=300)
        if first > 1:
            print(f"RESULT first_answer_s={first:.1f} url={request.url} body={request.body}")
        seconds = max(2, int(3 * first) + 1)
        for _ in range(3):
            try:
                if request.load(seconds).requests_per_second > 0:
                    return
            except WrkOutputError as error:
                print(f"RESULT warm_up_unmeasured {error}".replace("\n", " | "))
        print(f"RESULT warm_up_incomplete url={request.url} body={request.body}")

    def first_answers(self, ours: Targets, label: str) -> None:
        """How long a server just started takes to answer its first requests, each
        request asked once in turn (a user's first page after a restart), then again."""
        for name, request in (
            ("graphql_list", ours.graphql_list),
            ("graphql_nested", ours.graphql_nested),
            ("rest_list", ours.rest_list),
            ("autocomplete", ours.query(AUTOCOMPLETE_QUERY % "sequoia")),
        ):
            first = request.answered(within=300)
            again = request.answered(within=300)
            print(
                f"RESULT first_request_{name}_{label} first_ms={first * 1000:.0f}"
                f" again_ms={again * 1000:.0f}"
            )

    def paired(self, one: Request, other: Request) -> tuple[Load, Load]:
        self.warm(one)
        self.warm(other)
        ones, others = [], []
        for _ in range(self.rounds):
            ones.append(one.load(self.seconds))
            others.append(other.load(self.seconds))
        return _median_load(ones), _median_load(others)

    def against_postgraphile(self, ours: Targets, theirs_url: str) -> None:
        pairs = {
            "graphql_list": (ours.graphql_list, POSTGRAPHILE_LIST),
            "graphql_nested": (ours.graphql_nested, POSTGRAPHILE_NESTED % self.busiest),
        }
        for goal, (mine, their_query) in pairs.items():
            theirs = Request(theirs_url, _graphql_body(their_query))
            a, b = self.paired(mine, theirs)
            _result(f"{goal}_dealgraph_30k", a)
            _result(f"{goal}_postgraphile_30k", b)
            _report(goal, _ratio(a.requests_per_second, b.requests_per_second), 1.0)
            _report(f"{goal}_p99", _ratio(a.p99_ms, b.p99_ms), 1.0, higher_is_better=False)

    def autocomplete(self, ours: Targets, theirs_url: str) -> None:
        mine = ours.query(AUTOCOMPLETE_QUERY % "sequoia")
        theirs = Request(theirs_url, _graphql_body(POSTGRAPHILE_AUTOCOMPLETE % "sequoia"))
        a, b = self.paired(mine, theirs)
        _result("autocomplete_dealgraph_30k", a)
        _result("autocomplete_postgraphile_30k", b)
        _report("autocomplete", _ratio(a.requests_per_second, b.requests_per_second), 1.0)
        _report("autocomplete_p99", _ratio(a.p99_ms, b.p99_ms), 1.0, higher_is_better=False)

    def typing(self, ours: Targets, label: str) -> None:
        """The latency one typist sees: one connection, each request after the answer
        to the last, for each term; the target is the worst term's p99."""
        worst = 0.0
        for term in AUTOCOMPLETE_TERMS:
            request = ours.query(AUTOCOMPLETE_QUERY % term)
            self.warm(request)
            load = request.load(self.seconds, connections=1)
            _result(f"autocomplete_{term.replace(' ', '_')}_one_client_{label}", load)
            worst = max(worst, load.p99_ms)
        _report(f"autocomplete_p99_ms_{label}", worst, 20, higher_is_better=False)

    def against_floor(self, ours: Targets, bare_url: str) -> None:
        a, b = self.paired(ours.rest_list, Request(bare_url))
        _result("rest_list_dealgraph_30k", a)
        _result("rest_list_bare_30k", b)
        _report("rest_list", _ratio(a.requests_per_second, b.requests_per_second), 0.8)

    def deep_page(self, ours: Targets, db_url: str, *, pages: int, label: str) -> None:
        cursor = asyncio.run(_deep_cursor(db_url, rows=pages * 50))
        deep = ours.query(LIST_QUERY.replace("first: 50", f'first: 50, after: "{cursor}"'))
        first, later = self.paired(ours.graphql_list, deep)
        _result(f"page_1_{label}", first)
        _result(f"page_{pages}_{label}", later)
        _report(
            f"deep_page_{pages}_{label}", _ratio(later.mean_ms, first.mean_ms), 1.2,
            higher_is_better=False,
        )  # fmt: skip

    def at_scale(self, small: Targets, large: Targets) -> None:
        for goal in ("graphql_list", "graphql_nested", "rest_list"):
            a, b = self.paired(getattr(small, goal), getattr(large, goal))
            _result(f"{goal}_dealgraph_30k", a)
            _result(f"{goal}_dealgraph_1m", b)
            _report(f"scale_{goal}", _ratio(b.mean_ms, a.mean_ms), 1.2, higher_is_better=False)


async def _grown() -> bool:
    """Whether a previous run left the 1M database grown."""
    admin = await asyncpg.connect(_url("postgres"))
    try:
        exists = await admin.fetchval("select 1 from pg_database where datname = $1", MILLION)
    finally:
        await admin.close()
    if not exists:
        return False
    conn = await asyncpg.connect(_url(MILLION))
    try:
        # 31 copies of the real set's 31,618 rounds: 980,158.
        grown: bool = await conn.fetchval("select exists (select 1 from rounds offset 900000)")
    finally:
        await conn.close()
    return grown


async def _copy_keys() -> None:
    """The 30k database's keys into the 1M one a previous run grew, so that this run's
    key opens both."""
    source = await asyncpg.connect(_url(DATABASE))
    try:
        rows = await source.fetch(
            "select id, name, scope::text, secret_prefix, secret_hash, rate_limit_per_minute"
            " from api_keys"
        )
    finally:
        await source.close()
    target = await asyncpg.connect(_url(MILLION))
    try:
        await target.executemany(
            "insert into api_keys (id, name, scope, secret_prefix, secret_hash,"
            " rate_limit_per_minute) values ($1, $2, $3::api_key_scope, $4, $5, $6)"
            " on conflict do nothing",
            [tuple(row) for row in rows],
        )
    finally:
        await target.close()


async def _sizes(name: str) -> tuple[int, int, int]:
    """Rounds, organizations and megabytes of a database."""
    conn = await asyncpg.connect(_url(name))
    try:
        row = await conn.fetchrow(
            "select (select count(*) from rounds) as rounds,"
            " (select count(*) from organizations) as organizations,"
            " pg_database_size(current_database()) / 1048576 as mb"
        )
    finally:
        await conn.close()
    assert row is not None
    return row["rounds"], row["organizations"], row["mb"]


async def _grow_to_a_million() -> None:
    """Synthetic rounds copied in SQL from the real ones up to a million: each copy of a
    round goes to a copy of its company (new ids and slugs, the same names with the
    copy's number), a day later for each copy, with the same investors. A company thus
    keeps the rounds it had, as in a larger world, and the same query asks for the same
    answer at both scales. Every other organization is copied as many times, without
    rounds, so that organizations reach a million too (the names a search meets at
    that scale). Triggers are skipped, as a bulk load of a benchmark database may: the
    change feed is not under test here, and the search table, the rounds' counts and
    the investments' order are rebuilt once at the end. Built in a copy, so that the
    30k database stays to measure against, in the same run."""
    await _recreate(MILLION, template=DATABASE)
    conn = await asyncpg.connect(_url(MILLION))
    try:
        await conn.execute("set session_replication_role = replica")
        real = await conn.fetchval("select count(*) from rounds")
        organizations = await conn.fetchval("select count(*) from organizations")
        await conn.execute(
            "create temp table company_copy as select o.id as source,"
            " gen_random_uuid() as id, c as copy from organizations o,"
            " generate_series(1, $1) as c",
            -(-1_000_000 // organizations) - 1,
        )
        await conn.execute(
            """
            insert into organizations (id, slug, name, description, website, country_code,
                                       city, founded_on, founded_precision, categories)
            select k.id, 'copy' || k.copy || '-' || rtrim(left(o.slug, 180), '-'),
                   left(o.name, 480) || ' (copy ' || k.copy || ')', o.description,
                   o.website, o.country_code, o.city, o.founded_on, o.founded_precision,
                   o.categories
            from company_copy k join organizations o on o.id = k.source
            """
        )
        await conn.execute(
            "create temp table copied as select r.id as source, gen_random_uuid() as id,"
            " k.id as company_id, k.copy from rounds r"
            " join company_copy k on k.source = r.company_id and k.copy <= $1",
            -(-1_000_000 // real) - 1,
        )
        await conn.execute(
            """
            insert into rounds (id, company_id, round_type, reported_label, status, stage,
                                announced_on, announced_precision, amount)
            select k.id, k.company_id, r.round_type, r.reported_label, r.status, r.stage,
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
        await conn.execute("select organization_search_rebuild()")
        await conn.execute("select round_counts_rebuild()")
        await conn.execute("select investment_order_rebuild()")
        await conn.execute("vacuum (analyze)")
        await conn.execute("checkpoint")
    finally:
        await conn.close()


async def _deep_cursor(db_url: str, *, rows: int) -> str:
    """The cursor of the row `rows` into the default list, made as the API makes it."""
    conn = await asyncpg.connect(db_url)
    try:
        await load_cursor_key(conn)
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

"""Acquisition lists against round lists of the same page size, in one run.

Prepares the benchmark database as bench/run does (the real CrunchBase set: ~31,600
rounds, 4,632 acquisitions), starts dealgraph (one process), and loads it with wrk, the
two sides of each ratio in turn: the GraphQL list of 50 acquisitions with their targets
and acquirers against the list of 50 rounds with their companies and investors; a
deal-tracker's acquisitions screen (the 20 latest reported or confirmed, with
`totalCount`, status, stage, date, price, target and acquirers) against its home feed
of rounds (bench/screens.py); the lists over REST; and a page 90 pages deep in the
acquisitions (near the end of the list) against the first. Prints RESULT and RATIO
lines as bench/run does. Uses bench/run's fixed database name: run it under
`flock /tmp/dealgraph-bench.lock`.

    uv run python -m bench.acquisitions [--seconds 5] [--rounds 2]
"""

import argparse
import asyncio
import sys

import asyncpg

from bench.harness import free_port, server
from bench.run import (
    CACHE,
    DATABASE,
    LIST_QUERY,
    Bench,
    Request,
    Targets,
    _prepare,
    _report,
    _result,
    _url,
)
from bench.screens import _MONEY, SCREENS
from db.acquisitions import AcquisitionFilter, AcquisitionOrder, acquisitions_scope
from db.infra.pagination import Keyset, encode_cursor

ACQUISITIONS_QUERY = (
    "{ acquisitions(first: 50) { edges { node { id target { name } acquirers { name } "
    "price { usd } } } } }"
)
ACQUISITIONS_SCREEN = (
    "{ acquisitions(first: 20, filter: {status: [REPORTED, CONFIRMED]}) { totalCount edges {"
    f" node {{ id status stage announced {{ text }} price {_MONEY} target {{ name slug }}"
    " acquirers { name slug } } } } }"
)
DEEP_PAGES = 90


async def _deep_cursor(rows: int) -> str:
    """The cursor of the row `rows` into the default acquisitions list, as the API makes it."""
    conn = await asyncpg.connect(_url(DATABASE))
    try:
        row = await conn.fetchrow(
            "select coalesce(announced_on, '-infinity'::date)::text as key, id from acquisitions"
            " order by coalesce(announced_on, '-infinity'::date) desc, id desc offset $1 limit 1",
            rows,
        )
    finally:
        await conn.close()
    assert row is not None
    scope = acquisitions_scope(AcquisitionFilter(), AcquisitionOrder())
    return encode_cursor(scope, Keyset(row["key"], row["id"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5, help="length of one wrk run")
    parser.add_argument("--rounds", type=int, default=2, help="alternating runs of each side")
    args = parser.parse_args()
    secret, busiest = asyncio.run(_prepare())
    auth = {"Authorization": f"Bearer {secret}"}
    logs = CACHE / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    port = free_port()
    uvicorn = [sys.executable, "-m", "uvicorn", "--factory", "--no-access-log"]
    with server(
        [*uvicorn, "--port", str(port), "api.asgi:from_environment"],
        port=port,
        env={"DATABASE_URL": _url(DATABASE)},
        ready_path="/healthz",
        log=logs / "dealgraph-acquisitions.log",
    ):
        bench = Bench(auth, busiest, seconds=args.seconds, rounds=args.rounds)
        ours = Targets(port, auth, busiest)
        acquisitions = ours.query(ACQUISITIONS_QUERY)
        a, r = bench.paired(acquisitions, ours.query(LIST_QUERY))
        _result("graphql_acquisitions_list_30k", a)
        _result("graphql_rounds_list_30k", r)
        _report(
            "acquisitions_vs_rounds_graphql", a.requests_per_second / r.requests_per_second, 1.0
        )

        a, r = bench.paired(ours.query(ACQUISITIONS_SCREEN), ours.query(SCREENS["home_feed"][0]))
        _result("screen_acquisitions", a)
        _result("screen_home_feed", r)
        _report(
            "acquisitions_screen_vs_home_feed", a.requests_per_second / r.requests_per_second, 1.0
        )

        rest = Request(f"http://127.0.0.1:{port}/v1/acquisitions?limit=50", None, auth)
        a, r = bench.paired(rest, ours.rest_list)
        _result("rest_acquisitions_list_30k", a)
        _result("rest_rounds_list_30k", r)
        _report("acquisitions_vs_rounds_rest", a.requests_per_second / r.requests_per_second, 1.0)

        cursor = asyncio.run(_deep_cursor(DEEP_PAGES * 50))
        deep = ours.query(ACQUISITIONS_QUERY.replace("first: 50", f'first: 50, after: "{cursor}"'))
        first, later = bench.paired(acquisitions, deep)
        _result("acquisitions_page_1", first)
        _result(f"acquisitions_page_{DEEP_PAGES}", later)
        _report(
            f"acquisitions_deep_page_{DEEP_PAGES}",
            later.mean_ms / first.mean_ms,
            1.2,
            higher_is_better=False,
        )


if __name__ == "__main__":
    main()

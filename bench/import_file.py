"""How long a mapped import (`dealgraph import FILE --mapping M`) takes, against the floor
of storing what it wrote.

    uv run python bench/import_file.py [--file F --mapping M] [--repeat N]

By default it imports the shared set's investments.csv (80,245 rows: one investor a
round a row, no ids) with bench/mappings/crunchbase-investments.toml. In one run, on
scratch databases of its own (DATABASE_URL's server, or the local one), N times each,
median kept:

- import: the file into an empty migrated database, then again (it writes nothing);
- floor: the rows that import wrote, COPYed into the domain tables of another empty
  migrated database (indexes, foreign keys and the change feed's triggers included).

It prints rows per second and the ratio import / floor, and a last line
`RATIO <import/floor> ok|short (target <= 1.5)`. The floor is checked to be honest: after
it, every table of the floor's database (those COPYed into, and those its triggers
write: the change feed, round history, search names) holds as many rows as the
import's database did after its first import, or the bench says which do not.
Run it under `flock /tmp/dealgraph-bench.lock`: the machine is shared.
"""

import argparse
import asyncio
import os
import statistics
import time
from pathlib import Path

from bench.import_crunchbase import (
    DEFAULT_DATA,
    DEFAULT_URL,
    copy_domain_rows,
    domain_rows,
    scratch_database,
)
from db.imports.engine import ImportResult, import_file
from db.imports.mapping import load_mapping
from db.infra.types import Connection

DEFAULT_FILE = DEFAULT_DATA / "dec-2013-snapshot-investments" / "investments.csv.gz"
DEFAULT_MAPPING = Path(__file__).parent / "mappings" / "crunchbase-investments.toml"
TARGET = 1.5
# What a mapped import writes, parents first.
TABLES = (
    "organizations", "organization_aliases", "people", "sources", "rounds",
    "participations", "claims", "status_events",
)  # fmt: skip


async def timed(
    conn: Connection, file: Path, mapping: Path
) -> tuple[float, ImportResult, dict[str, float]]:
    marks: list[tuple[str, float]] = []
    started = time.perf_counter()
    result = await import_file(
        conn, file, load_mapping(mapping), progress=lambda s: marks.append((s, time.perf_counter()))
    )
    done = time.perf_counter()
    ends = [at for _, at in marks[1:]] + [done]
    steps = {step: end - at for (step, at), end in zip(marks, ends, strict=True)}
    return done - started, result, steps


async def table_counts(conn: Connection) -> dict[str, int]:
    """Rows in every table of the public schema."""
    tables = [
        r["relname"]
        for r in await conn.fetch(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = 'public' and c.relkind = 'r' order by c.relname"
        )
    ]
    # Names from the catalog, never input.
    return {t: await conn.fetchval(f'select count(*) from "{t}"') for t in tables}  # noqa: S608


def _seconds(values: list[float]) -> str:
    return f"{statistics.median(values):6.2f} s  (runs: {' '.join(f'{v:.2f}' for v in values)})"


async def main(url: str, file: Path, mapping: Path, repeat: int) -> None:
    first: list[float] = []
    second: list[float] = []
    floor: list[float] = []
    result: ImportResult | None = None
    steps: dict[str, float] = {}
    unlike: dict[str, tuple[int, int]] = {}
    for run in range(repeat):
        async with scratch_database(url, "mapped", migrated=True) as conn:
            seconds, result, steps = await timed(conn, file, mapping)
            first.append(seconds)
            imported = await table_counts(conn)
            second.append((await timed(conn, file, mapping))[0])
            rows = await domain_rows(conn, TABLES)
        async with scratch_database(url, "mapped_floor", migrated=True) as conn:
            floor.append(await copy_domain_rows(conn, rows))
            copied = await table_counts(conn)
        unlike = {
            t: (imported.get(t, 0), copied.get(t, 0))
            for t in sorted(imported.keys() | copied.keys())
            if imported.get(t, 0) != copied.get(t, 0)
        }
        print(f"run {run + 1} of {repeat} done", flush=True)
    assert result is not None
    for line in result.summary():
        print(f"  {line}")
    read = result.read
    print(
        f"import into an empty database:     {_seconds(first)}  "
        f"{read / statistics.median(first):,.0f} rows/s"
    )
    print(
        f"second import (writes nothing):    {_seconds(second)}  "
        f"{read / statistics.median(second):,.0f} rows/s"
    )
    print(f"floor (COPY of the written rows):  {_seconds(floor)}")
    ratio = statistics.median(first) / statistics.median(floor)
    print(f"ratio import / floor:              {ratio:6.2f}x")
    print("import steps (last run):")
    for step, seconds in steps.items():
        print(f"  {seconds:6.2f} s  {step}")
    if unlike:
        print("the floor is NOT the import's rows (table: import, floor):")
        for table, (a, b) in unlike.items():
            print(f"  {table}: {a:,}, {b:,}")
    else:
        print(f"floor holds the import's rows: every table ({len(imported)}) the same count")
    verdict = "ok" if ratio <= TARGET else "short"
    print(f"RATIO {ratio:.2f} {verdict} (target <= {TARGET}; load {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--mapping", type=Path, default=DEFAULT_MAPPING)
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    asyncio.run(main(url, arguments.file, arguments.mapping, arguments.repeat))

"""How long the CrunchBase import takes, against a raw COPY of the same files.

    uv run python bench/import_crunchbase.py [--data DIR] [--repeat N]

In one run, on scratch databases of its own (on DATABASE_URL's server, or
postgresql://postgres@127.0.0.1:5432/postgres), each measured N times, median kept:

- raw COPY: the four files, gunzipped, COPYed as they are into plain text tables;
- import: `import_crunchbase` into an empty migrated database, then a second time
  (which finds everything there and writes nothing);
- floor: the rows that import wrote, COPYed into the domain tables of another empty
  migrated database: what storing them costs in this schema (its indexes, foreign
  keys and triggers), before any reading, checking or matching.
"""

import argparse
import asyncio
import gzip
import io
import os
import re
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from db.imports.crunchbase import FILES, import_crunchbase, locate, mappings
from db.infra.migrate import migrate
from db.infra.types import Connection

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "crunchbase-2013"
# The domain tables the import writes, parents first.
DOMAIN_TABLES = (
    "organizations", "organization_aliases", "sources", "rounds", "acquisitions",
    "acquirers", "participations", "claims", "status_events",
)  # fmt: skip


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@asynccontextmanager
async def scratch_database(url: str, label: str, *, migrated: bool) -> AsyncIterator[Connection]:
    name = f"dealgraph_bench_{os.getpid()}_{label}"
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f'drop database if exists "{name}"')
        await admin.execute(f'create database "{name}"')
        conn = await asyncpg.connect(_with_database(url, name))
        try:
            if migrated:
                await migrate(conn)
            yield conn
        finally:
            await conn.close()
    finally:
        await admin.execute(f'drop database if exists "{name}" with (force)')
        await admin.close()


async def raw_copy(conn: Connection, data: Path) -> float:
    """Seconds to gunzip the files and COPY them into text tables, in one transaction."""
    started = time.perf_counter()
    encodings = {name: m.file.encoding for name, m in mappings().items()}
    async with conn.transaction():
        for spec in FILES:
            path = locate(data, spec)
            content = path.read_bytes()
            if content[:2] == b"\x1f\x8b":
                content = gzip.decompress(content)
            table = spec.name.removesuffix(".csv").replace("-", "_")
            header = re.split(rb"\r\n|\r|\n", content, maxsplit=1)[0].decode("latin-1")
            columns = ", ".join(f'"{column}" text' for column in header.split(","))
            await conn.execute(f'create table "{table}" ({columns})')
            # PostgreSQL has no Mac Roman; Latin-1 takes any byte, which is all a raw
            # copy needs.
            await conn.copy_to_table(
                table,
                source=io.BytesIO(content),
                format="csv",
                header=True,
                encoding="LATIN1" if encodings[spec.name] == "mac_roman" else "UTF8",
            )
    return time.perf_counter() - started


async def domain_rows(
    conn: Connection, tables: tuple[str, ...] = DOMAIN_TABLES
) -> dict[str, tuple[list[str], bytes]]:
    """The domain tables' rows (stored columns only), in COPY's binary format."""
    rows = {}
    for table in tables:
        columns = [
            r["attname"]
            for r in await conn.fetch(
                "select attname from pg_attribute where attrelid = $1::regclass"
                " and attnum > 0 and not attisdropped and attgenerated = ''"
                " order by attnum",
                table,
            )
        ]
        out = io.BytesIO()
        # Names from the catalog and the constant above, never input.
        query = f"select {', '.join(columns)} from {table}"  # noqa: S608
        await conn.copy_from_query(query, output=out, format="binary")
        rows[table] = (columns, out.getvalue())
    return rows


async def copy_domain_rows(conn: Connection, rows: dict[str, tuple[list[str], bytes]]) -> float:
    started = time.perf_counter()
    async with conn.transaction():
        # As the import does: these one-off statements gain nothing from JIT.
        await conn.execute("set local jit = off")
        for table, (columns, content) in rows.items():
            await conn.copy_to_table(
                table, source=io.BytesIO(content), columns=columns, format="binary"
            )
    return time.perf_counter() - started


async def timed_import(conn: Connection, data: Path) -> tuple[float, dict[str, float]]:
    """Seconds the import took, and each of its steps."""
    marks: list[tuple[str, float]] = []

    def mark(step: str) -> None:
        marks.append((step, time.perf_counter()))

    started = time.perf_counter()
    await import_crunchbase(conn, data, progress=mark)
    done = time.perf_counter()
    ends = [at for _, at in marks[1:]] + [done]
    return done - started, {step: end - at for (step, at), end in zip(marks, ends, strict=True)}


def _seconds(values: list[float]) -> str:
    runs = " ".join(f"{v:.2f}" for v in values)
    return f"{statistics.median(values):6.2f} s  (runs: {runs})"


async def main(url: str, data: Path, repeat: int) -> None:
    raw: list[float] = []
    first: list[float] = []
    second: list[float] = []
    floor: list[float] = []
    steps: dict[str, float] = {}
    for run in range(repeat):
        async with scratch_database(url, "raw", migrated=False) as conn:
            raw.append(await raw_copy(conn, data))
        async with scratch_database(url, "import", migrated=True) as conn:
            seconds, steps = await timed_import(conn, data)
            first.append(seconds)
            second.append((await timed_import(conn, data))[0])
            rows = await domain_rows(conn)
        async with scratch_database(url, "floor", migrated=True) as conn:
            floor.append(await copy_domain_rows(conn, rows))
        print(f"run {run + 1} of {repeat} done", flush=True)

    ratio = statistics.median(first) / statistics.median(raw)
    print(f"raw COPY of the files into text tables: {_seconds(raw)}")
    print(f"import into an empty database:          {_seconds(first)}")
    print(f"ratio import / raw COPY:                {ratio:6.1f}x")
    print(f"second import (writes nothing):         {_seconds(second)}")
    print(f"floor (COPY of the imported rows):      {_seconds(floor)}")
    over_floor = statistics.median(first) / statistics.median(floor)
    print(f"ratio import / floor:                   {over_floor:6.1f}x")
    print("import steps (last run):")
    for step, seconds in steps.items():
        print(f"  {seconds:6.2f} s  {step}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    asyncio.run(main(url, arguments.data, arguments.repeat))

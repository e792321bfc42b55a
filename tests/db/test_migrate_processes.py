"""Two `dealgraph migrate` processes started at once on a fresh database apply each
migration once: the second waits on the advisory lock, then finds nothing to do.

To be sure the two really meet, the test holds the lock itself until both wait on it.
"""

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator

import asyncpg
import pytest

from db.infra.migrate import _ADVISORY_LOCK_KEY, load_migrations
from tests.api.serving import DEALGRAPH, ROOT, environment
from tests.conftest import drop_database, fresh_database, with_database


@pytest.fixture
async def empty_url(server_url: str) -> AsyncIterator[str]:
    name = await fresh_database(server_url, template=None)
    yield with_database(server_url, name)
    await drop_database(server_url, name)


async def _waiting_on_the_lock(conn: "asyncpg.Connection[asyncpg.Record]") -> int:
    count: int = await conn.fetchval(
        "select count(*) from pg_locks where locktype = 'advisory' and not granted"
        " and database = (select oid from pg_database where datname = current_database())"
    )
    return count


async def test_two_migrate_processes_at_once_apply_each_migration_once(empty_url: str) -> None:
    holder = await asyncpg.connect(empty_url)
    processes: list[asyncio.subprocess.Process] = []
    try:
        await holder.execute("select pg_advisory_lock($1)", _ADVISORY_LOCK_KEY)
        env = environment(DATABASE_URL=empty_url)
        for _ in range(2):
            processes.append(
                await asyncio.create_subprocess_exec(
                    DEALGRAPH,
                    "migrate",
                    cwd=ROOT,
                    env=env,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                )
            )
        deadline = time.monotonic() + 60
        while await _waiting_on_the_lock(holder) < 2:
            assert all(p.returncode is None for p in processes), "a process ended early"
            assert time.monotonic() < deadline, "the processes did not reach the lock"
            await asyncio.sleep(0.05)
        await holder.execute("select pg_advisory_unlock($1)", _ADVISORY_LOCK_KEY)
        async with asyncio.timeout(60):
            outputs = [tuple(part.decode() for part in await p.communicate()) for p in processes]

        assert [p.returncode for p in processes] == [0, 0], outputs
        # The command logs what it applied on stderr, one line a file.
        applied = [
            [
                line.partition("applied migration ")[2]
                for line in err.splitlines()
                if "applied migration " in line
            ]
            for _, err in outputs
        ]
        names = [m.name for m in load_migrations()]
        # Each applied by one process, once; and recorded once.
        assert Counter(name for lines in applied for name in lines) == Counter(names)
        assert sorted(len(lines) for lines in applied) == [0, len(names)]
        recorded = await holder.fetch("select name from schema_migrations order by version")
        assert [r["name"] for r in recorded] == names
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
        await holder.close()

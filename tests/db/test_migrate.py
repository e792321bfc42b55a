"""Migrations from an empty database, applied once each, safely in parallel."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from db.infra.migrate import MigrationError, load_migrations, migrate
from tests.conftest import drop_database, fresh_database, with_database


@pytest.fixture
async def empty_url(server_url: str) -> AsyncIterator[str]:
    name = await fresh_database(server_url, template=None)
    yield with_database(server_url, name)
    await drop_database(server_url, name)


async def test_applies_every_migration_once(empty_url: str) -> None:
    conn = await asyncpg.connect(empty_url)
    try:
        names = [m.name for m in load_migrations()]
        assert await migrate(conn) == names
        assert await migrate(conn) == []
        recorded = await conn.fetch("select name from schema_migrations order by version")
        assert [r["name"] for r in recorded] == names
        tables = {
            r["tablename"]
            for r in await conn.fetch("select tablename from pg_tables where schemaname = 'public'")
        }
        assert {"organizations", "rounds", "participations", "claims", "status_events"} <= tables
    finally:
        await conn.close()


async def test_two_processes_migrating_at_once_apply_each_file_once(empty_url: str) -> None:
    first, second = await asyncpg.connect(empty_url), await asyncpg.connect(empty_url)
    try:
        applied = await asyncio.gather(migrate(first), migrate(second))
        # One of them did the work; the other waited on the lock and found nothing to do.
        assert sorted(applied, key=len) == [[], [m.name for m in load_migrations()]]
    finally:
        await first.close()
        await second.close()


async def test_a_failing_migration_leaves_nothing_behind(empty_url: str, tmp_path: Path) -> None:
    (tmp_path / "0001_good.sql").write_text("create table kept (id int);")
    (tmp_path / "0002_bad.sql").write_text("create table lost (id int); select 1/0;")
    conn = await asyncpg.connect(empty_url)
    try:
        with pytest.raises(asyncpg.DivisionByZeroError):
            await migrate(conn, load_migrations(tmp_path))
        assert await conn.fetchval("select to_regclass('kept') is not null")
        assert await conn.fetchval("select to_regclass('lost') is null")
        assert await conn.fetchval("select count(*) from schema_migrations") == 1
    finally:
        await conn.close()


async def test_an_edited_migration_is_refused(empty_url: str, tmp_path: Path) -> None:
    path = tmp_path / "0001_first.sql"
    path.write_text("create table t (id int);")
    conn = await asyncpg.connect(empty_url)
    try:
        await migrate(conn, load_migrations(tmp_path))
        path.write_text("create table t (id bigint);")
        with pytest.raises(MigrationError, match="changed after it was applied"):
            await migrate(conn, load_migrations(tmp_path))
    finally:
        await conn.close()


def test_badly_named_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "add-things.sql").write_text("select 1;")
    with pytest.raises(MigrationError, match="NNNN_snake_case"):
        load_migrations(tmp_path)

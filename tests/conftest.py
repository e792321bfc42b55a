"""A real PostgreSQL for every test: DATABASE_URL's server, or an embedded one.

The schema is migrated once into a template database; each test module gets its own
copy (`create database ... template ...`), so modules never see each other's rows.
"""

import itertools
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager

from api.app import create_app
from api.guard.keys import issue_key
from db.access.keys import ALL_SOURCE_KINDS
from db.access.principal import Scope
from db.infra.migrate import migrate
from db.infra.types import Pool
from tests import figures
from tests.contract.openapi import check_rest_response

_copies = itertools.count()


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    from api.cli.embedded import embedded_database

    data_dir = Path(tempfile.mkdtemp(prefix="dealgraph-tests-", dir="/tmp"))
    # Made by us for us: the embedded server's own user (when run as root) must reach it.
    data_dir.chmod(0o755)
    try:
        with embedded_database(data_dir) as embedded_url:
            yield embedded_url
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


async def _admin(server_url: str) -> "asyncpg.Connection[asyncpg.Record]":
    return await asyncpg.connect(with_database(server_url, "postgres"))


@pytest.fixture(scope="session")
async def template_db(server_url: str) -> AsyncIterator[str]:
    name = f"dealgraph_template_{uuid.uuid4().hex[:8]}"
    admin = await _admin(server_url)
    await admin.execute(f'create database "{name}"')
    conn = await asyncpg.connect(with_database(server_url, name))
    try:
        await migrate(conn)
    finally:
        await conn.close()
    yield name
    await admin.execute(f'drop database "{name}" with (force)')
    await admin.close()


async def fresh_database(server_url: str, template: str | None) -> str:
    """Create an empty (or template-copied) database and return its name."""
    name = f"dealgraph_test_{os.getpid()}_{next(_copies)}"
    admin = await _admin(server_url)
    try:
        clause = "" if template is None else f' template "{template}"'
        await admin.execute(f'create database "{name}"{clause}')
    finally:
        await admin.close()
    return name


async def drop_database(server_url: str, name: str) -> None:
    admin = await _admin(server_url)
    try:
        await admin.execute(f'drop database if exists "{name}" with (force)')
    finally:
        await admin.close()


@pytest.fixture(scope="module")
async def db_url(server_url: str, template_db: str) -> AsyncIterator[str]:
    name = await fresh_database(server_url, template_db)
    yield with_database(server_url, name)
    await drop_database(server_url, name)


@pytest.fixture(scope="module")
async def pool(db_url: str) -> AsyncIterator[Pool]:
    async with asyncpg.create_pool(db_url, min_size=1, max_size=4) as created:
        yield created


# Test keys may spend freely, so that only the rate-limit tests meet a limit.
UNLIMITED = 1_000_000_000


async def create_key(
    db_url: str,
    *,
    scope: Scope = Scope.WRITE,
    rate_limit: int | None = UNLIMITED,
    source_kinds: tuple[str, ...] = ALL_SOURCE_KINDS,
) -> str:
    """A new API key in the database at `db_url`; its secret. It may record every kind
    of source unless told otherwise."""
    conn = await asyncpg.connect(db_url)
    try:
        issued = await issue_key(
            conn,
            name=f"test {scope}",
            scope=scope,
            rate_limit_per_minute=rate_limit,
            source_kinds=source_kinds,
        )
    finally:
        await conn.close()
    return issued.secret


def bearer(secret: str) -> dict[str, str]:
    return {"authorization": f"Bearer {secret}"}


@pytest.fixture(scope="module")
async def client(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(db_url, pool_min_size=1, pool_max_size=4)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://test",
            headers=bearer(await create_key(db_url)),
            event_hooks={"response": [check_rest_response]},
        ) as http:
            yield http


@pytest.fixture
async def fresh_db_url(server_url: str, template_db: str) -> AsyncIterator[str]:
    """A migrated database of the test's own, for tests that need a clean slate."""
    name = await fresh_database(server_url, template_db)
    yield with_database(server_url, name)
    await drop_database(server_url, name)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in figures.recorded():
        terminalreporter.write_line(line)

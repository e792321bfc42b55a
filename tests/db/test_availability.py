"""Which errors of a real server and a real driver count as "unavailable, retry"."""

import asyncio

import asyncpg
import pytest

from db.infra.availability import PoolLimits, Unavailable, diagnose
from tests.api.processes import free_port

LIMITS = PoolLimits(acquire_timeout=0.5, statement_timeout_ms=100)


async def _error_of(db_url: str, statement: str, **settings: str) -> asyncpg.PostgresError:
    conn = await asyncpg.connect(db_url, server_settings=settings)
    try:
        with pytest.raises(asyncpg.PostgresError) as raised:
            await conn.execute(statement)
    finally:
        await conn.close()
    return raised.value


async def test_a_refused_connection_is_unavailability() -> None:
    with pytest.raises(ConnectionRefusedError) as raised:
        await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{free_port()}/none")
    assert diagnose(raised.value, LIMITS) == Unavailable(
        "SERVICE_UNAVAILABLE", "the database is unavailable; retry later"
    )


async def test_a_connection_the_server_ended_is_unavailability(db_url: str) -> None:
    conn = await asyncpg.connect(db_url)
    ended = asyncio.Event()
    conn.add_termination_listener(lambda _: ended.set())
    admin = await asyncpg.connect(db_url)
    try:
        await admin.execute("select pg_terminate_backend($1)", conn.get_server_pid())
        await asyncio.wait_for(ended.wait(), 5)
        with pytest.raises(asyncpg.InterfaceError) as raised:
            await conn.execute("select 1")
    finally:
        await admin.close()
        conn.terminate()
    assert diagnose(raised.value, LIMITS) == Unavailable(
        "SERVICE_UNAVAILABLE", "the connection to the database was lost; retry later"
    )


async def test_the_statement_timeout_is_named_with_its_length(db_url: str) -> None:
    error = await _error_of(db_url, "select pg_sleep(1)", statement_timeout="100")
    assert diagnose(error, LIMITS) == Unavailable(
        "QUERY_TIMEOUT", "the query took longer than 100 ms and was cancelled; retry later"
    )


async def test_mistakes_are_not_unavailability(db_url: str) -> None:
    assert diagnose(await _error_of(db_url, "select nonsense"), LIMITS) is None
    assert diagnose(await _error_of(db_url, "select 1/0"), LIMITS) is None
    assert diagnose(ValueError("a bug"), LIMITS) is None

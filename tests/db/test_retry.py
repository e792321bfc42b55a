"""Writes that meet in a deadlock: PostgreSQL aborts one, which runs again and succeeds."""

import asyncio

import asyncpg
import pytest

from db.infra.retry import retrying_deadlocks
from db.infra.types import Pool


async def _crossing(pool: Pool, *, retry: bool) -> tuple[list[object], int]:
    """Two transactions take two locks in opposite orders, each holding its first until
    the other has its own: a deadlock on the first try. Returns (outcomes, attempts)."""
    both_hold_one = asyncio.Barrier(2)
    attempts = 0

    async def take(first: int, second: int) -> str:
        nonlocal attempts
        attempts += 1
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("select pg_advisory_xact_lock($1)", first)
            if attempts <= 2:
                await both_hold_one.wait()
            await conn.execute("select pg_advisory_xact_lock($1)", second)
        return "done"

    def run(first: int, second: int) -> asyncio.Future[str]:
        if retry:
            return asyncio.ensure_future(retrying_deadlocks(lambda: take(first, second)))
        return asyncio.ensure_future(take(first, second))

    outcomes = await asyncio.gather(run(1, 2), run(2, 1), return_exceptions=True)
    return list(outcomes), attempts


async def test_without_the_retry_one_of_two_crossing_writes_fails(pool: Pool) -> None:
    outcomes, _ = await _crossing(pool, retry=False)
    assert sorted(type(o).__name__ for o in outcomes) == ["DeadlockDetectedError", "str"]


async def test_a_write_aborted_by_a_deadlock_runs_again(pool: Pool) -> None:
    outcomes, attempts = await _crossing(pool, retry=True)
    assert outcomes == ["done", "done"]
    assert attempts == 3


async def test_other_errors_are_not_retried(pool: Pool) -> None:
    calls = 0

    async def failing() -> None:
        nonlocal calls
        calls += 1
        async with pool.acquire() as conn:
            await conn.execute("select 1 / 0")

    with pytest.raises(asyncpg.DivisionByZeroError):
        await retrying_deadlocks(failing)
    assert calls == 1

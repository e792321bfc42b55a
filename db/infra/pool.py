"""The app's connection pool: a bounded wait for a connection, a bounded run for each
statement, and no need for the database to be up when the app starts."""

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import asyncpg

from db.infra.availability import PoolLimits, diagnose
from db.infra.types import Pool, Record

if TYPE_CHECKING:
    from asyncpg.pool import PoolAcquireContext, _InitCallback

    _Base = asyncpg.Pool[Record]
else:  # asyncpg's classes are generic only in its stubs
    _Base = asyncpg.Pool

logger = logging.getLogger("dealgraph.pool")


class BoundedPool(_Base):
    """A pool whose every acquire gives up after `limits.acquire_timeout` seconds.

    asyncpg waits for a free connection for ever unless each acquire says otherwise, and
    its shortcuts (`pool.fetch()` and the like) cannot say.
    """

    __slots__ = ("limits",)

    def __init__(
        self,
        dsn: str,
        *,
        limits: PoolLimits,
        min_size: int,
        max_size: int,
        init: "_InitCallback[Record] | None",
    ) -> None:
        super().__init__(
            dsn,
            min_size=min_size,
            max_size=max_size,
            # create_pool's defaults, which Pool() itself leaves to its caller. A connection
            # the server closed is replaced on its next acquire, whatever its age.
            max_queries=50_000,
            max_inactive_connection_lifetime=300.0,
            init=init,
            loop=None,
            connection_class=asyncpg.Connection,
            record_class=asyncpg.Record,
            # A server that accepts but never answers must not hold a connect for ever.
            timeout=limits.acquire_timeout,
            server_settings={
                "statement_timeout": str(limits.statement_timeout_ms),
                # Without: asyncpg's first look at the schema's types on each new
                # connection, which the planner costs at millions, is compiled by LLVM:
                # 1.1-1.4 s instead of 10 ms, on every connection a restart or an idle
                # spell opens; ten at once held a fresh server's first answers for
                # seconds. This API's statements are bounded; none gains from JIT.
                "jit": "off",
            },
            reset=_roll_back_if_left_open,
        )
        self.limits = limits

    def acquire(self, *, timeout: float | None = None) -> "PoolAcquireContext[Record]":
        return super().acquire(timeout=self.limits.acquire_timeout if timeout is None else timeout)


async def _roll_back_if_left_open(conn: "asyncpg.Connection[Record]") -> None:
    """What a released connection needs here. asyncpg's default reset (unlock advisory
    locks, close cursors, unlisten, reset settings: a round trip per release) guards
    against session state this app never leaves: its locks are transaction-scoped, its
    settings are the connection's startup ones, and it neither listens nor declares
    cursors outside transactions."""
    if conn.is_in_transaction():
        await conn.execute("rollback")


def limits_of(pool: Pool) -> PoolLimits | None:
    return pool.limits if isinstance(pool, BoundedPool) else None


@contextlib.asynccontextmanager
async def open_pool(
    dsn: str,
    *,
    limits: PoolLimits,
    min_size: int,
    max_size: int,
    init: "_InitCallback[Record] | None" = None,
) -> AsyncIterator[BoundedPool]:
    """A pool for the block's duration, opened even while the database is down.

    Then it starts empty, and connects as requests need connections: meanwhile they are
    answered 503, and /readyz says not ready. Failing instead would take down every
    process that starts during an outage, to be restarted in a loop.
    """
    pool = BoundedPool(dsn, limits=limits, min_size=min_size, max_size=max_size, init=init)
    try:
        await pool
    except Exception as error:
        if diagnose(error, limits) is None:
            raise
        logger.warning(
            "the database is unreachable (%r); starting anyway, without connections", error
        )
        # With no minimum it opens no connection now, so this cannot fail the same way;
        # the price is that the pool does not keep min_size connections until a restart.
        pool = BoundedPool(dsn, limits=limits, min_size=0, max_size=max_size, init=init)
        await pool
    try:
        yield pool
    finally:
        await pool.close()

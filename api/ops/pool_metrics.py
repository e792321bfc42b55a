"""Gauges of a process's database pool: connections open, idle, in use.

Sampled every SAMPLE_SECONDS and at each scrape. A custom collector reading the pool at
scrape time would not do: with several server processes, the one answering the scrape
cannot see the others' pools, only the files their gauges write.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator

from prometheus_client import Gauge

from db.infra.types import Pool

SAMPLE_SECONDS = 1.0

# Added up over the live server processes (see api/ops/metrics.py).
POOL_SIZE = Gauge(
    "dealgraph_db_pool_size",
    "Open database connections in the pool.",
    ["pool"],
    multiprocess_mode="livesum",
)
POOL_IDLE = Gauge(
    "dealgraph_db_pool_idle",
    "Open database connections waiting in the pool.",
    ["pool"],
    multiprocess_mode="livesum",
)
POOL_IN_USE = Gauge(
    "dealgraph_db_pool_in_use",
    "Database connections taken from the pool by a request.",
    ["pool"],
    multiprocess_mode="livesum",
)
POOL_MAX_SIZE = Gauge(
    "dealgraph_db_pool_max_size",
    "The most connections the pool opens.",
    ["pool"],
    multiprocess_mode="livesum",
)


def sample_pools(primary: Pool, replica: Pool) -> None:
    """Both pools; the replica's only when it is one (else reads use the primary's)."""
    pools = {"primary": primary} if replica is primary else {"primary": primary, "replica": replica}
    for name, pool in pools.items():
        size, idle = pool.get_size(), pool.get_idle_size()
        POOL_SIZE.labels(name).set(size)
        POOL_IDLE.labels(name).set(idle)
        POOL_IN_USE.labels(name).set(size - idle)
        POOL_MAX_SIZE.labels(name).set(pool.get_max_size())


@contextlib.asynccontextmanager
async def sampling_pools(primary: Pool, replica: Pool) -> AsyncIterator[None]:
    async def sample_now_and_then() -> None:
        while True:
            sample_pools(primary, replica)
            await asyncio.sleep(SAMPLE_SECONDS)

    task = asyncio.create_task(sample_now_and_then())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

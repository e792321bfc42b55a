"""The table sizes that prices follow (db/sizes.py), read at start and once a minute."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import asyncpg

from db.infra.types import Pool
from db.sizes import TableSizes, fetch_table_sizes

REFRESH_SECONDS = 60.0

logger = logging.getLogger("dealgraph.limits")


# Until the sizes could be read once (the database was down at the start): soon again.
RETRY_SECONDS = 1.0


class KnownSizes:
    def __init__(self) -> None:
        self.current = TableSizes()
        self.known = False

    async def refresh(self, pool: Pool) -> None:
        try:
            self.current, self.known = await fetch_table_sizes(pool), True
        except (OSError, asyncpg.PostgresError, TimeoutError) as e:
            # The last sizes stay: prices a minute old are still prices.
            logger.warning("could not read the table sizes: %s", e)


@contextlib.asynccontextmanager
async def refreshing_table_sizes(
    pool: Pool, every: float = REFRESH_SECONDS
) -> AsyncIterator[KnownSizes]:
    sizes = KnownSizes()
    await sizes.refresh(pool)
    stop = asyncio.Event()

    async def refresh_now_and_then() -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every if sizes.known else RETRY_SECONDS)
            await sizes.refresh(pool)

    task = asyncio.create_task(refresh_now_and_then())
    try:
        yield sizes
    finally:
        stop.set()
        await task

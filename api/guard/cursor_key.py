"""The database's cursor key (db/infra/pagination.py), read at start, or as soon as the
database answers when it was down then: until it is read, no list can be served anyway."""

import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncIterator

import asyncpg

from db.infra.pagination import load_cursor_key
from db.infra.types import Pool

RETRY_SECONDS = 1.0

logger = logging.getLogger("dealgraph")


async def _loaded(pool: Pool) -> bool:
    try:
        await load_cursor_key(pool)
    except (OSError, asyncpg.PostgresError, TimeoutError) as e:
        logger.warning("could not read the cursor key yet: %s", e)
        return False
    return True


@contextlib.asynccontextmanager
async def keeping_cursor_key(pool: Pool) -> AsyncIterator[None]:
    if await _loaded(pool):
        yield
        return

    async def until_loaded() -> None:
        for _ in itertools.count():
            await asyncio.sleep(RETRY_SECONDS)
            if await _loaded(pool):
                return

    task = asyncio.create_task(until_loaded())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

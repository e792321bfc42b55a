"""When each key was last used, without a database write on every request.

Each process notes the keys it sees in memory and writes them all in one statement at
most every FLUSH_SECONDS, and once more when it stops. `last_used_at` is thereby up to
that late, which is plenty for "is this key still in use?".
"""

import asyncio
import contextlib
import datetime
import logging
import uuid
from collections.abc import AsyncIterator

import asyncpg

from db.access.keys import record_last_used
from db.infra.types import Pool

FLUSH_SECONDS = 60.0

logger = logging.getLogger("dealgraph.keys")


class KeyUsage:
    def __init__(self) -> None:
        self._seen: dict[uuid.UUID, datetime.datetime] = {}

    def note(self, key_id: uuid.UUID) -> None:
        self._seen[key_id] = datetime.datetime.now(datetime.UTC)

    async def flush(self, pool: Pool) -> None:
        if not self._seen:
            return
        seen, self._seen = self._seen, {}
        try:
            await record_last_used(pool, key_ids=list(seen), used_at=list(seen.values()))
        except (OSError, asyncpg.PostgresError) as e:
            # Keep them for the next try, unless newer uses came in meanwhile.
            self._seen = seen | self._seen
            logger.warning("could not record when keys were last used: %s", e)


@contextlib.asynccontextmanager
async def recording_key_usage(pool: Pool, every: float = FLUSH_SECONDS) -> AsyncIterator[KeyUsage]:
    usage = KeyUsage()
    stop = asyncio.Event()

    # Stopped by an event rather than cancelled, so that a flush under way completes and
    # the last one runs after the final requests.
    async def flush_now_and_then() -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
            await usage.flush(pool)

    task = asyncio.create_task(flush_now_and_then())
    try:
        yield usage
    finally:
        stop.set()
        await task

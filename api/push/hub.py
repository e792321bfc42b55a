"""The change feed, read once per process and handed to every subscription in it.

The feed is the truth and LISTEN/NOTIFY only the signal: the hub reads the feed after
its position whenever a notification comes, and on a timer whatever comes, so a missed
notification delays an event by a poll interval and loses none. Every process reads the
feed itself, so a subscriber gets every change whichever process wrote it.

A subscription starts at the feed's end when it subscribes. The hub may have read past
that point already; it keeps its last batches, so that a new subscriber is handed what
came after its start from them.
"""

import asyncio
import collections
import contextlib
import logging
from collections.abc import AsyncIterator

import asyncpg

from api.push.listener import Listener, Patience, listening
from db.changes import FeedPosition
from db.infra.types import Pool
from db.webhooks.feed import CHANGES_CHANNEL, FeedEntry, feed_end, read_feed

logger = logging.getLogger("dealgraph.push")
_BATCH = 500
# Entries kept for subscribers that start behind the hub.
_KEPT = 2000


class ChangeHub:
    def __init__(self, url: str, pool: Pool, *, poll_interval: float = 1.0) -> None:
        self.url = url
        self.pool = pool
        self.poll_interval = poll_interval
        self._queues: set[asyncio.Queue[list[FeedEntry]]] = set()
        self._kept: collections.deque[FeedEntry] = collections.deque(maxlen=_KEPT)
        self._position: FeedPosition | None = None
        self._started = asyncio.Lock()
        self._stack = contextlib.AsyncExitStack()

    async def _start(self) -> None:
        async with self._started:
            if self._position is not None:
                return
            self._position = await feed_end(self.pool)
            listener = await self._stack.enter_async_context(
                listening(self.url, (CHANGES_CHANNEL,))
            )
            task = asyncio.create_task(self._run(listener), name="dealgraph-change-hub")
            self._stack.push_async_callback(_cancel, task)

    @contextlib.asynccontextmanager
    async def follow(self) -> AsyncIterator[AsyncIterator[list[FeedEntry]]]:
        """The batches of changes committed from now on, in feed order."""
        await self._start()
        start = await feed_end(self.pool)
        queue: asyncio.Queue[list[FeedEntry]] = asyncio.Queue()
        self._queues.add(queue)
        caught_up = [e for e in self._kept if (e.position.xid, e.position.id) > _key(start)]
        if caught_up:
            queue.put_nowait(caught_up)
        try:
            yield _drain(queue, after=start)
        finally:
            self._queues.discard(queue)

    async def _run(self, listener: Listener) -> None:
        patience = Patience(listener.bell(CHANGES_CHANNEL).waiter(), self.poll_interval)
        while True:
            assert self._position is not None
            try:
                async with self.pool.acquire() as conn:
                    entries = await read_feed(conn, after=self._position, limit=_BATCH)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
                logger.warning("reading the change feed for subscriptions failed: %s", e)
                entries = []
            if entries:
                self._position = entries[-1].position
                self._kept.extend(entries)
                for queue in self._queues:
                    queue.put_nowait(entries)
                if len(entries) == _BATCH:
                    continue
            await patience.wait(found=bool(entries))

    async def close(self) -> None:
        await self._stack.aclose()


def _key(position: FeedPosition) -> tuple[int, int]:
    return (position.xid, position.id)


async def _drain(
    queue: asyncio.Queue[list[FeedEntry]], *, after: FeedPosition
) -> AsyncIterator[list[FeedEntry]]:
    while True:
        # A hub behind the subscriber's start reads entries from before it: left out.
        batch = [e for e in await queue.get() if _key(e.position) > _key(after)]
        if batch:
            yield batch


async def _cancel(task: "asyncio.Task[None]") -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task

"""LISTEN on a connection of its own and ring a bell per channel; every waiter holds its
own asyncio.Event, so none misses a ring while busy. Notifications are only a signal:
whoever waits also looks again on a timer, so a lost one (or a lost connection) delays
work by a poll interval and loses nothing."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import asyncpg

logger = logging.getLogger("dealgraph.push")


class Bell:
    def __init__(self) -> None:
        self._waiters: set[asyncio.Event] = set()

    def waiter(self) -> asyncio.Event:
        event = asyncio.Event()
        self._waiters.add(event)
        return event

    def forget(self, event: asyncio.Event) -> None:
        self._waiters.discard(event)

    def ring(self) -> None:
        for event in self._waiters:
            event.set()


async def wait(event: asyncio.Event, seconds: float) -> None:
    """Until the event is set or `seconds` pass; the event is cleared for next time."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
    event.clear()


class Listener:
    def __init__(self, url: str, channels: tuple[str, ...]) -> None:
        self.url = url
        self.bells = {channel: Bell() for channel in channels}

    def bell(self, channel: str) -> Bell:
        return self.bells[channel]

    def _heard(self, conn: object, pid: int, channel: str, payload: object) -> None:
        self.bells[channel].ring()

    async def _listen(self, conn: "asyncpg.Connection[asyncpg.Record]") -> None:
        closed = asyncio.Event()
        conn.add_termination_listener(lambda _: closed.set())
        for channel in self.bells:
            await conn.add_listener(channel, self._heard)
        # Whatever was notified while nobody listened is caught up now.
        for bell in self.bells.values():
            bell.ring()
        await closed.wait()

    async def run(self) -> None:
        while True:
            try:
                conn = await asyncpg.connect(self.url)
            except (OSError, asyncpg.PostgresError) as e:
                logger.warning("cannot listen for notifications (will retry): %s", e)
                await asyncio.sleep(1)
                continue
            try:
                await self._listen(conn)
            except (OSError, asyncpg.PostgresError) as e:
                logger.warning("lost the notification connection (will retry): %s", e)
            finally:
                await conn.close()


@contextlib.asynccontextmanager
async def listening(url: str, channels: tuple[str, ...]) -> AsyncIterator[Listener]:
    listener = Listener(url, channels)
    task = asyncio.create_task(listener.run(), name="dealgraph-listener")
    try:
        yield listener
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

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


async def wait(event: asyncio.Event, seconds: float) -> bool:
    """Until the event is set or `seconds` pass; whether it was set. It is cleared for
    next time."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
    rang = event.is_set()
    event.clear()
    return rang


# After a notification, how long to wait before looking again when the feed showed
# nothing new: a reader sees a change only once no transaction that began before it is
# still running anywhere on the server (feed_horizon(), migration 0004), which on a busy
# server can take a moment more than the commit. Past these, the poll interval.
SOON = (0.01, 0.02, 0.05, 0.1, 0.2, 0.4)


class Patience:
    """When to look again: soon after a notification that found nothing yet, else at
    the next notification or poll."""

    def __init__(self, event: asyncio.Event, poll_interval: float) -> None:
        self.event = event
        self.poll_interval = poll_interval
        self._noticed = False
        self._tries = 0

    async def wait(self, found: bool) -> None:
        if found:
            self._tries = 0
        elif self._noticed and self._tries < len(SOON):
            await asyncio.sleep(SOON[self._tries])
            self._tries += 1
            return
        self._noticed = await wait(self.event, self.poll_interval)
        self._tries = 0


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

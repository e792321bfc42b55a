"""A webhook receiver on loopback for tests: a small HTTP/1.1 server that records what
arrives, answers with the status it is told, can hang without answering, and can be
stopped and started again on the same port."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
import standardwebhooks

from tests.api.serving import free_port


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        event: dict[str, Any] = orjson.loads(self.body)
        return event

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    def verify(self, secret: str) -> dict[str, Any]:
        """Checked by the `standardwebhooks` package, an implementation not ours."""
        verified: dict[str, Any] = standardwebhooks.Webhook(secret).verify(self.body, self.headers)
        return verified


class Receiver:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        # Answered with a 2xx: what the receiver has accepted.
        self.received: list[Received] = []
        # Every request that came in, answered or not.
        self.arrived: list[Received] = []
        self.status = 200
        self.hang = False
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        self._stopping.clear()
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        self._stopping.set()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                headers = {}
                for line in head.split("\r\n")[1:]:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                request = Received(headers, body)
                self.arrived.append(request)
                if self.hang:
                    # No answer until the receiver stops; then the connection just closes.
                    await self._stopping.wait()
                    return
                status = self.status
                if 200 <= status < 300:
                    self.received.append(request)
                writer.write(f"HTTP/1.1 {status} X\r\ncontent-length: 2\r\n\r\nok".encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    def events(self) -> list[dict[str, Any]]:
        return [r.event for r in self.received]

    async def wait_until(
        self, condition: Callable[[], bool], *, seconds: float = 30, what: str = ""
    ) -> None:
        """Until `condition()` holds; fails the test after `seconds` (a bound, not a
        measurement: the normal case takes a fraction of it)."""
        deadline = time.monotonic() + seconds
        while not condition():
            types = [e["type"] for e in self.events()]
            assert time.monotonic() < deadline, f"timed out waiting for {what}; received {types}"
            await asyncio.sleep(0.05)


async def until(check: Callable[[], Awaitable[bool]], *, seconds: float = 30, what: str) -> None:
    """Until `await check()` holds; fails the test after `seconds` (a bound, not a
    measurement)."""
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def receiving() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    await receiver.start()
    try:
        yield receiver
    finally:
        if receiver._server is not None:
            await receiver.stop()

"""A connection must send a whole request head within a deadline, or it is closed.

uvicorn bounds an idle kept-alive connection and, with `limit_concurrency`, how many
connections are served at once, but not how long a client may take to send its headers:
one that trickles them a byte at a time holds a connection slot for as long as it likes.
This protocol (uvicorn's own, with a timer) closes such a connection when its request
head is not complete `HEADER_READ_SECONDS` after the connection opened or after the
first byte of a request on a kept-alive connection.
"""

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# Generous for any real client, even over a slow link; short for a slot held on purpose.
HEADER_READ_SECONDS = 10.0


class HeaderDeadlineProtocol(HttpToolsProtocol):
    _head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_deadline()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._start_head_deadline()

    def on_headers_complete(self) -> None:
        self._stop_head_deadline()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_deadline()
        super().connection_lost(exc)

    def _start_head_deadline(self) -> None:
        self._stop_head_deadline()
        self._head_deadline = self.loop.call_later(HEADER_READ_SECONDS, self._head_too_slow)

    def _stop_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_slow(self) -> None:
        self._head_deadline = None
        if not self.transport.is_closing():
            self.transport.close()

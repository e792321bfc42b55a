"""A cap on REST request bodies: 413 as soon as one is known to be too large.

/graphql enforces the same cap itself, while it reads the body (api/graphql/endpoint.py).
A declared Content-Length over the cap is refused before the route runs; a body sent
without one (chunked) is counted as the route reads it, and refused once it goes over.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.graphql.endpoint import MAX_BODY_BYTES
from api.guard.auth import is_rest_path
from api.guard.refusals import too_large


class _BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_rest_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        refusal = too_large(self.max_bytes)
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await refusal.problem()(scope, receive, send)
                return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge
            return message

        async def noting_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, noting_send)
        except _BodyTooLarge:
            if started:
                raise
            await refusal.problem()(scope, receive, send)

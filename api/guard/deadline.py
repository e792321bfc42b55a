"""A time budget for a request as a whole, on /graphql and /v1.

PostgreSQL cancels one statement past the statement timeout, but a request runs many (a
GraphQL request's aliases run concurrently over the pool), so that does not bound the
request. Past its budget a request is stopped (its statements are cancelled with it) and
answered 503 QUERY_TIMEOUT with Retry-After, as a statement past its timeout is; or, when
it was waiting for the client's body, 408.
"""

import asyncio
import logging

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.graphql.endpoint import JSON, negotiate
from api.guard.auth import GRAPHQL_PATH, is_rest_path
from api.guard.refusals import Refusal, unavailable
from db.infra.availability import QUERY_TIMEOUT

logger = logging.getLogger("dealgraph.limits")


class DeadlineMiddleware:
    def __init__(self, app: ASGIApp, *, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (is_rest_path(path) or path == GRAPHQL_PATH):
            await self.app(scope, receive, send)
            return
        started = False
        reading = False

        async def noting_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        async def noting_receive() -> Message:
            nonlocal reading
            # Left set when the wait is cancelled: the budget ran out on the client.
            reading = True
            message = await receive()
            reading = False
            return message

        budget = asyncio.timeout(self.seconds)
        try:
            async with budget:
                await self.app(scope, noting_receive, noting_send)
        except TimeoutError:
            # Not this budget's (a wait for a pool connection past its own timeout, which
            # api/ops/outage.py answers as such), or too late for another answer.
            if started or not budget.expired():
                raise
            request = Request(scope, receive)
            logger.warning("%s %s: over its %s s budget", request.method, path, self.seconds)
            if reading:
                # The client was the slow one: its body did not come.
                refusal = Refusal(
                    408,
                    "REQUEST_TIMEOUT",
                    f"the request body did not arrive within {self.seconds:g} s",
                    {"connection": "close"},
                )
            else:
                refusal = unavailable(
                    QUERY_TIMEOUT,
                    f"the request took more than {self.seconds:g} s and was stopped; "
                    "ask for less, or retry later",
                )
            if path == GRAPHQL_PATH:
                response = refusal.graphql(negotiate(request.headers.get("accept")) or JSON)
            else:
                response = refusal.problem()
            await response(scope, receive, send)

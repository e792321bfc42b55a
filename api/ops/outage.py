"""Requests the database cannot serve for now are answered 503 with Retry-After, not 500.

A pure ASGI middleware around everything that touches the database, the API key check
included. An exception that db/infra/availability.py recognizes (the server down or
restarting, no connection free within the pool timeout, a statement past the statement
timeout) becomes a 503: problem+json on REST and other paths, a GraphQL error in the
media type the client accepts on /graphql. Errors in GraphQL resolvers never get here:
strawberry catches them, and schema/errors.py codes them the same way.
"""

import logging

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.graphql.endpoint import JSON, negotiate
from api.guard.auth import GRAPHQL_PATH
from api.guard.refusals import unavailable
from db.infra.availability import diagnose
from db.infra.pool import limits_of

logger = logging.getLogger("dealgraph.outage")


class OutageMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def noting_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, noting_send)
        except Exception as error:
            pool = scope.get("state", {}).get("pool")
            found = diagnose(error, None if pool is None else limits_of(pool))
            # Once the answer has begun, the status is sent: the server closes the stream.
            if found is None or started:
                raise
            request = Request(scope, receive)
            logger.warning("%s %s: %s (%r)", request.method, request.url.path, found.message, error)
            refusal = unavailable(found.code, found.message)
            path = request.url.path
            if path == GRAPHQL_PATH or path.startswith(GRAPHQL_PATH + "/"):
                response = refusal.graphql(negotiate(request.headers.get("accept")) or JSON)
            else:
                response = refusal.problem()
            await response(scope, receive, send)

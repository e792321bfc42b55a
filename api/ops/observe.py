"""Every HTTP request gets an id, a log line and its place in the metrics.

A pure ASGI middleware, the outermost, so that it also sees the requests refused before
they reach a route (401, 413, 429). The id is the client's `X-Request-Id` when it is a
short token (a load balancer's, say), else a new one; the answer echoes it, and every line
logged while the request runs carries it (api/ops/logs.py). The log line names the route
template, method, status, duration and the key's id, never a header.
"""

import logging
import re
import time
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.ops.logs import REQUEST_ID
from api.ops.metrics import REQUEST_SECONDS, REQUESTS
from api.ops.route_template import route_template
from db.access.principal import Principal

HEADER = "x-request-id"
# Letters, digits and a little punctuation: nothing that could forge a log line.
_SANE_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")

logger = logging.getLogger("dealgraph.access")


def request_id(headers: Headers) -> str:
    offered = headers.get(HEADER)
    if offered is not None and _SANE_ID.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


class ObserveMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        app: Starlette = scope["app"]
        route = route_template(app.routes, scope)
        method: str = scope["method"]
        rid = request_id(Headers(scope=scope))
        token = REQUEST_ID.set(rid)
        status = 500  # unless a response starts: the server answers 500 to an error
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", []), (HEADER.encode(), rid.encode())]
                message = {**message, "headers": headers}
            await send(message)

        failed = True
        try:
            await self.app(scope, receive, send_with_id)
            failed = False
        except ClientDisconnect:
            # The client went away before its request was read: nobody to answer, and
            # no error of ours. Logged as 499, as nginx does.
            status, failed = 499, False
        finally:
            self._record(scope, route, method, status, time.perf_counter() - started)
            # After an error the id stays set, so that the server's own report of it
            # carries the id too; each request runs in a task of its own under the
            # server, so it goes no further.
            if not failed:
                REQUEST_ID.reset(token)

    def _record(self, scope: Scope, route: str, method: str, status: int, seconds: float) -> None:
        REQUESTS.labels(route, method, str(status)).inc()
        REQUEST_SECONDS.labels(route, method, str(status)).observe(seconds)
        level = logging.ERROR if status >= 500 else logging.INFO
        if not logger.isEnabledFor(level):
            return  # a server run without access logs: no line to build
        fields: dict[str, Any] = {
            "method": method,
            "route": route,
            "path": scope["path"],
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
        }
        client = scope.get("client")
        if client:
            fields["client"] = client[0]
        principal = scope.get("state", {}).get("principal")
        if isinstance(principal, Principal):
            fields["key_id"] = str(principal.key_id)
        logger.log(level, "%s %s %d", method, scope["path"], status, extra={"fields": fields})

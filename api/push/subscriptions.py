"""GraphQL subscriptions over WebSocket on /graphql, with the graphql-transport-ws protocol.

strawberry speaks the protocol; this module adds what the HTTP endpoint does for queries:
the API key (sent in connection_init's payload as {"Authorization": "Bearer <key>"},
browsers cannot set headers on a WebSocket), its rate limit, and the cost and limits of
each operation, charged when it subscribes and again for every event it is sent. A
connection that does not authenticate within `init_timeout`, or that holds no
subscription for `idle_timeout`, is closed.
"""

import asyncio
import contextlib
import datetime
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from graphql import ExecutionResult, GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from starlette.websockets import WebSocketDisconnected as SocketGone
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage

from api.guard.auth import bearer_token
from api.guard.keys import hash_secret, looks_like_secret
from api.push.hub import ChangeHub
from db.access.principal import Principal, Scope
from db.access.ratelimit import charge_by_key_id, charge_by_secret_hash
from schema.context import Context
from schema.limits import QueryLimitError, check_limits, measure, parse_document, select_operation
from schema.schema import schema


@dataclass
class SocketContext(Context):
    """One per connection; strawberry fills in connection_params from connection_init."""

    connection_params: dict[str, Any] = field(default_factory=dict)
    default_per_minute: int = 0


@dataclass(frozen=True, slots=True)
class SocketLimits:
    init_timeout: datetime.timedelta = datetime.timedelta(seconds=10)
    idle_timeout: float = 300.0


DEFAULT_SOCKET_LIMITS = SocketLimits()


def _error(message: str, code: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


class _Handler(BaseGraphQLTransportWSHandler[SocketContext, None]):
    """The protocol, with keys, costs and an idle timer."""

    context: SocketContext
    view: "SubscriptionsView"

    async def handle(self) -> None:
        idle = asyncio.create_task(self._close_when_idle())
        try:
            await super().handle()
        finally:
            idle.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await idle

    async def _close_when_idle(self) -> None:
        quiet = 0.0
        step = min(1.0, self.view.limits.idle_timeout / 4)
        while quiet < self.view.limits.idle_timeout:
            await asyncio.sleep(step)
            quiet = 0.0 if self.operations else quiet + step
        await self.websocket.close(code=4408, reason="idle: no subscription for a while")

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        principal = self.context.principal
        if not self.connection_acknowledged or principal is None:
            await super().handle_subscribe(message)  # strawberry closes it: 4401
            return
        payload = message.get("payload", {})
        refusal = await self._admit(principal, payload)
        if refusal is not None:
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [refusal.formatted]}
            )
            return
        await super().handle_subscribe(message)

    async def _admit(self, principal: Principal, payload: Any) -> GraphQLError | None:
        query, variables = payload.get("query"), payload.get("variables") or {}
        if not isinstance(query, str) or not isinstance(variables, dict):
            return _error("send the operation's query as a string", "BAD_REQUEST")
        try:
            document = parse_document(query)
        except QueryLimitError as e:
            return _error(e.message, e.code)
        except GraphQLError as e:
            return _error(e.message, "GRAPHQL_PARSE_FAILED")
        operation = select_operation(document, payload.get("operationName"))
        if operation is None:
            return _error("say which operation to run in operationName", "BAD_REQUEST")
        found = measure(schema._schema, document, operation, variables)
        try:
            check_limits(found)
        except QueryLimitError as e:
            return _error(e.message, e.code)
        if operation.operation.value == "mutation" and not principal.may(Scope.WRITE):
            return _error("a mutation needs a key with scope write", "FORBIDDEN")
        return await self._charge(principal, found.cost)

    async def _charge(self, principal: Principal, cost: int) -> GraphQLError | None:
        charge = await charge_by_key_id(
            self.context.pool,
            key_id=principal.key_id,
            points=max(cost, 1),
            default_per_minute=self.context.default_per_minute,
        )
        if charge is None:
            return _error("the API key was revoked", "UNAUTHENTICATED")
        if not charge.taken:
            return _error(
                f"this key's rate limit leaves too few points for this operation ({cost})",
                "RATE_LIMITED",
            )
        return None

    async def _send_result_stream(self, operation: Any, result_source: Any) -> None:
        principal = self.context.principal
        assert principal is not None
        document = parse_document(operation.query)
        selected = select_operation(document, operation.operation_name)
        assert selected is not None  # admitted before
        cost = measure(schema._schema, document, selected, operation.variables or {}).cost

        async def charged() -> AsyncGenerator[Any, None]:
            first = True
            async for result in result_source:
                # The subscription was charged when it started; each event is charged
                # as the query it is an answer to would be.
                if not first and (refusal := await self._charge(principal, cost)) is not None:
                    yield ExecutionResult(data=None, errors=[refusal])
                    return
                first = False
                yield result

        await super()._send_result_stream(operation, charged())

    async def handle_task_exception(self, error: Exception) -> None:
        # A client that went away mid-answer is no server error: strawberry would log one,
        # with a traceback, for a message it could no longer send.
        if not isinstance(error, WebSocketDisconnected | SocketGone):
            await super().handle_task_exception(error)


class SubscriptionsView(GraphQL[SocketContext, None]):
    graphql_transport_ws_handler_class = _Handler

    def __init__(self, limits: SocketLimits) -> None:
        super().__init__(
            schema,
            graphql_ide=None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=limits.init_timeout,
            max_subscriptions_per_connection=20,
        )
        self.limits = limits

    def decode_json(self, data: str | bytes) -> object:
        # As the HTTP endpoint reads JSON: strict (no NaN, no lone surrogate) and bounded
        # in depth. The standard library's parser took 10,000 nested arrays down with a
        # RecursionError, dropping the socket without a close frame; orjson's error is a
        # JSONDecodeError, which strawberry answers with 4400, the protocol's "invalid
        # message".
        return orjson.loads(data)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> SocketContext:
        state = request.state
        return SocketContext(
            pool=state.pool, changes=state.change_hub, default_per_minute=state.default_per_minute
        )

    async def on_ws_connect(self, context: SocketContext) -> dict[str, object] | None:
        given = context.connection_params.get("Authorization")
        token = bearer_token(given) if isinstance(given, str) else None
        if token is None or not looks_like_secret(token):
            raise ConnectionRejectionError({"message": "send the API key in connection_init"})
        charge = await charge_by_secret_hash(
            context.pool,
            secret_hash=hash_secret(token),
            points=1,
            default_per_minute=context.default_per_minute,
        )
        if charge is None or not charge.taken:
            raise ConnectionRejectionError(
                {"message": "the API key is unknown, revoked or over its limit"}
            )
        context.principal = charge.principal
        return None


@contextlib.asynccontextmanager
async def change_hub(
    url: str, pool: Any, *, poll_interval: float = 1.0
) -> AsyncIterator[ChangeHub]:
    hub = ChangeHub(url, pool, poll_interval=poll_interval)
    try:
        yield hub
    finally:
        await hub.close()

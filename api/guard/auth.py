"""Every /graphql and /v1 request needs an API key: `Authorization: Bearer <key>`.

A pure ASGI middleware. For a guarded path it finds the key and charges the request's
first point in one statement (db/access/ratelimit.py), before it reads anything else of
the request, so a request with an unknown key costs one indexed lookup and no more, and a
revoked key is refused on its very next request, on every process. It refuses with 401
(no, unknown or revoked key), 403 (a REST method the key's scope does not allow; GraphQL
checks mutations itself) or 429 (no points left), and otherwise hands the request on with
its Principal and Quota in the request state. Every answer to a keyed request carries the
RateLimit headers.

Open: /healthz, /readyz, /metrics, /docs, /openapi.json (everything outside /graphql and
/v1), and GraphiQL's page, a static file that a browser loads without a key.
"""

import hmac
import time

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.graphql.endpoint import JSON, negotiate, wants_graphiql
from api.guard.answer_size import objects_in, told_objects
from api.guard.keys import hash_secret, looks_like_secret
from api.guard.leases import Leases
from api.guard.ratelimit import Quota, charge_owed, charge_with_lease
from api.guard.refusals import Refusal, bad_key, forbidden, no_key, rate_limited
from api.state import key_usage_of, pool_of
from db.access.principal import Principal
from db.access.principal import Scope as KeyScope
from db.access.ratelimit import charge_by_secret_hash

GRAPHQL_PATH = "/graphql"
REST_PREFIX = "/v1"
_READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def is_rest_path(path: str) -> bool:
    return _under(path, REST_PREFIX)


def bearer_token(authorization: str | None) -> str | None:
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    # The scheme is case-insensitive (RFC 9110 section 11.1).
    return token if scheme.lower() == "bearer" and token else None


def rest_scope(method: str) -> KeyScope:
    """REST reads need scope read; anything that changes data needs write."""
    return KeyScope.READ if method in _READING_METHODS else KeyScope.WRITE


def principal_of(request: Request) -> Principal:
    """The key behind a request on a guarded path (for REST handlers to record writes)."""
    principal = request.scope.get("state", {}).get("principal")
    if not isinstance(principal, Principal):
        raise LookupError(f"{request.url.path} is not behind the API key check")
    return principal


class AuthMiddleware:
    def __init__(self, app: ASGIApp, *, default_per_minute: int) -> None:
        self.app = app
        self.default_per_minute = default_per_minute
        self.leases = Leases()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        rest = is_rest_path(path)
        if not rest and not _under(path, GRAPHQL_PATH):
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            if scope["type"] == "websocket" and path == GRAPHQL_PATH:
                # Subscriptions: the key comes in connection_init, after the handshake, and
                # api/push/subscriptions.py checks and charges it there.
                await self.app(scope, receive, send)
                return
            # No other websocket route takes a key; refuse rather than let one in unchecked.
            await send({"type": "websocket.close", "code": 1008})
            return
        request = Request(scope)
        if not rest and wants_graphiql(request):
            await self.app(scope, receive, send)
            return

        token = bearer_token(request.headers.get("authorization"))
        if token is None:
            await self._refuse(no_key(), request, rest, send)
            return
        # Only well-formed secrets cost a query; the rest are surely unknown. The key is
        # checked before anything else of the request is read: the body of an unknown key
        # is never read, parsed nor priced. A GraphQL request pays the rest of its cost
        # once the endpoint has priced it (api/guard/ratelimit.py). A key on leases
        # (api/guard/leases.py), verified within the last second, pays from its lease.
        secret_hash = hash_secret(token)
        lease = self.leases.get(secret_hash)
        if lease is not None and lease.usable(1, now=time.monotonic()):
            lease.spend(1)
            principal, quota, taken = lease.principal, Quota(0, 0, 0, lease), True
            quota.spent_from_lease(1)
        else:
            charge = None
            if looks_like_secret(token):
                charge = await charge_with_lease(
                    lambda points: charge_by_secret_hash(
                        pool_of(request),
                        secret_hash=secret_hash,
                        points=points,
                        default_per_minute=self.default_per_minute,
                    ),
                    1,
                    lease,
                )
            # The key was found by its hash through a unique index. That lookup's timing
            # reveals nothing useful: an attacker cannot steer the SHA-256 of a guess
            # towards a stored hash. The constant-time comparison of the full hashes is a
            # second check that does not depend on how the database compares bytes.
            if charge is None or not hmac.compare_digest(charge.secret_hash, secret_hash):
                self.leases.forget(secret_hash)
                await self._refuse(bad_key(), request, rest, send)
                return
            lease = self.leases.after_charge(secret_hash, charge, now=time.monotonic())
            principal, quota, taken = charge.principal, Quota.after(charge, 1, lease), charge.taken

        key_usage_of(request).note(principal.key_id)
        # This request's own (as uvicorn makes it; a test harness may hand every request
        # one dict): what a handler tells of its answer must not reach the next one.
        state = scope["state"] = dict(scope.get("state", {}))
        state["principal"], state["quota"] = principal, quota

        held: Message | None = None
        pool = pool_of(request)

        async def send_with_quota(message: Message) -> None:
            # The answer's start waits for its body: a request whose answer holds more
            # objects than it paid for pays them (api/guard/answer_size.py), and the
            # headers then tell the quota as that last charge left it.
            nonlocal held
            if message["type"] == "http.response.start":
                held = message
                return
            if held is not None and message["type"] == "http.response.body":
                if 200 <= held["status"] < 300:
                    told = told_objects(state)
                    owed = (
                        told
                        if told is not None
                        else objects_in(message.get("body", b""), more_than=quota.charged)
                    )
                    await charge_owed(pool, principal, quota, owed)
                start = {**held, "headers": [*held.get("headers", []), *quota.headers()]}
                held = None
                await send(start)
            await send(message)

        refusal: Refusal | None = None
        needed = rest_scope(request.method)
        if rest and not principal.may(needed):
            refusal = forbidden(needed, principal.scope)
        elif not taken:
            refusal = rate_limited(1, quota.retry_after(1))
        if refusal is not None:
            await self._refuse(refusal, request, rest, send_with_quota)
            return
        await self.app(scope, receive, send_with_quota)

    async def _refuse(self, refusal: Refusal, request: Request, rest: bool, send: Send) -> None:
        if rest:
            response = refusal.problem()
        else:
            response = refusal.graphql(negotiate(request.headers.get("accept")) or JSON)
        await response(request.scope, request.receive, send)

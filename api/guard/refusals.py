"""Requests refused before they reach their route: no key (401), too little scope (403),
too large (413), over the rate limit (429); and requests the database could not serve
for now (503).

REST answers are problem+json (RFC 9457); GraphQL answers are GraphQL errors with
`extensions.code`, in the media type the client accepts. Both carry the same code.
"""

from dataclasses import dataclass, field

import orjson
from starlette.responses import Response

from api.ops.metrics import RATE_LIMIT_REJECTIONS
from api.rest.protocol import problem
from db.access.principal import Scope

_REALM = 'Bearer realm="dealgraph"'


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int
    code: str
    detail: str
    headers: dict[str, str] = field(default_factory=dict)

    def problem(self) -> Response:
        return problem(self.status, self.detail, code=self.code, headers=self.headers)

    def graphql(self, media_type: str) -> Response:
        body = {"errors": [{"message": self.detail, "extensions": {"code": self.code}}]}
        return Response(
            orjson.dumps(body), self.status, headers=self.headers, media_type=media_type
        )


def no_key() -> Refusal:
    return Refusal(
        401,
        "UNAUTHENTICATED",
        "send an API key as `Authorization: Bearer <key>`; `dealgraph keys create` makes one",
        {"www-authenticate": _REALM},
    )


def bad_key() -> Refusal:
    # Unknown and revoked keys get the same answer: it tells a guesser nothing.
    return Refusal(
        401,
        "UNAUTHENTICATED",
        "the API key is unknown or revoked",
        {"www-authenticate": f'{_REALM}, error="invalid_token"'},
    )


def forbidden(needed: Scope, has: Scope) -> Refusal:
    return Refusal(
        403,
        "FORBIDDEN",
        f"this needs a key with scope {needed.value}; this key's scope is {has.value}",
        {"www-authenticate": f'{_REALM}, error="insufficient_scope", scope="{needed.value}"'},
    )


def rate_limited(points: int, retry_after: int) -> Refusal:
    # Every 429 is made here, by the key check and by GraphQL's charge of a query's cost.
    RATE_LIMIT_REJECTIONS.inc()
    return Refusal(
        429,
        "RATE_LIMITED",
        f"this key's rate limit leaves too few points for this request ({points}); "
        f"retry in {retry_after} s",
        {"retry-after": str(retry_after)},
    )


def too_costly(points: int, per_minute: int) -> Refusal:
    # No wait would let it through: a 400, as GraphQL's QUERY_TOO_COSTLY.
    return Refusal(
        400,
        "QUERY_TOO_COSTLY",
        f"the request costs {points} points, more than this key's whole budget of "
        f"{per_minute} points per minute; ask for less",
    )


def too_large(limit: int) -> Refusal:
    return Refusal(413, "PAYLOAD_TOO_LARGE", f"the request body is over {limit} bytes")


# Long enough for a restart of PostgreSQL to be mostly over, short enough that clients
# come back soon after it.
RETRY_AFTER_SECONDS = 2


def unavailable(code: str, detail: str) -> Refusal:
    return Refusal(503, code, detail, {"retry-after": str(RETRY_AFTER_SECONDS)})

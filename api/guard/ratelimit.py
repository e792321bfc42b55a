"""Rate limits per key, in points: a request costs its price (a GraphQL request its query
cost, a REST request 1 and what its list may scan), and, when its answer holds more objects
than that, those objects (api/guard/answer_size.py), on either face.

A key may spend its points-per-minute (its own, or the configured default) in a burst, and
gets them back continuously at that rate. The budget lives in PostgreSQL (db/access/ratelimit.py),
so it holds across processes. Every answer to a keyed request reports it in the headers of
the IETF draft (draft-ietf-httpapi-ratelimit-headers):

    RateLimit-Policy: "key";q=6000;w=60     the key's points per 60 s window
    RateLimit: "key";r=5988;t=1             points left, seconds until the bucket is full
"""

import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from graphql import OperationType
from starlette.requests import Request

from api.guard.leases import Lease
from api.guard.refusals import Refusal, bad_key, forbidden, rate_limited, too_costly
from api.state import pool_of
from db.access.principal import Principal, Scope
from db.access.ratelimit import Charge, charge_by_key_id, charge_owed_by_key_id
from db.infra.types import Pool
from schema.limits import TooCostly

DEFAULT_PER_MINUTE = 6_000
_POLICY = '"key"'
_now = time.monotonic


@dataclass(slots=True)
class Quota:
    """A key's bucket as this request's last charge left it, and what the request paid;
    for a key on leases (api/guard/leases.py), its lease in this process."""

    per_minute: float
    tokens: float
    charged: int
    lease: Lease | None = None

    @classmethod
    def after(cls, charge: Charge, points: int, lease: Lease | None) -> "Quota":
        quota = cls(charge.per_minute, charge.tokens, points if charge.taken else 0, lease)
        quota.seen_lease()
        return quota

    def update(self, charge: Charge, points: int) -> None:
        self.per_minute, self.tokens = charge.per_minute, charge.tokens
        if charge.taken:
            self.charged += points
        self.seen_lease()

    def spent_from_lease(self, points: int) -> None:
        self.charged += points
        self.seen_lease()

    def seen_lease(self) -> None:
        if self.lease is not None:
            self.per_minute, self.tokens = self.lease.per_minute, self.lease.tokens(now=_now())

    @property
    def remaining(self) -> int:
        # Below zero after a charge for work already done: none left.
        return max(0, math.floor(self.tokens))

    def seconds_for(self, points: float) -> int:
        """Seconds until the bucket holds `points` more than it does now."""
        return math.ceil(max(points, 0) * 60 / self.per_minute)

    def retry_after(self, points: int) -> int:
        return max(1, self.seconds_for(points - self.tokens))

    def headers(self) -> list[tuple[bytes, bytes]]:
        reset = self.seconds_for(self.per_minute - self.tokens)
        return [
            (b"ratelimit-policy", f"{_POLICY};q={math.floor(self.per_minute)};w=60".encode()),
            (b"ratelimit", f"{_POLICY};r={self.remaining};t={reset}".encode()),
        ]


def principal_and_quota(request: Request) -> tuple[Principal, Quota] | None:
    """What the auth middleware found; None only in an app built without it (benchmarks)."""
    state = request.scope.get("state", {})
    principal, quota = state.get("principal"), state.get("quota")
    if principal is None or quota is None:
        return None
    assert isinstance(principal, Principal)
    assert isinstance(quota, Quota)
    return principal, quota


async def charge_with_lease(
    charge: Callable[[float], Awaitable[Charge | None]], points: int, lease: Lease | None
) -> Charge | None:
    """`charge(points)` in the database and, for a key on leases, a new lease with it (or,
    when the bucket cannot pay both, the points alone)."""
    now = _now()
    if lease is None:
        return await charge(points)
    # Up to one lease held, and one taken at a time: a charge that verifies the key
    # again, or one made while another takes a lease, takes only its points.
    leased = 0 if lease.taking else max(0, lease.size - math.ceil(lease.held))
    taking = leased > 0
    lease.taking = lease.taking or taking
    try:
        found = await charge(points + leased)
        if found is not None and not found.taken and leased:
            leased = 0
            found = await charge(points)
    finally:
        if taking:
            lease.taking = False
    if found is not None:
        lease.refilled(found, leased, now=now)
    return found


async def charge_more(request: Request, points: int) -> Refusal | None:
    """Bring what the request paid up to `points` before it runs; a refusal (429, or a
    revoked key) when the key cannot pay."""
    found = principal_and_quota(request)
    if found is None:
        return None
    principal, quota = found
    if points > quota.per_minute:
        return too_costly(points, math.floor(quota.per_minute))
    more = points - quota.charged
    if more <= 0:
        return None
    if quota.lease is not None and quota.lease.usable(more, now=_now()):
        quota.lease.spend(more)
        quota.spent_from_lease(more)
        return None
    pool = pool_of(request)
    charge = await charge_with_lease(
        lambda n: charge_by_key_id(
            pool,
            key_id=principal.key_id,
            points=n,
            # The bucket's size as found a moment ago, whether the key's own or the default.
            default_per_minute=math.floor(quota.per_minute),
        ),
        more,
        quota.lease,
    )
    if charge is None:
        return bad_key()
    quota.update(charge, more)
    if not charge.taken:
        return rate_limited(more, quota.retry_after(more))
    return None


async def charge_owed(pool: Pool, principal: Principal, quota: Quota, points: int) -> None:
    """Bring what the request paid up to `points` once it has run, even past the bucket."""
    more = points - quota.charged
    if more <= 0:
        return
    if quota.lease is not None and quota.lease.usable(more, now=_now()):
        quota.lease.spend(more)
        quota.spent_from_lease(more)
        return
    charge = await charge_owed_by_key_id(
        pool, key_id=principal.key_id, points=more, default_per_minute=math.floor(quota.per_minute)
    )
    if charge is not None:
        if quota.lease is not None:
            quota.lease.refilled(charge, 0, now=_now())
        quota.update(charge, more)


async def admit_operation(request: Request, operation: OperationType, cost: int) -> Refusal | None:
    """Check the scope an operation needs and charge its cost; a refusal, or None to go on.

    A mutation needs scope write. A request costs its query cost, at least 1 point; the
    first point was taken with authentication, so a request refused later (a bad document,
    too little scope, too few points) costs that one point. A query that costs more than
    the key's whole budget raises TooCostly: no wait would let it through.
    """
    found = principal_and_quota(request)
    if found is None:
        return None
    principal, quota = found
    needed = Scope.WRITE if operation is OperationType.MUTATION else Scope.READ
    if not principal.may(needed):
        return forbidden(needed, principal.scope)
    points = max(cost, 1)
    if points > quota.per_minute:
        raise TooCostly(
            f"the query costs {points} points, more than this key's whole budget of "
            f"{math.floor(quota.per_minute)} points per minute; ask for less"
        )
    return await charge_more(request, points)


def cost_report(request: Request) -> dict[str, int]:
    """What this request paid and what the key has left, for `extensions.cost`."""
    found = principal_and_quota(request)
    if found is None:
        return {}
    _, quota = found
    return {"charged": quota.charged, "remaining": quota.remaining}

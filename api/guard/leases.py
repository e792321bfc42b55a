"""Points taken from a key's shared bucket ahead of use, for keys with large budgets.

Charging the shared bucket (db/access/ratelimit.py) costs a statement. For a key of a few
points a minute that is nothing; for a key serving hundreds of requests a second it was
most of what a request cost besides its answer: a GraphQL request made three statements,
two of them charges (the first point with the key check, then the rest of its price),
and served 240 requests/s against 395 without them (bench, investor portfolio screen).

So a process takes the points of a key whose lease would be at least MIN_LEASE points
in leases of LEASE_FRACTION of its minute's budget, with the charge a request makes
anyway, and spends them in memory until they run out; then it charges the bucket again,
for what the request needs and a new lease. A key of a smaller budget is charged in the
database on every request, as before, and is verified by that charge each time.

The bounds, for a key on leases:
- It never spends more than its bucket: whatever is leased was taken from the bucket.
- Another process may find up to one lease (1% of the minute's points) per process
  missing from the bucket until it is spent; a process that stops loses what it held.
- Each process verifies the key again, with a charge by its id that finds only live keys,
  at least every RECHECK_SECONDS: a revoked key is refused within that, everywhere, and
  at once on any request that charges the database. The RateLimit headers tell the
  bucket as the last charge left it, plus its refill since, plus what this process holds.
"""

import math
from dataclasses import dataclass

from db.access.principal import Principal
from db.access.ratelimit import Charge

LEASE_FRACTION = 0.01
MIN_LEASE = 100
RECHECK_SECONDS = 1.0


def lease_size(per_minute: float) -> int:
    """The points a lease of a key with this budget takes; 0: charged per request."""
    size = math.floor(per_minute * LEASE_FRACTION)
    return size if size >= MIN_LEASE else 0


@dataclass(slots=True)
class Lease:
    """What this process holds of one key's points, and the bucket as last charged."""

    principal: Principal
    per_minute: float
    size: int
    held: float
    bucket: float
    charged_at: float
    # A charge taking a new lease is under way.
    taking: bool = False

    def usable(self, points: float, *, now: float) -> bool:
        """Whether `points` may be spent from what is held: the key was verified
        recently enough, and enough is held."""
        return now - self.charged_at < RECHECK_SECONDS and self.held >= points

    def spend(self, points: float) -> None:
        self.held -= points

    def refilled(self, charge: Charge, leased: int, *, now: float) -> None:
        """After a charge of the database that took `leased` points more than needed."""
        self.per_minute, self.size = charge.per_minute, lease_size(charge.per_minute)
        self.bucket, self.charged_at = charge.tokens, now
        if charge.taken:
            self.held += leased

    def tokens(self, *, now: float) -> float:
        """The key's points as far as this process knows: the bucket with its refill
        since the last charge, and what this process holds."""
        refill = (now - self.charged_at) * self.per_minute / 60
        return min(self.per_minute, self.bucket + refill + self.held)


class Leases:
    """A process's leases, by the hash of the key's secret."""

    def __init__(self) -> None:
        self._by_hash: dict[bytes, Lease] = {}

    def get(self, secret_hash: bytes) -> Lease | None:
        return self._by_hash.get(secret_hash)

    def after_charge(self, secret_hash: bytes, charge: Charge, *, now: float) -> Lease | None:
        """The key's lease once found and charged in the database; None when its budget
        is too small for leases (or no longer large enough)."""
        size = lease_size(charge.per_minute)
        if size == 0:
            self._by_hash.pop(secret_hash, None)
            return None
        lease = self._by_hash.get(secret_hash)
        if lease is None:
            lease = Lease(charge.principal, charge.per_minute, size, 0, charge.tokens, now)
            self._by_hash[secret_hash] = lease
        return lease

    def forget(self, secret_hash: bytes) -> None:
        """A key found unknown or revoked: its points held here are gone with it."""
        self._by_hash.pop(secret_hash, None)

"""Token buckets in PostgreSQL, so that one key's limit holds across every server process.

A key's bucket holds up to its points-per-minute and refills at that rate, continuously.
Each charge is one statement: an upsert that refills the bucket by the time elapsed since
its last charge and takes the points if they are there, atomically. Concurrent charges on
one key queue on its row lock, and each sees the row as the previous one left it, so no
two processes can spend the same points. The time is the statement's own `now()`; a
charge that waited on the lock behind a later one refills nothing (`greatest(0, ...)`)
and keeps the later time.
"""

import uuid
from dataclasses import dataclass

from db.access.principal import Principal, Scope
from db.infra.types import Executor, Record

# What the bucket holds now: what it held, plus what refilled since, up to its size.
_REFILLED = """
    least(excluded.capacity,
          b.tokens + greatest(0, extract(epoch from now() - b.refilled_at))
                     * excluded.capacity / 60.0)
"""


def _charge_sql(key_condition: str, *, owed: bool = False) -> str:
    """A charge of $3 points on the live key matching `key_condition` on $1; $2 is the
    configured default of points per minute, for keys without their own. `owed`: for
    work already done, taken whatever the bucket holds, down to one minute's points
    below zero (the key then waits until they are paid back)."""
    enough = "true" if owed else f"{_REFILLED} >= $3::float8"
    first_enough = "true" if owed else "$3::float8 <= capacity"
    return f"""
        with key as (
            select id, name, scope::text as scope, secret_hash,
                   coalesce(rate_limit_per_minute, $2)::float8 as capacity
            from api_keys
            where {key_condition} and revoked_at is null
        ), bucket as (
            insert into rate_limit_buckets as b (key_id, capacity, tokens, refilled_at, taken)
            select id, capacity,
                   case when {first_enough}
                        then greatest(capacity - $3::float8, -capacity) else capacity end,
                   now(), {first_enough}
            from key
            on conflict (key_id) do update set
                capacity = excluded.capacity,
                tokens = greatest(
                    {_REFILLED} - case when {enough} then $3::float8 else 0 end,
                    -excluded.capacity),
                taken = {enough},
                refilled_at = greatest(b.refilled_at, now())
            returning key_id, tokens, taken
        )
        select key.id, key.name, key.scope, key.secret_hash, key.capacity,
               bucket.tokens, bucket.taken
        from key join bucket on bucket.key_id = key.id
    """


_CHARGE_BY_HASH = _charge_sql("secret_hash = $1")
_CHARGE_BY_ID = _charge_sql("id = $1")
_OWED_BY_ID = _charge_sql("id = $1", owed=True)


@dataclass(frozen=True, slots=True)
class Charge:
    """A key and the state of its bucket after one charge."""

    principal: Principal
    secret_hash: bytes
    per_minute: float
    # The points left in the bucket after this charge (or untouched, if refused).
    tokens: float
    taken: bool

    @classmethod
    def from_record(cls, r: Record) -> "Charge":
        return cls(
            Principal(r["id"], r["name"], Scope(r["scope"])),
            r["secret_hash"],
            r["capacity"],
            r["tokens"],
            r["taken"],
        )


async def charge_by_secret_hash(
    db: Executor, *, secret_hash: bytes, points: float, default_per_minute: int
) -> Charge | None:
    """Find the live key with this secret hash and charge it; None for no such live key.

    Finding the key and charging it in one statement makes a request's authentication and
    rate limiting a single round trip, and revocation takes effect on the next request.
    """
    record = await db.fetchrow(_CHARGE_BY_HASH, secret_hash, default_per_minute, points)
    return None if record is None else Charge.from_record(record)


async def charge_by_key_id(
    db: Executor, *, key_id: uuid.UUID, points: float, default_per_minute: int
) -> Charge | None:
    """Charge more points to a key already found; None if it was revoked meanwhile."""
    record = await db.fetchrow(_CHARGE_BY_ID, key_id, default_per_minute, points)
    return None if record is None else Charge.from_record(record)


async def charge_owed_by_key_id(
    db: Executor, *, key_id: uuid.UUID, points: float, default_per_minute: int
) -> Charge | None:
    """Charge points for work already done (a request that returned more than it was
    priced): taken even past what the bucket holds; None if the key was revoked."""
    record = await db.fetchrow(_OWED_BY_ID, key_id, default_per_minute, points)
    return None if record is None else Charge.from_record(record)

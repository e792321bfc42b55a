"""The token bucket in SQL: refill by elapsed time, capped at a minute's points, and no
point spent twice by concurrent charges."""

import asyncio
import datetime
import uuid

from api.guard.keys import hash_secret, issue_key
from db.access.keys import list_keys, record_last_used, revoke_key
from db.access.principal import Scope
from db.access.ratelimit import Charge, charge_by_key_id, charge_by_secret_hash
from db.infra.types import Pool


async def _key(pool: Pool, per_minute: int | None) -> tuple[uuid.UUID, bytes]:
    issued = await issue_key(
        pool, name="bucket", scope=Scope.READ, rate_limit_per_minute=per_minute
    )
    return issued.key.id, hash_secret(issued.secret)


async def _charge(pool: Pool, secret_hash: bytes, points: float) -> Charge:
    charge = await charge_by_secret_hash(
        pool, secret_hash=secret_hash, points=points, default_per_minute=1_000
    )
    assert charge is not None
    return charge


async def _age(pool: Pool, key_id: uuid.UUID, seconds: int) -> None:
    """As if the last charge had been `seconds` earlier."""
    await pool.execute(
        "update rate_limit_buckets set refilled_at = refilled_at - make_interval(secs => $2)"
        " where key_id = $1",
        key_id,
        seconds,
    )


async def test_refills_by_elapsed_time_up_to_a_minutes_points(pool: Pool) -> None:
    key_id, secret_hash = await _key(pool, 60)
    first = await _charge(pool, secret_hash, 60)
    assert (first.taken, first.per_minute) == (True, 60)
    assert first.tokens == 0
    assert not (await _charge(pool, secret_hash, 1)).taken
    await _age(pool, key_id, 30)
    # 60 a minute: 30 s bring back 30 points, of which this charge takes one.
    half = await _charge(pool, secret_hash, 1)
    assert half.taken
    assert 29 <= half.tokens < 29.1
    await _age(pool, key_id, 600)
    full = await _charge(pool, secret_hash, 1)
    assert 59 <= full.tokens < 59.01


async def test_a_refused_charge_takes_nothing(pool: Pool) -> None:
    _, secret_hash = await _key(pool, 10)
    await _charge(pool, secret_hash, 8)
    refused = await _charge(pool, secret_hash, 5)
    assert not refused.taken
    assert 2 <= refused.tokens < 2.1
    assert (await _charge(pool, secret_hash, 2)).taken


async def test_the_default_applies_until_a_key_has_its_own(pool: Pool) -> None:
    key_id, secret_hash = await _key(pool, None)
    assert (await _charge(pool, secret_hash, 1)).per_minute == 1_000
    await pool.execute("update api_keys set rate_limit_per_minute = 10 where id = $1", key_id)
    # The bucket shrinks to the new size on the next charge.
    lowered = await _charge(pool, secret_hash, 1)
    assert lowered.per_minute == 10
    assert lowered.tokens <= 9


async def test_revoked_keys_are_not_charged(pool: Pool) -> None:
    key_id, secret_hash = await _key(pool, 10)
    await revoke_key(pool, key_id=key_id)
    assert (
        await charge_by_secret_hash(pool, secret_hash=secret_hash, points=1, default_per_minute=10)
        is None
    )
    assert await charge_by_key_id(pool, key_id=key_id, points=1, default_per_minute=10) is None


async def test_concurrent_charges_never_spend_a_point_twice(pool: Pool) -> None:
    # 6 a minute: one point every 10 s, so nothing refills while the charges run.
    _, secret_hash = await _key(pool, 6)
    charges = await asyncio.gather(*(_charge(pool, secret_hash, 1) for _ in range(40)))
    assert sum(c.taken for c in charges) == 6


async def test_last_use_only_moves_forward(pool: Pool) -> None:
    key_id, _ = await _key(pool, None)
    later = datetime.datetime(2026, 2, 1, tzinfo=datetime.UTC)
    earlier = later - datetime.timedelta(hours=1)
    await record_last_used(pool, key_ids=[key_id], used_at=[later])
    # Another process reports an older use afterwards.
    await record_last_used(pool, key_ids=[key_id], used_at=[earlier])
    [key] = [k for k in await list_keys(pool) if k.id == key_id]
    assert key.last_used_at == later

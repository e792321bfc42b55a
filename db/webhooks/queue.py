"""The delivery queue: senders claim due deliveries with FOR UPDATE SKIP LOCKED.

A sender holds the claimed row's lock while it sends, and records the attempt in the
same transaction: if the process dies mid-delivery, PostgreSQL ends its session, the
lock goes, and the delivery is due again for any sender. Per endpoint and subject (a
round, or an organization) only the oldest pending delivery is due, so they arrive in
the feed's order: a later one waits while an earlier one is retried.
"""

import datetime
import uuid
from dataclasses import dataclass

from db.infra.pagination import Keyset, Page, PageRequest, build_page
from db.infra.types import Connection, Executor


@dataclass(frozen=True, slots=True)
class DueDelivery:
    id: uuid.UUID
    endpoint_id: uuid.UUID
    url: str
    body: bytes
    attempts: int
    give_up_at: datetime.datetime
    secrets: list[str]


async def claim_due(conn: Connection) -> DueDelivery | None:
    """One due delivery, locked until the transaction ends; None when none is due."""
    record = await conn.fetchrow(
        """
        select d.id, d.endpoint_id, e.url, d.body, d.attempts, d.give_up_at,
               array_remove(array[e.secret, case when e.previous_secret_expires_at > now()
                                                 then e.previous_secret end], null) as secrets
        from webhook_deliveries d
        join webhook_endpoints e on e.id = d.endpoint_id
        where d.status = 'pending' and d.next_attempt_at <= now() and e.enabled
          and not exists (
              select 1 from webhook_deliveries b
              where b.endpoint_id = d.endpoint_id and b.subject_id = d.subject_id
                and b.status = 'pending' and b.seq < d.seq)
        order by d.next_attempt_at, d.seq
        limit 1
        for update of d skip locked
        """
    )
    if record is None:
        return None
    return DueDelivery(
        id=record["id"],
        endpoint_id=record["endpoint_id"],
        url=record["url"],
        body=record["body"].encode(),
        attempts=record["attempts"],
        give_up_at=record["give_up_at"],
        secrets=list(record["secrets"]),
    )


async def next_due_at(db: Executor) -> datetime.datetime | None:
    due: datetime.datetime | None = await db.fetchval(
        "select min(next_attempt_at) from webhook_deliveries where status = 'pending'"
    )
    return due


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    latency_ms: float
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.error is None and self.status_code is not None and 200 <= self.status_code < 300


async def record_attempt(
    conn: Connection,
    delivery: DueDelivery,
    outcome: Outcome,
    *,
    retry_in: datetime.timedelta,
    disable_after: datetime.timedelta,
) -> None:
    """The attempt, the delivery's new state and its endpoint's health, in the claim's
    transaction. A failure past the delivery's retry window fails it for good; an endpoint
    with no success for `disable_after` is disabled, saying why."""
    await conn.execute(
        """
        insert into webhook_attempts (delivery_id, status_code, latency_ms, error)
        values ($1, $2, $3, $4)
        """,
        delivery.id,
        outcome.status_code,
        outcome.latency_ms,
        outcome.error,
    )
    if outcome.delivered:
        await conn.execute(
            """
            update webhook_deliveries set status = 'delivered', attempts = attempts + 1,
                delivered_at = now(), last_status_code = $2, last_error = null
            where id = $1
            """,
            delivery.id,
            outcome.status_code,
        )
        await conn.execute(
            """
            update webhook_endpoints set failing_since = null
            where id = $1 and failing_since is not null
            """,
            delivery.endpoint_id,
        )
        return
    await conn.execute(
        """
        update webhook_deliveries set
            attempts = attempts + 1,
            status = case when now() + $4::interval > give_up_at then 'failed' else 'pending' end,
            next_attempt_at = now() + $4::interval,
            last_status_code = $2, last_error = $3
        where id = $1
        """,
        delivery.id,
        outcome.status_code,
        outcome.error,
        retry_in,
    )
    await conn.execute(
        """
        update webhook_endpoints set
            failing_since = coalesce(failing_since, now()),
            enabled = coalesce(failing_since > now() - $2::interval, true),
            disabled_reason = case when failing_since <= now() - $2::interval then
                'disabled at ' || to_char(now() at time zone 'UTC',
                                          'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                || ': no delivery succeeded since '
                || to_char(failing_since at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                || '; last error: ' || $3 end
        where id = $1 and enabled
        """,
        delivery.endpoint_id,
        disable_after,
        outcome.error or f"HTTP {outcome.status_code}",
    )


@dataclass(frozen=True, slots=True)
class Attempt:
    at: datetime.datetime
    status_code: int | None
    latency_ms: float
    error: str | None


@dataclass(frozen=True, slots=True)
class Delivery:
    id: uuid.UUID
    seq: int
    event_type: str
    status: str
    attempts: list[Attempt]
    next_attempt_at: datetime.datetime | None
    created_at: datetime.datetime
    delivered_at: datetime.datetime | None


# One scope for every endpoint's list: a cursor is a position in the one delivery
# sequence, so one from another endpoint's list only starts this one's further on.
DELIVERIES_SCOPE = "webhook_deliveries"


async def list_deliveries(
    db: Executor, endpoint_id: uuid.UUID, *, page: PageRequest
) -> Page[Delivery]:
    """Newest first, each with its attempts (one query for them all)."""
    sort_key, _ = page.cursor_args
    records = await db.fetch(
        """
        select id, seq, event_type, status, next_attempt_at, created_at, delivered_at
        from webhook_deliveries
        where endpoint_id = $1 and ($2::bigint is null or seq < $2)
        order by seq desc
        limit $3
        """,
        endpoint_id,
        None if sort_key is None else int(sort_key),
        page.fetch_limit,
    )
    attempts = await db.fetch(
        """
        select delivery_id, at, status_code, latency_ms, error from webhook_attempts
        where delivery_id = any($1::uuid[]) order by id
        """,
        [r["id"] for r in records],
    )
    by_delivery: dict[uuid.UUID, list[Attempt]] = {}
    for a in attempts:
        by_delivery.setdefault(a["delivery_id"], []).append(
            Attempt(a["at"], a["status_code"], a["latency_ms"], a["error"])
        )
    found = [
        (
            Delivery(
                id=r["id"],
                seq=r["seq"],
                event_type=r["event_type"],
                status=r["status"],
                attempts=by_delivery.get(r["id"], []),
                next_attempt_at=r["next_attempt_at"] if r["status"] == "pending" else None,
                created_at=r["created_at"],
                delivered_at=r["delivered_at"],
            ),
            Keyset(str(r["seq"]), r["id"]),
        )
        for r in records
    ]
    return build_page(DELIVERIES_SCOPE, page, found)


async def redeliver(
    db: Executor,
    endpoint_id: uuid.UUID,
    delivery_id: uuid.UUID,
    *,
    retry_window: datetime.timedelta,
) -> bool:
    """Send the delivery again (its retries start over); False if there is no such one."""
    updated = await db.fetchval(
        """
        update webhook_deliveries set status = 'pending', next_attempt_at = now(),
            give_up_at = now() + $3::interval
        where id = $2 and endpoint_id = $1
        returning true
        """,
        endpoint_id,
        delivery_id,
        retry_window,
    )
    return bool(updated)

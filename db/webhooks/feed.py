"""The dispatcher's side of the change feed: its committed position, the changes after
it with what each one replaced and what caused it, and the deliveries it makes of them.

The position and the deliveries are written in the transaction that holds the
position's row lock, so a change is turned into deliveries once, whichever process
does it, and a dispatcher that dies mid-way leaves the position where it was.
"""

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

import orjson

from db.changes import START, FeedPosition
from db.infra.types import Connection, Executor

# What the dispatcher NOTIFYs when it made deliveries, for idle senders.
DELIVERIES_CHANNEL = "dealgraph_webhook_deliveries"
# What the change feed's trigger NOTIFYs (migration 0040).
CHANGES_CHANNEL = "dealgraph_changes"


async def lock_position(conn: Connection) -> FeedPosition | None:
    """The committed position, locked for this transaction; None while another holds it."""
    record = await conn.fetchrow(
        """
        select xid::text::bigint as xid, change_id from webhook_feed_position
        for update skip locked
        """
    )
    return None if record is None else FeedPosition(record["xid"], record["change_id"])


async def save_position(conn: Connection, position: FeedPosition) -> None:
    await conn.execute(
        "update webhook_feed_position set xid = $1::text::xid8, change_id = $2",
        str(position.xid),
        position.id,
    )


@dataclass(frozen=True, slots=True)
class FeedEntry:
    position: FeedPosition
    entity: str
    entity_id: uuid.UUID
    operation: str
    at: datetime.datetime
    state: dict[str, Any] | None
    # For updates: the entity's state in its previous feed entry.
    previous: dict[str, Any] | None
    # For a round, participation or acquisition whose status or stage this change set:
    # the claim that did, as the status event written in the same transaction records it.
    claim_id: uuid.UUID | None
    source_id: uuid.UUID | None

    @property
    def event(self) -> str | None:
        """The event's name (webhooks and subscriptions share them); None for claims,
        whose effects on rounds and participations are events of their own."""
        if self.entity not in ENTITIES:
            return None
        match self.operation:
            case "create":
                return f"{self.entity}.created"
            case "delete":
                return f"{self.entity}.deleted"
        if self.entity != "organization" and status_of(self.previous) != status_of(self.state):
            return f"{self.entity}.status_changed"
        return f"{self.entity}.updated"


ENTITIES = ("round", "participation", "organization", "acquisition")


def status_of(state: dict[str, Any] | None) -> tuple[Any, Any]:
    """A deal's (round's, participation's, acquisition's) status and stage in a feed state."""
    return (None, None) if state is None else (state.get("status"), state.get("stage"))


async def feed_end(db: Executor) -> FeedPosition:
    """Where a reader that wants only what comes next starts: after the last entry below
    the feed's horizon (db/changes.py), so that nothing committed later is passed over."""
    record = await db.fetchrow(
        """
        select xid::text::bigint as xid, id from changes
        where xid < feed_horizon()
        order by xid desc, id desc
        limit 1
        """
    )
    return START if record is None else FeedPosition(record["xid"], record["id"])


async def read_feed(conn: Connection, *, after: FeedPosition, limit: int) -> list[FeedEntry]:
    # feed_horizon(): as for /v1/changes (db/changes.py), only transactions older than
    # every running one, so nothing committed later sorts before the saved position.
    # A status event and the change it explains share their transaction, hence now().
    # Its entity's id is matched in three ors, not a case: each arm then reads its own
    # index (migration 0120), where a case had PostgreSQL scan every status event for
    # each change (38 s a batch of 500 after the CrunchBase import, 45 ms now).
    records = await conn.fetch(
        """
        select c.xid::text::bigint as xid, c.id, c.entity, c.entity_id, c.operation, c.at,
               c.state::text as state, previous.state::text as previous,
               cause.claim_id, cause.source_id
        from changes c
        left join lateral (
            select p.state from changes p
            where c.operation = 'update' and p.entity_id = c.entity_id
              and (p.xid, p.id) < (c.xid, c.id)
            order by p.xid desc, p.id desc
            limit 1
        ) previous on true
        left join lateral (
            select e.claim_id, e.source_id from status_events e
            where c.entity in ('round', 'participation', 'acquisition')
              and c.operation <> 'delete'
              and e.recorded_at = c.at
              and (c.entity = 'round' and e.round_id = c.entity_id
                       and e.participation_id is null
                   or c.entity = 'acquisition' and e.acquisition_id = c.entity_id
                   or c.entity = 'participation' and e.participation_id = c.entity_id)
            order by e.at desc
            limit 1
        ) cause on true
        where c.xid < feed_horizon()
          and (c.xid, c.id) > ($1::text::xid8, $2::bigint)
        order by c.xid, c.id
        limit $3
        """,
        str(after.xid),
        after.id,
        limit,
    )
    return [
        FeedEntry(
            position=FeedPosition(r["xid"], r["id"]),
            entity=r["entity"],
            entity_id=r["entity_id"],
            operation=r["operation"],
            at=r["at"],
            state=None if r["state"] is None else orjson.loads(r["state"]),
            previous=None if r["previous"] is None else orjson.loads(r["previous"]),
            claim_id=r["claim_id"],
            source_id=r["source_id"],
        )
        for r in records
    ]


@dataclass(frozen=True, slots=True)
class NewDelivery:
    endpoint_id: uuid.UUID
    event_type: str
    subject_id: uuid.UUID
    body: bytes


async def insert_deliveries(
    conn: Connection, deliveries: list[NewDelivery], *, retry_window: datetime.timedelta
) -> None:
    """In list order, which is the order they will be sent in per endpoint and subject."""
    if not deliveries:
        return
    await conn.execute(
        """
        insert into webhook_deliveries (endpoint_id, event_type, subject_id, body, give_up_at)
        select e, t, s, b, now() + $5::interval
        from unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[]) with ordinality
             as d (e, t, s, b, n)
        order by n
        """,
        [d.endpoint_id for d in deliveries],
        [d.event_type for d in deliveries],
        [d.subject_id for d in deliveries],
        [d.body.decode() for d in deliveries],
        retry_window,
    )
    await conn.execute("select pg_notify($1, '')", DELIVERIES_CHANNEL)

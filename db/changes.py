"""Reading the change feed that the triggers of migration 0004 write.

An entry says which entity changed and how; what it shows of the entity is read with the
REST views from the entity's own tables (api/rest/views.py), so that the feed and the
entity routes show it alike.
"""

import base64
import datetime
import uuid
from dataclasses import dataclass

from db.infra.errors import BadInput
from db.infra.ids import Kind, encode_id
from db.infra.types import Executor

_ENTITY_KINDS = {
    "organization": Kind.ORGANIZATION,
    "round": Kind.ROUND,
    "participation": Kind.PARTICIPATION,
    "claim": Kind.CLAIM,
    "acquisition": Kind.ACQUISITION,
}


_BIGINT_MAX = 2**63 - 1


@dataclass(frozen=True, slots=True)
class FeedPosition:
    """Just after the entry of transaction `xid` with sequence number `id`."""

    xid: int
    id: int

    def encode(self) -> str:
        return base64.urlsafe_b64encode(f"changes:{self.xid}:{self.id}".encode()).decode()

    @classmethod
    def decode(cls, cursor: str, *, field: str) -> "FeedPosition":
        try:
            tag, xid, seq = base64.urlsafe_b64decode(cursor.encode()).decode().split(":")
            if tag != "changes" or not (xid.isascii() and xid.isdigit()):
                raise ValueError
            if not (seq.isascii() and seq.isdigit()):
                raise ValueError
            position = cls(int(xid), int(seq))
            # Both are bigints in the database; a minus sign or a number past them
            # can only come from a cursor changed by hand.
            if position.xid > _BIGINT_MAX or position.id > _BIGINT_MAX:
                raise ValueError
            return position
        except ValueError:
            raise BadInput(
                f"{field}: {cursor[:200]!r} is not a change feed cursor; pass next_cursor "
                "exactly as a page gave it",
                field=field,
            ) from None


START = FeedPosition(0, 0)


@dataclass(frozen=True, slots=True)
class Change:
    entity: str
    # The entity's id as the API shows it, and as its table keeps it.
    entity_id: str
    row_id: uuid.UUID
    operation: str
    at: datetime.datetime


@dataclass(frozen=True, slots=True)
class ChangePage:
    changes: list[Change]
    next_position: FeedPosition
    has_more: bool


async def list_changes(db: Executor, *, after: FeedPosition, limit: int) -> ChangePage:
    # Only transactions older than every running one (feed_horizon, migration 0004):
    # whatever is still running may yet commit entries that sort before this page's last.
    records = await db.fetch(
        """
        select xid::text::bigint as xid, id, entity, entity_id, operation, at
        from changes
        where xid < feed_horizon()
          and (xid, id) > ($1::text::xid8, $2::bigint)
        order by xid, id
        limit $3
        """,
        str(after.xid),
        after.id,
        limit + 1,
    )
    if not records and after != START:
        # Every cursor handed out is of a committed transaction, older than any yet to
        # start: one past that would give empty pages for ever.
        ahead = await db.fetchval(
            "select $1::text::xid8 >= pg_snapshot_xmax(pg_current_snapshot())", str(after.xid)
        )
        if ahead:
            raise BadInput(
                "after: this cursor is ahead of the change feed; pass next_cursor exactly as "
                "a page gave it",
                field="after",
            )
    page = records[:limit]
    changes = [
        Change(
            entity=r["entity"],
            entity_id=encode_id(_ENTITY_KINDS[r["entity"]], r["entity_id"]),
            row_id=r["entity_id"],
            operation=r["operation"],
            at=r["at"],
        )
        for r in page
    ]
    last = FeedPosition(page[-1]["xid"], page[-1]["id"]) if page else after
    return ChangePage(changes=changes, next_position=last, has_more=len(records) > limit)

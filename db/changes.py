"""Reading the change feed that the triggers of migration 0004 write.

An entry says which entity changed and how; what it shows of the entity is read by the
REST representation from the entity's own tables (api/rest/representations.py), so that
the feed and the entity routes show it alike.
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
            if tag != "changes":
                raise ValueError
            return cls(int(xid), int(seq))
        except ValueError:
            raise BadInput(
                f"{field}: {cursor!r} is not a change feed cursor", field=field
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

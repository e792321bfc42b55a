"""Reading the change feed that the triggers of migration 0004 write.

An entry keeps its entity's row as it was after the change (migration 0030); it is read
back here as the same row type the entity's own queries give, for one renderer to show.
"""

import base64
import datetime
from collections.abc import Callable
from dataclasses import dataclass

from asyncpg import Record

from db.infra.errors import BadInput
from db.infra.ids import Kind, encode_id
from db.infra.types import Executor
from db.rounds import ROUND_COLUMNS
from db.rows import Claim, Organization, Participation, Round

_ENTITY_KINDS = {
    "organization": Kind.ORGANIZATION,
    "round": Kind.ROUND,
    "participation": Kind.PARTICIPATION,
    "claim": Kind.CLAIM,
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

State = Organization | Round | Participation | Claim

# Per entity: its table, the alias of a state read back as a row of it, the row's columns
# as its own queries select them, and how a record of them becomes a row.
_STATES: dict[str, tuple[str, str, str, Callable[[Record], State]]] = {
    "organization": (
        "organizations",
        "s",
        """s.id, s.slug, s.name, s.description, s.website, s.country_code, s.city,
           s.founded_on, s.founded_precision, s.categories, s.investor_types::text[],
           array(select jsonb_array_elements_text(c.state -> 'aliases')) as aliases""",
        Organization.from_record,
    ),
    "round": ("rounds", "r", ROUND_COLUMNS, Round.from_record),
    "participation": (
        "participations",
        "s",
        """s.id, s.round_id, s.investor_organization_id, s.investor_person_id,
           s.amount, s.is_lead, s.status, s.stage""",
        Participation.from_record,
    ),
    "claim": (
        "claims",
        "s",
        """s.id, s.source_id, s.round_id, s.participation_id, s.quote, s.attribution,
           s.status, s.stage, s.amount, s.pre_money_valuation, s.post_money_valuation,
           s.expected_close_on, s.expected_close_precision, s.announced_on,
           s.announced_precision, s.is_lead, s.usd_rate, s.usd_rate_date, s.recorded_at""",
        Claim.from_record,
    ),
}


@dataclass(frozen=True, slots=True)
class Change:
    entity: str
    entity_id: str
    operation: str
    at: datetime.datetime
    # The entity after the change; None after a delete.
    state: State | None


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
    states = await _states(db, {r["entity"]: [] for r in page}, page)
    changes = [
        Change(
            entity=r["entity"],
            entity_id=encode_id(_ENTITY_KINDS[r["entity"]], r["entity_id"]),
            operation=r["operation"],
            at=r["at"],
            state=states.get(r["id"]),
        )
        for r in page
    ]
    last = FeedPosition(page[-1]["xid"], page[-1]["id"]) if page else after
    return ChangePage(changes=changes, next_position=last, has_more=len(records) > limit)


async def _states(
    db: Executor, by_entity: dict[str, list[int]], page: list[Record]
) -> dict[int, State]:
    """The states of a page's entries by entry id: one statement per entity on the page."""
    for r in page:
        if r["operation"] != "delete":
            by_entity[r["entity"]].append(r["id"])
    states: dict[int, State] = {}
    for entity, ids in by_entity.items():
        if not ids:
            continue
        table, alias, columns, from_record = _STATES[entity]
        records = await db.fetch(
            f"""
            select c.id as change_id, {columns}
            from changes c
            cross join lateral jsonb_populate_record(null::{table}, c.state) {alias}
            where c.id = any($1::bigint[])
            """,
            ids,
        )
        states.update((r["change_id"], from_record(r)) for r in records)
    return states

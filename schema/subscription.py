"""Subscriptions: changes to rounds and organizations as the change feed has them, over
WebSocket (graphql-transport-ws, api/push/subscriptions.py)."""

import uuid
from collections.abc import AsyncGenerator

import strawberry

from db.infra.errors import DealgraphError
from db.infra.ids import Kind, decode_any_id
from db.rounds import RoundFilter as DbRoundFilter
from db.rounds import rounds_matching
from db.webhooks.feed import FeedEntry
from schema.context import Context
from schema.enums import DealStage, DealStatus
from schema.filters import RoundFilter
from schema.ids import id_argument
from schema.organization import Organization
from schema.provenance import Source
from schema.round import Participation, Round


@strawberry.type(description="A change to a round, or to one participation in it.")
class RoundChange:
    event: str = strawberry.field(
        description="The webhook event's name: round.created, round.updated, "
        "round.status_changed, participation.created, participation.updated or "
        "participation.status_changed."
    )
    round: Round = strawberry.field(description="The round after the change.")
    participation: Participation | None = strawberry.field(
        description="The participation that changed, for participation.* events."
    )
    previous_status: DealStatus | None = strawberry.field(
        description="The status of what changed before the change (updates only)."
    )
    previous_stage: DealStage | None = strawberry.field(
        description="The stage of what changed before the change (updates only)."
    )
    source: Source | None = strawberry.field(
        description="The source of the claim that set the status or stage, if the change did."
    )


@strawberry.type(description="A change to an organization.")
class OrganizationChange:
    event: str = strawberry.field(
        description="organization.created, organization.updated or organization.deleted."
    )
    organization: Organization | None = strawberry.field(
        description="The organization after the change; null once deleted."
    )


def _feed(info: strawberry.Info[Context, None]) -> Context:
    context = info.context
    if context.changes is None:
        raise DealgraphError("subscriptions are served over WebSocket on /graphql only")
    return context


def _round_of(entry: FeedEntry) -> uuid.UUID:
    if entry.entity == "participation":
        assert entry.state is not None  # deletes are left out before
        return decode_any_id(entry.state["round_id"])[1]
    return entry.entity_id


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Every change to the rounds the filter lets through (as they are after "
        "the change), and to their participations, from now on."
    )
    async def round_changed(
        self, info: strawberry.Info[Context, None], filter: RoundFilter | None = None
    ) -> AsyncGenerator[RoundChange, None]:
        context = _feed(info)
        wanted = DbRoundFilter() if filter is None else await filter.to_db(context)
        assert context.changes is not None
        async with context.changes.follow() as batches:
            async for batch in batches:
                entries = [
                    e
                    for e in batch
                    if e.entity in ("round", "participation") and e.operation != "delete"
                ]
                if not entries:
                    continue
                matching = await rounds_matching(
                    context.pool, filter=wanted, ids=sorted({_round_of(e) for e in entries})
                )
                context.forget()
                for entry in entries:
                    round_id = _round_of(entry)
                    if round_id not in matching:
                        continue
                    change = await _round_change(context, entry, round_id)
                    if change is not None:
                        yield change

    @strawberry.subscription(description="Every change to this organization, from now on.")
    async def organization_changed(
        self, info: strawberry.Info[Context, None], id: strawberry.ID
    ) -> AsyncGenerator[OrganizationChange, None]:
        context = _feed(info)
        org_id = id_argument(Kind.ORGANIZATION, id, "id")
        assert context.changes is not None
        async with context.changes.follow() as batches:
            async for batch in batches:
                for entry in batch:
                    if entry.entity != "organization" or entry.entity_id != org_id:
                        continue
                    assert entry.event is not None
                    context.forget()
                    row = await context.loaders.organization_by_id.load(org_id)
                    yield OrganizationChange(
                        event=entry.event,
                        organization=None if row is None else Organization.from_row(row),
                    )


async def _round_change(
    context: Context, entry: FeedEntry, round_id: uuid.UUID
) -> RoundChange | None:
    loaders = context.loaders
    found = await loaders.round_by_id.load(round_id)
    if found is None:  # deleted since
        return None
    participation = None
    if entry.entity == "participation":
        row = await loaders.participation_by_id.load(entry.entity_id)
        if row is None:
            return None
        participation = Participation.from_row(row)
    source = None
    if entry.source_id is not None:
        source_row = await loaders.source_by_id.load(entry.source_id)
        source = None if source_row is None else Source.from_row(source_row)
    previous = entry.previous or {}
    assert entry.event is not None
    return RoundChange(
        event=entry.event,
        round=Round.from_row(found),
        participation=participation,
        previous_status=DealStatus(previous["status"]) if "status" in previous else None,
        previous_stage=DealStage(previous["stage"]) if "stage" in previous else None,
        source=source,
    )

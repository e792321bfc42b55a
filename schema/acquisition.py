"""Acquisitions: who buys whom, for how much, and how sure that is."""

import datetime
import decimal
import uuid

import strawberry

from db import rows
from db.infra.ids import Kind, encode_id
from schema.context import Context
from schema.enums import AcquisitionTerms, DealStage, DealStatus
from schema.money import FuzzyDate, MoneyEstimate
from schema.node import Node
from schema.organization import Organization
from schema.provenance import Claim, StatusEvent


async def _organization(info: strawberry.Info[Context, None], org_id: uuid.UUID) -> Organization:
    org = await info.context.loaders.organization_by_id.load(org_id)
    assert org is not None  # a foreign key guarantees it
    return Organization.from_row(org)


@strawberry.type(description="One organization acquiring another, or part of it.")
class Acquisition(Node):
    row: strawberry.Private[rows.Acquisition]
    # Set on a read "as of" a past time: only what was recorded by then shows.
    as_of: strawberry.Private[datetime.datetime | None]
    id: strawberry.ID
    status: DealStatus
    stage: DealStage
    announced: FuzzyDate | None
    closed_on: datetime.date | None
    price: MoneyEstimate | None = strawberry.field(
        description="What the acquirers pay; null when undisclosed."
    )
    terms: AcquisitionTerms | None = strawberry.field(
        description="Cash, stock or both, when known."
    )
    percent_acquired: decimal.Decimal | None = strawberry.field(
        description="The share of the target acquired, in percent, when known."
    )

    @classmethod
    def from_row(
        cls, row: rows.Acquisition, as_of: datetime.datetime | None = None
    ) -> "Acquisition":
        return cls(
            row=row,
            as_of=as_of,
            id=strawberry.ID(encode_id(Kind.ACQUISITION, row.id)),
            status=DealStatus(row.status),
            stage=DealStage(row.stage),
            announced=FuzzyDate.from_row(row.announced),
            closed_on=row.closed_on,
            price=MoneyEstimate.from_row(row.price),
            terms=None if row.terms is None else AcquisitionTerms(row.terms),
            percent_acquired=row.percent_acquired,
        )

    @strawberry.field(description="The organization acquired.")
    async def target(self, info: strawberry.Info[Context, None]) -> Organization:
        return await _organization(info, self.row.target_id)

    async def _acquirers(self, info: strawberry.Info[Context, None]) -> list[rows.Acquirer]:
        found = await info.context.loaders.acquirers_by_acquisition.load(self.row.id)
        return [a for a in found if self.as_of is None or a.added_at <= self.as_of]

    @strawberry.field(description="Who acquires, the lead first.")
    async def acquirers(self, info: strawberry.Info[Context, None]) -> list[Organization]:
        loader = info.context.loaders.organization_by_id
        pending = [loader.load(a.organization_id) for a in await self._acquirers(info)]
        # Awaited in turn, not gathered (load_many): one batch either way, but a gather
        # resumes a step later than a single load, and that step orders the errors of
        # fields below against their cousins' (which schema/field_errors.py follows).
        found = [await p for p in pending]
        return [Organization.from_row(o) for o in found if o is not None]

    @strawberry.field(description="The acquirer that leads the deal.")
    async def lead_acquirer(self, info: strawberry.Info[Context, None]) -> Organization:
        lead = next(a for a in await self._acquirers(info) if a.is_lead)
        return await _organization(info, lead.organization_id)

    @strawberry.field(description="Every claim on the acquisition, oldest first.")
    async def claims(self, info: strawberry.Info[Context, None]) -> list[Claim]:
        found = await info.context.loaders.claims_by_acquisition.load(self.row.id)
        return [
            Claim.from_row(c) for c in found if self.as_of is None or c.recorded_at <= self.as_of
        ]

    @strawberry.field(description="Each change of its status or stage, oldest first.")
    async def history(self, info: strawberry.Info[Context, None]) -> list[StatusEvent]:
        found = await info.context.loaders.status_events_by_acquisition.load(self.row.id)
        return [
            StatusEvent.from_row(e)
            for e in found
            if self.as_of is None or e.recorded_at <= self.as_of
        ]

"""Rounds and the participations in them."""

import datetime
import uuid

import strawberry

from db import rows
from db.infra.ids import Kind, encode_id
from schema.context import Context
from schema.enums import DealStage, DealStatus, RoundType
from schema.money import FuzzyDate, MoneyEstimate
from schema.node import Investor, Node
from schema.organization import Organization, Person
from schema.provenance import Claim, StatusEvent


async def load_organization(
    info: strawberry.Info[Context, None], org_id: uuid.UUID
) -> Organization:
    org = await info.context.loaders.organization_by_id.load(org_id)
    assert org is not None  # a foreign key guarantees it
    return Organization.from_row(org)


async def load_person(info: strawberry.Info[Context, None], person_id: uuid.UUID) -> Person:
    person = await info.context.loaders.person_by_id.load(person_id)
    assert person is not None  # a foreign key guarantees it
    return Person.from_row(person)


@strawberry.type(description="One financing event of a company.")
class Round(Node):
    row: strawberry.Private[rows.Round]
    # Set on a read "as of" a past time: only what was recorded by then shows.
    as_of: strawberry.Private[datetime.datetime | None]
    id: strawberry.ID
    round_type: RoundType
    reported_label: str | None = strawberry.field(
        description='The wording of the source ("series-c+", "Série B").'
    )
    status: DealStatus
    stage: DealStage
    announced: FuzzyDate | None
    closed_on: datetime.date | None
    expected_close: FuzzyDate | None = strawberry.field(
        description="When the deal is expected to close, to the precision the source gives."
    )
    amount: MoneyEstimate | None
    target_amount: MoneyEstimate | None
    pre_money_valuation: MoneyEstimate | None
    post_money_valuation: MoneyEstimate | None

    @classmethod
    def from_row(cls, row: rows.Round, as_of: datetime.datetime | None = None) -> "Round":
        return cls(
            row=row,
            as_of=as_of,
            id=strawberry.ID(encode_id(Kind.ROUND, row.id)),
            round_type=RoundType(row.round_type),
            reported_label=row.reported_label,
            status=DealStatus(row.status),
            stage=DealStage(row.stage),
            announced=FuzzyDate.from_row(row.announced),
            closed_on=row.closed_on,
            expected_close=FuzzyDate.from_row(row.expected_close),
            amount=MoneyEstimate.from_row(row.amount),
            target_amount=MoneyEstimate.from_row(row.target_amount),
            pre_money_valuation=MoneyEstimate.from_row(row.pre_money_valuation),
            post_money_valuation=MoneyEstimate.from_row(row.post_money_valuation),
        )

    @strawberry.field(description="The announcement date (first day of its period).")
    def announced_on(self) -> datetime.date | None:
        return None if self.row.announced is None else self.row.announced.date

    @strawberry.field
    async def company(self, info: strawberry.Info[Context, None]) -> Organization:
        return await load_organization(info, self.row.company_id)

    @strawberry.field(description="Its investors, leads first.")
    async def participations(self, info: strawberry.Info[Context, None]) -> list["Participation"]:
        found = await info.context.loaders.participations_by_round.load((self.row.id, self.as_of))
        return [Participation.from_row(p, self.as_of) for p in found]

    @strawberry.field(description="Who negotiates the deal, and for whom.")
    async def negotiators(self, info: strawberry.Info[Context, None]) -> list["Negotiator"]:
        found = await info.context.loaders.negotiators_by_round.load(self.row.id)
        if self.as_of is not None:
            known = {c.id for c in await self._claims(info)}
            found = [n for n in found if n.claim_id is None or n.claim_id in known]
        return [Negotiator(row=n) for n in found]

    async def _claims(self, info: strawberry.Info[Context, None]) -> list[rows.Claim]:
        found = await info.context.loaders.claims_by_round.load(self.row.id)
        return [c for c in found if self.as_of is None or c.recorded_at <= self.as_of]

    @strawberry.field(description="Every claim on the round and its participations, oldest first.")
    async def claims(self, info: strawberry.Info[Context, None]) -> list[Claim]:
        return [Claim.from_row(c) for c in await self._claims(info)]

    @strawberry.field(description="Each change of the round's status or stage, oldest first.")
    async def history(self, info: strawberry.Info[Context, None]) -> list[StatusEvent]:
        found = await info.context.loaders.status_events_by_round.load(self.row.id)
        return [
            StatusEvent.from_row(e)
            for e in found
            if self.as_of is None or e.recorded_at <= self.as_of
        ]


@strawberry.type(description="An investor's part in a round, with its own status and stage.")
class Participation(Node):
    row: strawberry.Private[rows.Participation]
    as_of: strawberry.Private[datetime.datetime | None]
    id: strawberry.ID
    amount: MoneyEstimate | None
    is_lead: bool
    status: DealStatus
    stage: DealStage

    @classmethod
    def from_row(
        cls, row: rows.Participation, as_of: datetime.datetime | None = None
    ) -> "Participation":
        return cls(
            row=row,
            as_of=as_of,
            id=strawberry.ID(encode_id(Kind.PARTICIPATION, row.id)),
            amount=MoneyEstimate.from_row(row.amount),
            is_lead=row.is_lead,
            status=DealStatus(row.status),
            stage=DealStage(row.stage),
        )

    @strawberry.field
    async def investor(self, info: strawberry.Info[Context, None]) -> Investor:
        if self.row.investor_organization_id is not None:
            return await load_organization(info, self.row.investor_organization_id)
        assert self.row.investor_person_id is not None  # a check constraint guarantees it
        return await load_person(info, self.row.investor_person_id)

    @strawberry.field(name="round")
    async def round_(self, info: strawberry.Info[Context, None]) -> Round:
        found = await info.context.loaders.round_by_id.load(self.row.round_id)
        assert found is not None  # a foreign key guarantees it
        return Round.from_row(found)

    @strawberry.field(description="The claims about this participation, oldest first.")
    async def claims(self, info: strawberry.Info[Context, None]) -> list[Claim]:
        found = await info.context.loaders.claims_by_round.load(self.row.round_id)
        return [
            Claim.from_row(c)
            for c in found
            if c.participation_id == self.row.id
            and (self.as_of is None or c.recorded_at <= self.as_of)
        ]


@strawberry.type(description="A person said to negotiate a round, on behalf of an organization.")
class Negotiator:
    row: strawberry.Private[rows.Negotiator]

    @strawberry.field
    async def person(self, info: strawberry.Info[Context, None]) -> Person:
        return await load_person(info, self.row.person_id)

    @strawberry.field(name="onBehalfOf")
    async def on_behalf_of(self, info: strawberry.Info[Context, None]) -> Organization | None:
        if self.row.organization_id is None:
            return None
        return await load_organization(info, self.row.organization_id)

    @strawberry.field(description="The claim that names this negotiator.")
    async def claim(self, info: strawberry.Info[Context, None]) -> Claim | None:
        if self.row.claim_id is None:
            return None
        found = await info.context.loaders.claims_by_round.load(self.row.round_id)
        return next(Claim.from_row(c) for c in found if c.id == self.row.claim_id)

"""An organization's figures: its funding, its investments, and who invests with it."""

import decimal
import uuid

import strawberry

from db import summaries
from db.co_investors import CoInvestor, co_investors_scope
from db.infra.pagination import page_request
from schema.connection import PageInfo
from schema.context import Context
from schema.enums import DealStatus, RoundType
from schema.node import Investor
from schema.round import Participation, Round, load_organization, load_person


async def _round(info: strawberry.Info[Context, None], round_id: uuid.UUID | None) -> Round | None:
    if round_id is None:
        return None
    found = await info.context.loaders.round_by_id.load(round_id)
    return None if found is None else Round.from_row(found)


async def _participation(
    info: strawberry.Info[Context, None], participation_id: uuid.UUID | None
) -> Participation | None:
    if participation_id is None:
        return None
    found = await info.context.loaders.participation_by_id.load(participation_id)
    return None if found is None else Participation.from_row(found)


@strawberry.type(description="What an organization raised, over all its rounds.")
class FundingSummary:
    row: strawberry.Private[summaries.FundingSummary]
    rounds_count: int = strawberry.field(description="Rounds raised.")
    disclosed_count: int = strawberry.field(description="Of which with an amount in US dollars.")
    total_usd: decimal.Decimal = strawberry.field(
        description="The disclosed amounts added up, each as its `usd` (roundStats' rule: "
        "UP_TO its upper bound, AT_LEAST its lower bound, a RANGE its middle); 0 without any."
    )
    latest_status: DealStatus | None = strawberry.field(
        description="The status of the last round; null without rounds."
    )

    @strawberry.field(description="The first round announced (undated rounds come last).")
    async def first_round(self, info: strawberry.Info[Context, None]) -> Round | None:
        return await _round(info, self.row.first_round_id)

    @strawberry.field(description="The last round announced (undated rounds come last).")
    async def last_round(self, info: strawberry.Info[Context, None]) -> Round | None:
        return await _round(info, self.row.last_round_id)

    @classmethod
    def from_row(cls, row: summaries.FundingSummary) -> "FundingSummary":
        return cls(
            row=row,
            rounds_count=row.rounds,
            disclosed_count=row.disclosed,
            total_usd=row.total_usd,
            latest_status=None if row.latest_status is None else DealStatus(row.latest_status),
        )


@strawberry.type
class RoundTypeCount:
    round_type: RoundType
    count: int


@strawberry.type(description="What an investor put money in, over all its participations.")
class InvestmentSummary:
    row: strawberry.Private[summaries.InvestmentSummary]
    investments_count: int
    leads_count: int = strawberry.field(description="Of which as lead investor.")
    by_round_type: list[RoundTypeCount] = strawberry.field(
        description="Investments per round type, in the enum's order; types without any absent."
    )

    @strawberry.field(description="The investment in the first round announced.")
    async def first_investment(self, info: strawberry.Info[Context, None]) -> Participation | None:
        return await _participation(info, self.row.first_participation_id)

    @strawberry.field(description="The investment in the last round announced.")
    async def last_investment(self, info: strawberry.Info[Context, None]) -> Participation | None:
        return await _participation(info, self.row.last_participation_id)

    @classmethod
    def from_row(cls, row: summaries.InvestmentSummary) -> "InvestmentSummary":
        return cls(
            row=row,
            investments_count=row.investments,
            leads_count=row.leads,
            by_round_type=[
                RoundTypeCount(round_type=RoundType(t.round_type), count=t.count)
                for t in row.by_round_type
            ],
        )


@strawberry.type
class CoInvestorEdge:
    row: strawberry.Private[CoInvestor]
    cursor: str
    shared_rounds: int = strawberry.field(description="Rounds both invested in.")

    @strawberry.field
    async def node(self, info: strawberry.Info[Context, None]) -> Investor:
        if self.row.organization_id is not None:
            return await load_organization(info, self.row.organization_id)
        assert self.row.person_id is not None  # a check constraint guarantees it
        return await load_person(info, self.row.person_id)


@strawberry.type(description="Investors in the same rounds, most shared rounds first.")
class CoInvestorConnection:
    investor_id: strawberry.Private[uuid.UUID]
    edges: list[CoInvestorEdge]
    page_info: PageInfo

    @strawberry.field(description="How many co-investors there are, across all pages.")
    async def total_count(self, info: strawberry.Info[Context, None]) -> int:
        return await info.context.loaders.co_investors_count_by_investor.load(self.investor_id)


async def co_investors(
    info: strawberry.Info[Context, None],
    investor_id: uuid.UUID,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> CoInvestorConnection:
    request = page_request(
        co_investors_scope(investor_id), first=first, after=after, last=last, before=before
    )
    page = await info.context.loaders.co_investors_page_by_investor.load((investor_id, request))
    return CoInvestorConnection(
        investor_id=investor_id,
        edges=[
            CoInvestorEdge(row=item, cursor=cursor, shared_rounds=item.shared_rounds)
            for item, cursor in zip(page.items, page.cursors, strict=True)
        ],
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
    )

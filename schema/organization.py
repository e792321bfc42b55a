"""Organizations and people: who raises and who invests."""

import uuid
from typing import TYPE_CHECKING, Annotated

import strawberry

from db import rows
from db.acquisitions import acquirer_scope
from db.infra.ids import Kind, encode_id
from db.infra.pagination import page_request
from db.participations import investments_scope
from db.rounds import company_rounds_scope
from schema.connection import Connection
from schema.context import Context
from schema.enums import InvestorType
from schema.money import FuzzyDate
from schema.node import Investor, Node

if TYPE_CHECKING:
    from schema.acquisition import Acquisition
    from schema.round import Participation, Round
    from schema.summaries import CoInvestorConnection, FundingSummary, InvestmentSummary

AcquisitionRef = Annotated["Acquisition", strawberry.lazy("schema.acquisition")]
FundingSummaryRef = Annotated["FundingSummary", strawberry.lazy("schema.summaries")]
InvestmentSummaryRef = Annotated["InvestmentSummary", strawberry.lazy("schema.summaries")]
CoInvestorConnectionRef = Annotated["CoInvestorConnection", strawberry.lazy("schema.summaries")]

INVESTMENT_SUMMARY = "What it invested in: counts, leads, dates, round types."
CO_INVESTORS = (
    "Organizations and people that invested in the same rounds, most shared rounds first."
)
RoundRef = Annotated["Round", strawberry.lazy("schema.round")]
ParticipationRef = Annotated["Participation", strawberry.lazy("schema.round")]


@strawberry.type
class Organization(Node, Investor):
    row: strawberry.Private[rows.Organization]
    id: strawberry.ID
    slug: str
    name: str
    aliases: list[str]
    description: str | None
    website: str | None
    country_code: str | None = strawberry.field(description="ISO 3166-1 alpha-3.")
    city: str | None
    founded: FuzzyDate | None
    categories: list[str]
    investor_types: list[InvestorType]

    @classmethod
    def from_row(cls, row: rows.Organization) -> "Organization":
        return cls(
            row=row,
            id=strawberry.ID(encode_id(Kind.ORGANIZATION, row.id)),
            slug=row.slug,
            name=row.name,
            aliases=row.aliases,
            description=row.description,
            website=row.website,
            country_code=row.country_code,
            city=row.city,
            founded=FuzzyDate.from_row(row.founded),
            categories=row.categories,
            investor_types=[InvestorType(t) for t in row.investor_types],
        )

    @strawberry.field(description="The rounds it raised, the latest announced first.")
    async def rounds(
        self,
        info: strawberry.Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[RoundRef]:
        from schema.round import Round

        loaders = info.context.loaders
        request = page_request(
            company_rounds_scope(self.row.id), first=first, after=after, last=last, before=before
        )
        page = await loaders.rounds_page_by_company.load((self.row.id, request))
        return Connection.from_page(
            page, Round.from_row, lambda: loaders.rounds_count_by_company.load(self.row.id)
        )

    @strawberry.field(description="Its participations as an investor, the latest round first.")
    async def investments(
        self,
        info: strawberry.Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[ParticipationRef]:
        return await investments_connection(info, self.row.id, first, after, last, before)

    @strawberry.field(
        description="The acquisitions it makes (lead or not), the latest announced first."
    )
    async def acquisitions(
        self,
        info: strawberry.Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[AcquisitionRef]:
        from schema.acquisition import Acquisition

        loaders = info.context.loaders
        request = page_request(
            acquirer_scope(self.row.id), first=first, after=after, last=last, before=before
        )
        page = await loaders.acquisitions_page_by_acquirer.load((self.row.id, request))
        return Connection.from_page(
            page,
            Acquisition.from_row,
            lambda: loaders.acquisitions_count_by_acquirer.load(self.row.id),
        )

    @strawberry.field(description="The acquisitions of it, the latest announced first.")
    async def acquired_by(self, info: strawberry.Info[Context, None]) -> list[AcquisitionRef]:
        from schema.acquisition import Acquisition

        found = await info.context.loaders.acquisitions_by_target.load(self.row.id)
        return [Acquisition.from_row(a) for a in found]

    @strawberry.field(description="What it raised: its rounds' count, total and dates.")
    async def funding_summary(self, info: strawberry.Info[Context, None]) -> FundingSummaryRef:
        from schema.summaries import FundingSummary

        found = await info.context.loaders.funding_summary_by_company.load(self.row.id)
        return FundingSummary.from_row(found)

    @strawberry.field(description=INVESTMENT_SUMMARY)
    async def investment_summary(
        self, info: strawberry.Info[Context, None]
    ) -> InvestmentSummaryRef:
        return await investment_summary(info, self.row.id)

    @strawberry.field(description=CO_INVESTORS)
    async def co_investors(
        self,
        info: strawberry.Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> CoInvestorConnectionRef:
        from schema.summaries import co_investors

        return await co_investors(info, self.row.id, first, after, last, before)


async def investment_summary(
    info: strawberry.Info[Context, None], investor_id: uuid.UUID
) -> "InvestmentSummary":
    from schema.summaries import InvestmentSummary

    found = await info.context.loaders.investment_summary_by_investor.load(investor_id)
    return InvestmentSummary.from_row(found)


async def investments_connection(
    info: strawberry.Info[Context, None],
    investor_id: uuid.UUID,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> "Connection[Participation]":
    from schema.round import Participation

    loaders = info.context.loaders
    request = page_request(
        investments_scope(investor_id), first=first, after=after, last=last, before=before
    )
    page = await loaders.investments_page_by_investor.load((investor_id, request))
    return Connection.from_page(
        page,
        Participation.from_row,
        lambda: loaders.investments_count_by_investor.load(investor_id),
    )


@strawberry.type
class PersonRole:
    row: strawberry.Private[rows.PersonRole]
    title: str

    @strawberry.field
    async def organization(self, info: strawberry.Info[Context, None]) -> Organization:
        org = await info.context.loaders.organization_by_id.load(self.row.organization_id)
        assert org is not None  # a foreign key guarantees it
        return Organization.from_row(org)


@strawberry.type
class Person(Node, Investor):
    row: strawberry.Private[rows.Person]
    id: strawberry.ID
    slug: str
    name: str

    @classmethod
    def from_row(cls, row: rows.Person) -> "Person":
        return cls(
            row=row, id=strawberry.ID(encode_id(Kind.PERSON, row.id)), slug=row.slug, name=row.name
        )

    @strawberry.field(description="Positions held at organizations.")
    def roles(self) -> list[PersonRole]:
        return [PersonRole(row=role, title=role.title) for role in self.row.roles]

    @strawberry.field(description="Its participations as an investor, the latest round first.")
    async def investments(
        self,
        info: strawberry.Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[ParticipationRef]:
        return await investments_connection(info, self.row.id, first, after, last, before)

    @strawberry.field(description=INVESTMENT_SUMMARY)
    async def investment_summary(
        self, info: strawberry.Info[Context, None]
    ) -> InvestmentSummaryRef:
        return await investment_summary(info, self.row.id)

    @strawberry.field(description=CO_INVESTORS)
    async def co_investors(
        self,
        info: strawberry.Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> CoInvestorConnectionRef:
        from schema.summaries import co_investors

        return await co_investors(info, self.row.id, first, after, last, before)

"""Where facts come from: sources, the claims they make, and the status history."""

import datetime
import decimal
import uuid
from typing import TYPE_CHECKING, Annotated

import strawberry

from db import rows
from db.infra.ids import Kind, encode_id
from schema.context import Context
from schema.enums import AcquisitionTerms, DealStage, DealStatus, SourceKind
from schema.money import FuzzyDate, MoneyEstimate
from schema.node import Node

if TYPE_CHECKING:
    from schema.round import Participation


@strawberry.type(description="A document that says something about a deal.")
class Source(Node):
    id: strawberry.ID
    url: str | None
    publisher: str
    title: str | None
    published_at: datetime.datetime | None
    kind: SourceKind
    language: str | None = strawberry.field(description="BCP 47 language tag, e.g. fr.")

    @classmethod
    def from_row(cls, row: rows.Source) -> "Source":
        return cls(
            id=strawberry.ID(encode_id(Kind.SOURCE, row.id)),
            url=row.url,
            publisher=row.publisher,
            title=row.title,
            published_at=row.published_at,
            kind=SourceKind(row.kind),
            language=row.language,
        )


async def load_source(info: strawberry.Info[Context, None], source_id: uuid.UUID) -> Source:
    source = await info.context.loaders.source_by_id.load(source_id)
    assert source is not None  # a foreign key guarantees it
    return Source.from_row(source)


@strawberry.type(
    description="What one source says about a round, one participation in it, or an "
    "acquisition (whose price is its amount). A null field means the source says nothing "
    "about it."
)
class Claim(Node):
    row: strawberry.Private[rows.Claim]
    id: strawberry.ID
    quote: str | None = strawberry.field(description="The passage, in the source's language.")
    attribution: str | None = strawberry.field(
        description='Whom the source credits ("according to the WSJ").'
    )
    recorded_at: datetime.datetime
    status: DealStatus | None
    stage: DealStage | None
    amount: MoneyEstimate | None
    pre_money_valuation: MoneyEstimate | None
    post_money_valuation: MoneyEstimate | None
    expected_close: FuzzyDate | None
    announced: FuzzyDate | None
    is_lead: bool | None
    usd_rate: decimal.Decimal | None = strawberry.field(
        description="US dollars for one unit of the claim's currency, as used for `usd`."
    )
    usd_rate_date: datetime.date | None = strawberry.field(
        description="The date of that European Central Bank reference rate."
    )
    closed_on: datetime.date | None = strawberry.field(
        description="When the acquisition closed, by this source."
    )
    terms: AcquisitionTerms | None
    percent_acquired: decimal.Decimal | None

    @classmethod
    def from_row(cls, row: rows.Claim) -> "Claim":
        return cls(
            row=row,
            id=strawberry.ID(encode_id(Kind.CLAIM, row.id)),
            quote=row.quote,
            attribution=row.attribution,
            recorded_at=row.recorded_at,
            status=None if row.status is None else DealStatus(row.status),
            stage=None if row.stage is None else DealStage(row.stage),
            amount=MoneyEstimate.from_row(row.amount),
            pre_money_valuation=MoneyEstimate.from_row(row.pre_money_valuation),
            post_money_valuation=MoneyEstimate.from_row(row.post_money_valuation),
            expected_close=FuzzyDate.from_row(row.expected_close),
            announced=FuzzyDate.from_row(row.announced),
            is_lead=row.is_lead,
            usd_rate=row.usd_rate,
            usd_rate_date=row.usd_rate_date,
            closed_on=row.closed_on,
            terms=None if row.terms is None else AcquisitionTerms(row.terms),
            percent_acquired=row.percent_acquired,
        )

    @strawberry.field
    async def source(self, info: strawberry.Info[Context, None]) -> Source:
        return await load_source(info, self.row.source_id)

    @strawberry.field(description="The participation it is about; null for the round as a whole.")
    async def participation(
        self, info: strawberry.Info[Context, None]
    ) -> Annotated["Participation", strawberry.lazy("schema.round")] | None:
        from schema.round import Participation

        if self.row.participation_id is None:
            return None
        assert self.row.round_id is not None  # a participation's claims are a round's
        siblings = await info.context.loaders.participations_by_round.load(
            (self.row.round_id, None)
        )
        return next(
            Participation.from_row(p) for p in siblings if p.id == self.row.participation_id
        )


@strawberry.type(description="A change of status or stage, and the source that brought it.")
class StatusEvent:
    row: strawberry.Private[rows.StatusEvent]
    at: datetime.datetime
    status: DealStatus
    stage: DealStage

    @classmethod
    def from_row(cls, row: rows.StatusEvent) -> "StatusEvent":
        return cls(row=row, at=row.at, status=DealStatus(row.status), stage=DealStage(row.stage))

    @strawberry.field
    async def source(self, info: strawberry.Info[Context, None]) -> Source | None:
        if self.row.source_id is None:
            return None
        return await load_source(info, self.row.source_id)

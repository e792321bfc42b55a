"""roundStats: counts and US-dollar amounts of rounds, in buckets a chart draws."""

import datetime
import decimal
from dataclasses import replace
from enum import Enum

import strawberry

from db import rows
from db import stats as db_stats
from schema.context import Context
from schema.enums import DealStage, DealStatus, RoundType
from schema.filters import RoundFilter
from schema.money import FuzzyDate
from schema.node import Investor
from schema.round import load_organization, load_person


@strawberry.enum(description="What roundStats groups rounds by.")
class RoundDimension(Enum):
    PERIOD = "PERIOD"
    ROUND_TYPE = "ROUND_TYPE"
    STATUS = "STATUS"
    STAGE = "STAGE"
    COUNTRY = "COUNTRY"
    INVESTOR = "INVESTOR"


@strawberry.enum(description="The length of a PERIOD bucket, by the announcement date.")
class Period(Enum):
    MONTH = "MONTH"
    QUARTER = "QUARTER"
    YEAR = "YEAR"


@strawberry.type(
    description="What a bucket's rounds are, by the dimensions grouped by; the others are "
    "null. A grouped part is null too where it is unknown: undated rounds (period), "
    "companies without a country, rounds without a known investor."
)
class RoundStatsKey:
    bucket: strawberry.Private[db_stats.RoundStatsBucket]
    period: FuzzyDate | None
    round_type: RoundType | None
    status: DealStatus | None
    stage: DealStage | None
    country_code: str | None = strawberry.field(description="The company's, ISO 3166-1 alpha-3.")

    @strawberry.field(description="An investor in each of the bucket's rounds.")
    async def investor(self, info: strawberry.Info[Context, None]) -> Investor | None:
        if self.bucket.investor_organization_id is not None:
            return await load_organization(info, self.bucket.investor_organization_id)
        if self.bucket.investor_person_id is not None:
            return await load_person(info, self.bucket.investor_person_id)
        return None


@strawberry.type(
    description="Over the disclosed amounts, each as its `usd`: an EXACT or ABOUT figure as "
    "it is, UP_TO its upper bound, AT_LEAST its lower bound, a RANGE its middle. Percentiles "
    "interpolate between the two nearest amounts; all are null without a disclosed amount."
)
class AmountStats:
    sum: decimal.Decimal = strawberry.field(description="0 without a disclosed amount.")
    median: decimal.Decimal | None
    p25: decimal.Decimal | None
    p75: decimal.Decimal | None
    min: decimal.Decimal | None
    max: decimal.Decimal | None


@strawberry.type(
    description="Of the disclosed amounts, how many were not exact figures, by qualifier "
    "(the rest are EXACT)."
)
class BoundedCount:
    up_to: int = strawberry.field(description="Upper bounds: entered as their high.")
    at_least: int = strawberry.field(description="Lower bounds: entered as their low.")
    range: int = strawberry.field(description="Ranges: entered as their middle.")
    about: int = strawberry.field(description="Approximate figures: entered as given.")


@strawberry.type(description="One bar of a chart: the rounds sharing a key.")
class RoundStatsBucket:
    key: RoundStatsKey
    count: int = strawberry.field(
        description="Rounds (grouped by INVESTOR, a round counts for each of its investors)."
    )
    disclosed_count: int = strawberry.field(description="Rounds with an amount in US dollars.")
    amount_usd: AmountStats
    bounded_count: BoundedCount

    @classmethod
    def from_row(cls, b: db_stats.RoundStatsBucket, period: Period) -> "RoundStatsBucket":
        return cls(
            key=RoundStatsKey(
                bucket=b,
                period=None
                if b.period is None
                else FuzzyDate.from_row(rows.FuzzyDate(b.period, period.value)),
                round_type=None if b.round_type is None else RoundType(b.round_type),
                status=None if b.status is None else DealStatus(b.status),
                stage=None if b.stage is None else DealStage(b.stage),
                country_code=b.country_code,
            ),
            count=b.count,
            disclosed_count=b.disclosed_count,
            amount_usd=AmountStats(
                sum=b.sum_usd,
                median=b.median_usd,
                p25=b.p25_usd,
                p75=b.p75_usd,
                min=b.min_usd,
                max=b.max_usd,
            ),
            bounded_count=BoundedCount(
                up_to=b.up_to_count,
                at_least=b.at_least_count,
                range=b.range_count,
                about=b.about_count,
            ),
        )


async def round_stats(
    info: strawberry.Info[Context, None],
    filter: RoundFilter | None,
    group_by: list[RoundDimension],
    period: Period,
    as_of: datetime.datetime | None,
) -> list[RoundStatsBucket]:
    db_filter = replace(await (filter or RoundFilter()).to_db(info.context), as_of=as_of)
    buckets = await db_stats.round_stats(
        info.context.pool,
        filter=db_filter,
        group_by=[d.value for d in group_by],
        period=period.value,
        group_by_field="groupBy",
    )
    return [RoundStatsBucket.from_row(b, period) for b in buckets]

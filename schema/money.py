"""Money and fuzzy dates as GraphQL values."""

import datetime
import decimal

import strawberry

from db import rows
from schema.enums import AmountQualifier, DatePrecision


@strawberry.type
class Money:
    amount: decimal.Decimal
    currency: str = strawberry.field(description="ISO 4217 code, as reported.")


@strawberry.type(
    description="An amount as reported: EXACT and ABOUT fill low and high with the same "
    "money, UP_TO only high, AT_LEAST only low, RANGE both. An undisclosed amount is null."
)
class MoneyEstimate:
    qualifier: AmountQualifier
    low: Money | None
    high: Money | None
    usd: decimal.Decimal | None = strawberry.field(
        description="The value in US dollars used to sort and filter."
    )

    @classmethod
    def from_row(cls, row: rows.MoneyEstimate | None) -> "MoneyEstimate | None":
        if row is None:
            return None

        def money(amount: decimal.Decimal | None) -> Money | None:
            return None if amount is None else Money(amount=amount, currency=row.currency)

        return cls(
            qualifier=AmountQualifier(row.qualifier),
            low=money(row.low),
            high=money(row.high),
            usd=row.usd,
        )


@strawberry.type(description="A date known to a day, month, quarter or year.")
class FuzzyDate:
    date: datetime.date = strawberry.field(description="The first day of the period.")
    precision: DatePrecision

    text: str = strawberry.field(
        description='The period as people write it: "2026-Q1", "2026-03", "2026".'
    )

    @classmethod
    def from_row(cls, row: rows.FuzzyDate | None) -> "FuzzyDate | None":
        if row is None:
            return None
        return cls(date=row.date, precision=DatePrecision(row.precision), text=row.text)

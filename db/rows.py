"""Row types: what the query functions return, independent of GraphQL and REST."""

import datetime
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from db.infra.types import Record


def plain_decimal(value: Decimal | None) -> Decimal | None:
    """The same number written without an exponent: asyncpg decodes 100000000000 as 1.000E+11."""
    return None if value is None else Decimal(format(value, "f"))


@dataclass(frozen=True, slots=True)
class MoneyEstimate:
    qualifier: str
    currency: str
    low: Decimal | None
    high: Decimal | None
    usd: Decimal | None

    @classmethod
    def from_db(cls, value: Any) -> "MoneyEstimate | None":
        if value is None:
            return None
        return cls(
            value["qualifier"],
            value["currency"],
            plain_decimal(value["low"]),
            plain_decimal(value["high"]),
            plain_decimal(value["usd"]),
        )

    def to_db(self) -> tuple[str, str, Decimal | None, Decimal | None, Decimal | None]:
        return (self.qualifier, self.currency, self.low, self.high, self.usd)


@dataclass(frozen=True, slots=True)
class FuzzyDate:
    """A date known to a given precision, stored as the first day of its period."""

    date: datetime.date
    precision: str

    @property
    def text(self) -> str:
        """The period as people write it: "2026-Q1", "2026-03", "2026", "2026-03-04"."""
        d = self.date
        match self.precision:
            case "YEAR":
                return f"{d.year}"
            case "QUARTER":
                return f"{d.year}-Q{(d.month - 1) // 3 + 1}"
            case "MONTH":
                return f"{d.year}-{d.month:02d}"
            case _:
                return d.isoformat()

    @classmethod
    def from_db(cls, date: datetime.date | None, precision: str | None) -> "FuzzyDate | None":
        if date is None or precision is None:
            return None
        return cls(date, precision)


@dataclass(frozen=True, slots=True)
class Organization:
    id: uuid.UUID
    slug: str
    name: str
    description: str | None
    website: str | None
    country_code: str | None
    city: str | None
    founded: FuzzyDate | None
    categories: list[str]
    investor_types: list[str]
    aliases: list[str]

    @classmethod
    def from_record(cls, r: Record) -> "Organization":
        return cls(
            id=r["id"],
            slug=r["slug"],
            name=r["name"],
            description=r["description"],
            website=r["website"],
            country_code=r["country_code"],
            city=r["city"],
            founded=FuzzyDate.from_db(r["founded_on"], r["founded_precision"]),
            categories=list(r["categories"]),
            investor_types=list(r["investor_types"]),
            aliases=list(r["aliases"]),
        )


@dataclass(frozen=True, slots=True)
class PersonRole:
    organization_id: uuid.UUID
    title: str


@dataclass(frozen=True, slots=True)
class Person:
    id: uuid.UUID
    slug: str
    name: str
    roles: list[PersonRole]

    @classmethod
    def from_record(cls, r: Record) -> "Person":
        roles = [PersonRole(organization_id, title) for organization_id, title in r["roles"]]
        return cls(id=r["id"], slug=r["slug"], name=r["name"], roles=roles)


@dataclass(frozen=True, slots=True)
class Round:
    id: uuid.UUID
    company_id: uuid.UUID
    round_type: str
    reported_label: str | None
    status: str
    stage: str
    announced: FuzzyDate | None
    closed_on: datetime.date | None
    expected_close: FuzzyDate | None
    amount: MoneyEstimate | None
    target_amount: MoneyEstimate | None
    pre_money_valuation: MoneyEstimate | None
    post_money_valuation: MoneyEstimate | None

    @classmethod
    def from_record(cls, r: Record) -> "Round":
        return cls(
            id=r["id"],
            company_id=r["company_id"],
            round_type=r["round_type"],
            reported_label=r["reported_label"],
            status=r["status"],
            stage=r["stage"],
            announced=FuzzyDate.from_db(r["announced_on"], r["announced_precision"]),
            closed_on=r["closed_on"],
            expected_close=FuzzyDate.from_db(r["expected_close_on"], r["expected_close_precision"]),
            amount=MoneyEstimate.from_db(r["amount"]),
            target_amount=MoneyEstimate.from_db(r["target_amount"]),
            pre_money_valuation=MoneyEstimate.from_db(r["pre_money_valuation"]),
            post_money_valuation=MoneyEstimate.from_db(r["post_money_valuation"]),
        )


@dataclass(frozen=True, slots=True)
class Participation:
    id: uuid.UUID
    round_id: uuid.UUID
    investor_organization_id: uuid.UUID | None
    investor_person_id: uuid.UUID | None
    amount: MoneyEstimate | None
    is_lead: bool
    status: str
    stage: str

    @classmethod
    def from_record(cls, r: Record) -> "Participation":
        return cls(
            id=r["id"],
            round_id=r["round_id"],
            investor_organization_id=r["investor_organization_id"],
            investor_person_id=r["investor_person_id"],
            amount=MoneyEstimate.from_db(r["amount"]),
            is_lead=r["is_lead"],
            status=r["status"],
            stage=r["stage"],
        )


@dataclass(frozen=True, slots=True)
class Source:
    id: uuid.UUID
    url: str | None
    publisher: str
    title: str | None
    language: str | None
    published_at: datetime.datetime | None
    kind: str

    @classmethod
    def from_record(cls, r: Record) -> "Source":
        return cls(
            id=r["id"],
            url=r["url"],
            publisher=r["publisher"],
            title=r["title"],
            language=r["language"],
            published_at=r["published_at"],
            kind=r["kind"],
        )


@dataclass(frozen=True, slots=True)
class Claim:
    id: uuid.UUID
    source_id: uuid.UUID
    # A claim is about a round (or one participation in it) or about an acquisition.
    round_id: uuid.UUID | None
    acquisition_id: uuid.UUID | None
    participation_id: uuid.UUID | None
    quote: str | None
    attribution: str | None
    status: str | None
    stage: str | None
    amount: MoneyEstimate | None
    pre_money_valuation: MoneyEstimate | None
    post_money_valuation: MoneyEstimate | None
    expected_close: FuzzyDate | None
    announced: FuzzyDate | None
    is_lead: bool | None
    usd_rate: Decimal | None
    usd_rate_date: datetime.date | None
    recorded_at: datetime.datetime
    closed_on: datetime.date | None
    terms: str | None
    percent_acquired: Decimal | None

    @classmethod
    def from_record(cls, r: Record) -> "Claim":
        return cls(
            id=r["id"],
            source_id=r["source_id"],
            round_id=r["round_id"],
            acquisition_id=r["acquisition_id"],
            participation_id=r["participation_id"],
            quote=r["quote"],
            attribution=r["attribution"],
            status=r["status"],
            stage=r["stage"],
            amount=MoneyEstimate.from_db(r["amount"]),
            pre_money_valuation=MoneyEstimate.from_db(r["pre_money_valuation"]),
            post_money_valuation=MoneyEstimate.from_db(r["post_money_valuation"]),
            expected_close=FuzzyDate.from_db(r["expected_close_on"], r["expected_close_precision"]),
            announced=FuzzyDate.from_db(r["announced_on"], r["announced_precision"]),
            is_lead=r["is_lead"],
            usd_rate=r["usd_rate"],
            usd_rate_date=r["usd_rate_date"],
            recorded_at=r["recorded_at"],
            closed_on=r["closed_on"],
            terms=r["terms"],
            percent_acquired=plain_decimal(r["percent_acquired"]),
        )


@dataclass(frozen=True, slots=True)
class Negotiator:
    round_id: uuid.UUID
    person_id: uuid.UUID
    organization_id: uuid.UUID | None
    claim_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class StatusEvent:
    id: uuid.UUID
    round_id: uuid.UUID | None
    acquisition_id: uuid.UUID | None
    participation_id: uuid.UUID | None
    at: datetime.datetime
    status: str
    stage: str
    source_id: uuid.UUID | None
    recorded_at: datetime.datetime

    @classmethod
    def from_record(cls, r: Record) -> "StatusEvent":
        return cls(
            id=r["id"],
            round_id=r["round_id"],
            acquisition_id=r["acquisition_id"],
            participation_id=r["participation_id"],
            at=r["at"],
            status=r["status"],
            stage=r["stage"],
            source_id=r["source_id"],
            recorded_at=r["recorded_at"],
        )


@dataclass(frozen=True, slots=True)
class Acquisition:
    id: uuid.UUID
    target_id: uuid.UUID
    status: str
    stage: str
    announced: FuzzyDate | None
    closed_on: datetime.date | None
    price: MoneyEstimate | None
    terms: str | None
    percent_acquired: Decimal | None

    @classmethod
    def from_record(cls, r: Record) -> "Acquisition":
        return cls(
            id=r["id"],
            target_id=r["target_id"],
            status=r["status"],
            stage=r["stage"],
            announced=FuzzyDate.from_db(r["announced_on"], r["announced_precision"]),
            closed_on=r["closed_on"],
            price=MoneyEstimate.from_db(r["price"]),
            terms=r["terms"],
            percent_acquired=plain_decimal(r["percent_acquired"]),
        )


@dataclass(frozen=True, slots=True)
class Acquirer:
    acquisition_id: uuid.UUID
    organization_id: uuid.UUID
    is_lead: bool
    added_at: datetime.datetime

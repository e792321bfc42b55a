"""Filter and order inputs, and their translation into db filters."""

import datetime
import decimal
import re
import uuid

import strawberry

from db.acquisitions import AcquisitionFilter as DbAcquisitionFilter
from db.acquisitions import AcquisitionOrder as DbAcquisitionOrder
from db.infra.errors import BadInput, NotFound
from db.infra.ids import Kind
from db.organizations import OrganizationFilter as DbOrganizationFilter
from db.rounds import RoundFilter as DbRoundFilter
from db.rounds import RoundOrder as DbRoundOrder
from schema.context import Context
from schema.enums import (
    AcquisitionOrderField,
    DealStage,
    DealStatus,
    InvestorType,
    OrderDirection,
    OrganizationRole,
    RoundOrderField,
    RoundType,
)
from schema.ids import any_id_argument, id_argument

MAX_SEARCH_LENGTH = 200
# As REST's min_amount_usd (20 digits): asyncpg cannot send a decimal with a huge exponent
# (1e1000000), and PostgreSQL's numeric has no negative amounts to find.
MAX_MIN_AMOUNT = decimal.Decimal(10) ** 20


@strawberry.input
class RoundFilter:
    status: list[DealStatus] | None = None
    stage: list[DealStage] | None = None
    round_type: list[RoundType] | None = None
    company_id: strawberry.ID | None = None
    investor_id: strawberry.ID | None = strawberry.field(
        default=None, description="An organization's or a person's id."
    )
    announced_from: datetime.date | None = None
    announced_to: datetime.date | None = None
    min_amount_usd: decimal.Decimal | None = None

    async def to_db(self, context: Context) -> DbRoundFilter:
        company_id = investor_id = None
        if self.company_id is not None:
            company_id = id_argument(Kind.ORGANIZATION, self.company_id, "filter.companyId")
            if await context.loaders.organization_by_id.load(company_id) is None:
                raise NotFound(
                    f"filter.companyId: no organization has the id {self.company_id!r}",
                    field="filter.companyId",
                )
        if self.investor_id is not None:
            investor_id = await _investor_id(context, self.investor_id)
        if self.min_amount_usd is not None and not 0 <= self.min_amount_usd < MAX_MIN_AMOUNT:
            raise BadInput(
                "filter.minAmountUsd: must be at least 0 and below 10^20",
                field="filter.minAmountUsd",
            )
        if (
            self.announced_from is not None
            and self.announced_to is not None
            and self.announced_from > self.announced_to
        ):
            raise BadInput(
                "filter.announcedFrom is after filter.announcedTo", field="filter.announcedFrom"
            )

        def names(
            values: list[DealStatus] | list[DealStage] | list[RoundType] | None,
        ) -> list[str] | None:
            return None if values is None else [v.value for v in values]

        return DbRoundFilter(
            statuses=names(self.status),
            stages=names(self.stage),
            round_types=names(self.round_type),
            company_id=company_id,
            investor_id=investor_id,
            announced_from=self.announced_from,
            announced_to=self.announced_to,
            min_amount_usd=self.min_amount_usd,
        )


@strawberry.input
class RoundOrder:
    field: RoundOrderField
    direction: OrderDirection

    def to_db(self) -> DbRoundOrder:
        return DbRoundOrder(field=self.field.value, direction=self.direction.value)


async def _organization_id(context: Context, public_id: str, field: str) -> uuid.UUID:
    value = id_argument(Kind.ORGANIZATION, public_id, field)
    if await context.loaders.organization_by_id.load(value) is None:
        raise NotFound(f"{field}: no organization has the id {public_id!r}", field=field)
    return value


def _check_dates(announced_from: datetime.date | None, announced_to: datetime.date | None) -> None:
    if announced_from is not None and announced_to is not None and announced_from > announced_to:
        raise BadInput(
            "filter.announcedFrom is after filter.announcedTo", field="filter.announcedFrom"
        )


@strawberry.input
class AcquisitionFilter:
    status: list[DealStatus] | None = None
    stage: list[DealStage] | None = None
    acquirer_id: strawberry.ID | None = strawberry.field(
        default=None, description="An acquirer, lead or not."
    )
    target_id: strawberry.ID | None = None
    announced_from: datetime.date | None = None
    announced_to: datetime.date | None = None
    min_price_usd: decimal.Decimal | None = None

    async def to_db(self, context: Context) -> DbAcquisitionFilter:
        acquirer_id = target_id = None
        if self.acquirer_id is not None:
            acquirer_id = await _organization_id(context, self.acquirer_id, "filter.acquirerId")
        if self.target_id is not None:
            target_id = await _organization_id(context, self.target_id, "filter.targetId")
        if self.min_price_usd is not None and not 0 <= self.min_price_usd < MAX_MIN_AMOUNT:
            raise BadInput(
                "filter.minPriceUsd: must be at least 0 and below 10^20",
                field="filter.minPriceUsd",
            )
        _check_dates(self.announced_from, self.announced_to)
        return DbAcquisitionFilter(
            statuses=None if self.status is None else [s.value for s in self.status],
            stages=None if self.stage is None else [s.value for s in self.stage],
            acquirer_id=acquirer_id,
            target_id=target_id,
            announced_from=self.announced_from,
            announced_to=self.announced_to,
            min_price_usd=self.min_price_usd,
        )


@strawberry.input
class AcquisitionOrder:
    field: AcquisitionOrderField
    direction: OrderDirection

    def to_db(self) -> DbAcquisitionOrder:
        return DbAcquisitionOrder(field=self.field.value, direction=self.direction.value)


async def _investor_id(context: Context, public_id: str) -> uuid.UUID:
    field = "filter.investorId"
    kind, value = any_id_argument(public_id, field)
    if kind is Kind.ORGANIZATION:
        found = await context.loaders.organization_by_id.load(value) is not None
    elif kind is Kind.PERSON:
        found = await context.loaders.person_by_id.load(value) is not None
    else:
        raise BadInput(
            f"{field}: {public_id!r} is not an organization's or person's id", field=field
        )
    if not found:
        raise NotFound(f"{field}: no investor has the id {public_id!r}", field=field)
    return value


@strawberry.input
class OrganizationFilter:
    search: str | None = strawberry.field(
        default=None,
        description=(
            "Names and aliases that are, start with, or have words starting with what is"
            ' typed, or are one typo from it ("sequ", "face book", "facebok"); the best'
            " match first, then the most prominent (rounds raised plus investments made)."
        ),
    )
    country_code: str | None = strawberry.field(default=None, description="ISO 3166-1 alpha-3.")
    investor_type: list[InvestorType] | None = None
    role: OrganizationRole | None = None

    def to_db(self) -> DbOrganizationFilter:
        search = None if self.search is None else " ".join(self.search.split())
        if search is not None and not 1 <= len(search) <= MAX_SEARCH_LENGTH:
            raise BadInput(
                f"filter.search must have 1 to {MAX_SEARCH_LENGTH} characters",
                field="filter.search",
            )
        if self.country_code is not None and not re.fullmatch(r"[A-Z]{3}", self.country_code):
            raise BadInput(
                f"filter.countryCode: {self.country_code!r} is not an ISO 3166-1 alpha-3 code"
                ' such as "USA"',
                field="filter.countryCode",
            )
        return DbOrganizationFilter(
            search=search,
            country_code=self.country_code,
            investor_types=None
            if self.investor_type is None
            else [t.value for t in self.investor_type],
            role=None if self.role is None else self.role.value,
        )

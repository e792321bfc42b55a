"""Mutations: report a round, confirm or deny one. Expected failures are userErrors."""

import datetime
import decimal
import uuid
from collections.abc import Awaitable, Callable

import strawberry

from db.access.principal import Scope
from db.infra.errors import BadInput, DealgraphError
from db.infra.ids import Kind
from db.infra.types import Connection
from db.reports import (
    EntityRef,
    EstimateInput,
    MoneyInput,
    ParticipationInput,
    RoundReport,
    SourceInput,
    StatusStatement,
    WriteError,
    WriteResult,
    report_round,
    state_status,
)
from db.rounds import list_rounds_by_ids
from schema.context import Context
from schema.enums import AmountQualifier, DealStage, RoundType, SourceKind
from schema.ids import id_argument
from schema.round import Round


class Forbidden(DealgraphError):
    code = "FORBIDDEN"


@strawberry.input(description="slug: an existing one; name: matched, or created.")
class EntityRefInput:
    slug: str | None = None
    name: str | None = None

    def to_db(self) -> EntityRef:
        return EntityRef(slug=self.slug, name=self.name)


@strawberry.input(name="MoneyInput")
class MoneyInputGQL:
    amount: decimal.Decimal
    currency: str = strawberry.field(description="ISO 4217, e.g. USD, EUR.")


@strawberry.input(name="MoneyEstimateInput")
class MoneyEstimateInput:
    qualifier: AmountQualifier
    low: MoneyInputGQL | None = None
    high: MoneyInputGQL | None = None

    def to_db(self) -> EstimateInput:
        def money(m: MoneyInputGQL | None) -> MoneyInput | None:
            return None if m is None else MoneyInput(amount=m.amount, currency=m.currency)

        return EstimateInput(self.qualifier.value, money(self.low), money(self.high))


@strawberry.input(name="SourceInput")
class SourceInputGQL:
    publisher: str
    published_at: datetime.datetime
    kind: SourceKind
    url: str | None = None
    title: str | None = None
    language: str | None = None

    def to_db(self) -> SourceInput:
        return SourceInput(
            publisher=self.publisher,
            published_at=self.published_at,
            kind=self.kind.value,
            url=self.url,
            title=self.title,
            language=self.language,
        )


@strawberry.input(name="ParticipationInput")
class ParticipationInputGQL:
    investor: EntityRefInput
    amount: MoneyEstimateInput | None = None
    is_lead: bool | None = None


@strawberry.input
class RoundReportInput:
    company: EntityRefInput
    round_type: RoundType
    stage: DealStage
    source: SourceInputGQL
    reported_label: str | None = None
    announced_on: datetime.date | None = None
    amount: MoneyEstimateInput | None = None
    post_money_valuation: MoneyEstimateInput | None = None
    participations: list[ParticipationInputGQL] | None = None
    quote: str | None = None

    def to_db(self) -> RoundReport:
        return RoundReport(
            company=self.company.to_db(),
            round_type=self.round_type.value,
            stage=self.stage.value,
            source=self.source.to_db(),
            reported_label=self.reported_label,
            announced_on=self.announced_on,
            amount=None if self.amount is None else self.amount.to_db(),
            post_money_valuation=None
            if self.post_money_valuation is None
            else self.post_money_valuation.to_db(),
            participations=tuple(
                ParticipationInput(
                    investor=p.investor.to_db(),
                    amount=None if p.amount is None else p.amount.to_db(),
                    is_lead=p.is_lead,
                )
                for p in self.participations or ()
            ),
            quote=self.quote,
        )


@strawberry.input
class RoundStatusInput:
    round_id: strawberry.ID
    source: SourceInputGQL
    quote: str | None = None
    investor: EntityRefInput | None = strawberry.field(
        default=None, description="Given, the statement is about this investor's part only."
    )
    amount: MoneyEstimateInput | None = strawberry.field(
        default=None, description="The amount the statement gives, if any."
    )

    def to_db(self) -> StatusStatement:
        return StatusStatement(
            round_id=id_argument(Kind.ROUND, self.round_id, "input.roundId"),
            source=self.source.to_db(),
            quote=self.quote,
            investor=None if self.investor is None else self.investor.to_db(),
            amount=None if self.amount is None else self.amount.to_db(),
        )


@strawberry.type
class UserError:
    message: str
    field: list[str] | None
    code: str


@strawberry.type
class RoundPayload:
    round: Round | None
    user_errors: list[UserError]


_Operation = Callable[[Connection, uuid.UUID], Awaitable[WriteResult]]


def user_errors(e: BadInput) -> list[UserError]:
    """An expected failure as the payload's userErrors, its field under `input`."""
    path = e.path if isinstance(e, WriteError) else (e.field or "").split(".")
    field = [part for part in path if part]
    if field and field[0] != "input":
        field = ["input", *field]
    return [UserError(message=e.message, field=field or None, code=e.code)]


def check_may_write(info: strawberry.Info[Context, None]) -> uuid.UUID:
    """The id of the key behind a mutation, which must have the write scope."""
    principal = info.context.principal
    if principal is None or not principal.may(Scope.WRITE):
        raise Forbidden("this key may not write: it needs the write scope")
    return principal.key_id


async def _run(
    info: strawberry.Info[Context, None], prepare: Callable[[], _Operation]
) -> RoundPayload:
    key_id = check_may_write(info)
    try:
        operation = prepare()
        async with info.context.pool.acquire() as conn, conn.transaction():
            result = await operation(conn, key_id)
            [found] = await list_rounds_by_ids(conn, [result.round_id])
    except BadInput as e:
        return RoundPayload(round=None, user_errors=user_errors(e))
    assert found is not None  # written in this very transaction
    return RoundPayload(round=Round.from_row(found), user_errors=[])


@strawberry.type
class Mutation:
    @strawberry.mutation(description="A new round, or a new claim on the round it matches.")
    async def round_report(
        self, info: strawberry.Info[Context, None], input: RoundReportInput
    ) -> RoundPayload:
        def prepare() -> _Operation:
            report = input.to_db()
            return lambda conn, key: report_round(conn, report, api_key_id=key)

        return await _run(info, prepare)

    @strawberry.mutation(description="A party confirms a round, or one investor's part in it.")
    async def round_confirm(
        self, info: strawberry.Info[Context, None], input: RoundStatusInput
    ) -> RoundPayload:
        def prepare() -> _Operation:
            statement = input.to_db()
            return lambda conn, key: state_status(conn, statement, "CONFIRMED", api_key_id=key)

        return await _run(info, prepare)

    @strawberry.mutation(description="A party denies a round, or one investor's part in it.")
    async def round_deny(
        self, info: strawberry.Info[Context, None], input: RoundStatusInput
    ) -> RoundPayload:
        def prepare() -> _Operation:
            statement = input.to_db()
            return lambda conn, key: state_status(conn, statement, "DENIED", api_key_id=key)

        return await _run(info, prepare)

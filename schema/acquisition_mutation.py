"""Mutations on acquisitions: report one, confirm or deny one, as the round mutations."""

import datetime
import decimal
import uuid
from collections.abc import Awaitable, Callable

import strawberry

from db.acquisition_reports import (
    AcquisitionReport,
    AcquisitionStatement,
    AcquisitionWriteResult,
    report_acquisition,
    state_acquisition_status,
)
from db.acquisitions import list_acquisitions_by_ids
from db.infra.errors import BadInput
from db.infra.ids import Kind
from db.infra.types import Connection
from schema.acquisition import Acquisition
from schema.context import Context
from schema.enums import AcquisitionTerms, DealStage
from schema.ids import id_argument
from schema.mutation import (
    EntityRefInput,
    MoneyEstimateInput,
    SourceInputGQL,
    UserError,
    check_may_write,
    user_errors,
)


@strawberry.input
class AcquisitionReportInput:
    target: EntityRefInput
    lead_acquirer: EntityRefInput
    stage: DealStage
    source: SourceInputGQL
    other_acquirers: list[EntityRefInput] | None = None
    announced_on: datetime.date | None = None
    closed_on: datetime.date | None = strawberry.field(
        default=None, description="Only with the stage CLOSED."
    )
    price: MoneyEstimateInput | None = None
    terms: AcquisitionTerms | None = None
    percent_acquired: decimal.Decimal | None = strawberry.field(
        default=None, description="The share of the target acquired, above 0 and at most 100."
    )
    quote: str | None = None

    def to_db(self) -> AcquisitionReport:
        return AcquisitionReport(
            target=self.target.to_db(),
            lead_acquirer=self.lead_acquirer.to_db(),
            stage=self.stage.value,
            source=self.source.to_db(),
            other_acquirers=tuple(a.to_db() for a in self.other_acquirers or ()),
            announced_on=self.announced_on,
            closed_on=self.closed_on,
            price=None if self.price is None else self.price.to_db(),
            terms=None if self.terms is None else self.terms.value,
            percent_acquired=self.percent_acquired,
            quote=self.quote,
        )


@strawberry.input
class AcquisitionStatusInput:
    acquisition_id: strawberry.ID
    source: SourceInputGQL
    quote: str | None = None
    stage: DealStage | None = strawberry.field(
        default=None, description="The stage the statement gives, if any (ANNOUNCED, CLOSED)."
    )
    closed_on: datetime.date | None = strawberry.field(
        default=None, description="Only with the stage CLOSED."
    )
    price: MoneyEstimateInput | None = strawberry.field(
        default=None, description="The price the statement gives, if any."
    )

    def to_db(self) -> AcquisitionStatement:
        return AcquisitionStatement(
            acquisition_id=id_argument(
                Kind.ACQUISITION, self.acquisition_id, "input.acquisitionId"
            ),
            source=self.source.to_db(),
            quote=self.quote,
            stage=None if self.stage is None else self.stage.value,
            closed_on=self.closed_on,
            price=None if self.price is None else self.price.to_db(),
        )


@strawberry.type
class AcquisitionPayload:
    acquisition: Acquisition | None
    user_errors: list[UserError]


_Operation = Callable[[Connection, uuid.UUID], Awaitable[AcquisitionWriteResult]]


async def _run(
    info: strawberry.Info[Context, None], prepare: Callable[[], _Operation]
) -> AcquisitionPayload:
    key_id = check_may_write(info)
    try:
        operation = prepare()
        async with info.context.pool.acquire() as conn, conn.transaction():
            result = await operation(conn, key_id)
            [found] = await list_acquisitions_by_ids(conn, [result.acquisition_id])
    except BadInput as e:
        return AcquisitionPayload(acquisition=None, user_errors=user_errors(e))
    assert found is not None  # written in this very transaction
    return AcquisitionPayload(acquisition=Acquisition.from_row(found), user_errors=[])


@strawberry.type
class AcquisitionMutation:
    @strawberry.mutation(
        description="A new acquisition, or a new claim on the one it matches: the same "
        "target and lead acquirer, not abandoned, in talks or announced within 90 days."
    )
    async def acquisition_report(
        self, info: strawberry.Info[Context, None], input: AcquisitionReportInput
    ) -> AcquisitionPayload:
        def prepare() -> _Operation:
            report = input.to_db()
            return lambda conn, key: report_acquisition(conn, report, api_key_id=key)

        return await _run(info, prepare)

    @strawberry.mutation(description="A party confirms an acquisition.")
    async def acquisition_confirm(
        self, info: strawberry.Info[Context, None], input: AcquisitionStatusInput
    ) -> AcquisitionPayload:
        def prepare() -> _Operation:
            statement = input.to_db()
            return lambda conn, key: state_acquisition_status(
                conn, statement, "CONFIRMED", api_key_id=key
            )

        return await _run(info, prepare)

    @strawberry.mutation(description="A party denies an acquisition.")
    async def acquisition_deny(
        self, info: strawberry.Info[Context, None], input: AcquisitionStatusInput
    ) -> AcquisitionPayload:
        def prepare() -> _Operation:
            statement = input.to_db()
            return lambda conn, key: state_acquisition_status(
                conn, statement, "DENIED", api_key_id=key
            )

        return await _run(info, prepare)

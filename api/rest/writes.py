"""POST /v1/reports, /v1/rounds/{id}/confirmations and /v1/rounds/{id}/denials.

The same writes as the GraphQL mutations (db/reports.py), with snake_case bodies.
Each runs in one transaction; with an Idempotency-Key header, a retry of the same
request gets the first answer and changes nothing.
"""

import datetime
import hashlib
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, TypeVar

import orjson
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.guard.auth import principal_of
from api.ops.replica import position_headers
from api.rest.protocol import problem
from api.rest.representations import round_detail_json
from api.state import pool_of
from db.access.idempotency import claim_key, store_answer
from db.infra.ids import InvalidId, Kind, decode_id
from db.infra.retry import retrying_deadlocks
from db.infra.storable import NUL, check_moment
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
from schema.enums import AmountQualifier, DealStage, RoundType, SourceKind

_Text = Annotated[str, Field(min_length=1, max_length=500)]
M = TypeVar("M", bound=BaseModel)


class _Body(BaseModel):
    # Strict: a date is an ISO string, a flag is true or false; nothing is coerced.
    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*")
    @classmethod
    def _storable(cls, value: object) -> object:
        """Refuse here, naming the field, what the database cannot take (db/infra/storable.py)."""
        if isinstance(value, str) and NUL in value:
            raise ValueError("must not contain NUL characters")
        if isinstance(value, datetime.datetime):
            check_moment(value)
        return value


class MoneyBody(_Body):
    amount: Annotated[str, Field(pattern=r"^[0-9]{1,16}(\.[0-9]{1,6})?$")]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]

    def to_db(self) -> MoneyInput:
        return MoneyInput(amount=Decimal(self.amount), currency=self.currency)


class EstimateBody(_Body):
    qualifier: AmountQualifier
    low: MoneyBody | None = None
    high: MoneyBody | None = None

    def to_db(self) -> EstimateInput:
        return EstimateInput(
            self.qualifier.value,
            None if self.low is None else self.low.to_db(),
            None if self.high is None else self.high.to_db(),
        )


class SourceBody(_Body):
    publisher: _Text
    published_at: AwareDatetime
    kind: SourceKind
    url: Annotated[str, Field(max_length=2000)] | None = None
    title: _Text | None = None
    language: Annotated[str, Field(max_length=35)] | None = None

    def to_db(self) -> SourceInput:
        return SourceInput(
            publisher=self.publisher,
            published_at=self.published_at,
            kind=self.kind.value,
            url=self.url,
            title=self.title,
            language=self.language,
        )


class EntityBody(_Body):
    slug: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None

    def to_db(self) -> EntityRef:
        return EntityRef(slug=self.slug, name=self.name)


class ParticipationBody(_Body):
    investor: EntityBody
    amount: EstimateBody | None = None
    is_lead: bool | None = None


class ReportBody(_Body):
    company: EntityBody
    round_type: RoundType
    stage: DealStage
    source: SourceBody
    reported_label: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    announced_on: datetime.date | None = None
    amount: EstimateBody | None = None
    post_money_valuation: EstimateBody | None = None
    participations: Annotated[list[ParticipationBody], Field(max_length=100)] = []
    quote: Annotated[str, Field(min_length=1, max_length=5000)] | None = None

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
                for p in self.participations
            ),
            quote=self.quote,
        )


class StatusBody(_Body):
    source: SourceBody
    quote: Annotated[str, Field(min_length=1, max_length=5000)] | None = None
    investor: EntityBody | None = None
    amount: EstimateBody | None = None

    def to_db(self, round_id: uuid.UUID) -> StatusStatement:
        return StatusStatement(
            round_id=round_id,
            source=self.source.to_db(),
            quote=self.quote,
            investor=None if self.investor is None else self.investor.to_db(),
            amount=None if self.amount is None else self.amount.to_db(),
        )


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


async def _body(request: Request) -> bytes:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise _Refused(
            problem(415, f"send the body as application/json, not {content_type or 'nothing'}")
        )
    return await request.body()


def _parse(model: type[M], raw: bytes) -> M:
    try:
        return model.model_validate_json(raw)
    except ValidationError as e:
        errors = e.errors(include_url=False)
        where = ".".join(str(part) for part in errors[0]["loc"]) or "body"
        detail = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}" for err in errors
        )
        raise _Refused(problem(400, detail, parameter=where, code="BAD_USER_INPUT")) from None


@dataclass(frozen=True, slots=True)
class Written:
    """What a write answers: what it wrote as JSON, whether it is new, and where it is."""

    body: dict[str, Any]
    created: bool
    location: str


Write = Callable[[Connection, uuid.UUID], Awaitable[Written]]
# The path of a write's error when the deal named in the URL does not exist.
_UNKNOWN_DEAL = (["roundId"], ["acquisitionId"])
# A source kind the key may not record; a URL already recorded as another document.
_STATUS_BY_CODE = {"FORBIDDEN": 403, "SOURCE_MISMATCH": 409}


async def round_written(conn: Connection, result: WriteResult) -> Written:
    [found] = await list_rounds_by_ids(conn, [result.round_id])
    assert found is not None  # written in this very transaction
    body = await round_detail_json(conn, found)
    return Written(body, result.created, f"/v1/rounds/{body['id']}")


async def run_write(request: Request, raw: bytes, write: Write) -> Response:
    """Run a write; its answer says where it is in the WAL, for the client's Read-After."""
    response = await retrying_deadlocks(lambda: _write_once(request, raw, write))
    if response.status_code < 300:
        response.headers.update(await position_headers(request))
    return response


async def _write_once(request: Request, raw: bytes, write: Write) -> Response:
    """Run a write in one transaction, answering a replayed Idempotency-Key from store."""
    principal = principal_of(request)
    key = request.headers.get("idempotency-key")
    if key is not None and not 1 <= len(key) <= 255:
        return problem(
            400, "Idempotency-Key must have 1 to 255 characters", parameter="Idempotency-Key"
        )
    request_hash = hashlib.sha256(
        request.method.encode() + b" " + request.url.path.encode() + b"\n" + raw
    ).digest()
    async with pool_of(request).acquire() as conn, conn.transaction():
        if key is not None:
            stored = await claim_key(
                conn, api_key_id=principal.key_id, key=key, request_hash=request_hash
            )
            if stored is not None:
                if stored.request_hash != request_hash:
                    return problem(
                        422,
                        "this Idempotency-Key was used for another request; use a new key",
                        parameter="Idempotency-Key",
                        code="IDEMPOTENCY_KEY_REUSED",
                    )
                replayed = {"Idempotent-Replayed": "true"}
                if stored.location is not None:
                    replayed["Location"] = stored.location
                return Response(
                    stored.body, stored.status, media_type="application/json", headers=replayed
                )
        try:
            written = await write(conn, principal.key_id)
        except WriteError as e:
            # The deal is the path's `id` here; other fields are the body's, snake_case.
            unknown_deal = e.path in _UNKNOWN_DEAL
            status = 404 if unknown_deal else _STATUS_BY_CODE.get(e.code, 400)
            where = "id" if unknown_deal else ".".join(_snake(part) for part in e.path)
            # Raising rolls the transaction back: nothing of the write stays.
            raise _Refused(
                problem(status, f"{where}: {e.message}", parameter=where, code=e.code)
            ) from None
        body = orjson.dumps(written.body)
        status = 201 if written.created else 200
        location = written.location if written.created else None
        if key is not None:
            await store_answer(
                conn,
                api_key_id=principal.key_id,
                key=key,
                status=status,
                body=body,
                location=location,
            )
    headers = {"Location": location} if location is not None else None
    return Response(body, status, media_type="application/json", headers=headers)


def _refusals(
    handler: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    async def guarded(request: Request) -> Response:
        try:
            return await handler(request)
        except _Refused as refused:
            return refused.response

    return guarded


T = TypeVar("T")
# How a write endpoint reads its body (and the deal of its path), and what it writes.
WriteOf = Callable[[Connection, T, uuid.UUID], Awaitable[Written]]


def report_endpoint(
    parse: Callable[[bytes], T], write: WriteOf[T]
) -> Callable[[Request], Awaitable[Response]]:
    """A POST of a report of a deal (round or acquisition): body, checks, one write."""

    @_refusals
    async def post_report(request: Request) -> Response:
        raw = await _body(request)
        report = parse(raw)
        return await run_write(request, raw, lambda conn, key: write(conn, report, key))

    return post_report


def status_endpoint(
    kind: Kind, parse: Callable[[bytes, uuid.UUID], T], write: WriteOf[T]
) -> Callable[[Request], Awaitable[Response]]:
    """A POST of a party's statement on the deal of kind `kind` named in the path."""

    @_refusals
    async def post_status(request: Request) -> Response:
        raw = await _body(request)
        try:
            deal_id = decode_id(kind, request.path_params["id"])
        except InvalidId as e:
            return problem(404, f"id: {e}", parameter="id", code="NOT_FOUND")
        statement = parse(raw, deal_id)
        return await run_write(request, raw, lambda conn, key: write(conn, statement, key))

    return post_status


async def _report_written(conn: Connection, report: RoundReport, key: uuid.UUID) -> Written:
    return await round_written(conn, await report_round(conn, report, api_key_id=key))


def _round_status(status: str) -> Callable[[Request], Awaitable[Response]]:
    async def write(conn: Connection, statement: StatusStatement, key: uuid.UUID) -> Written:
        return await round_written(
            conn, await state_status(conn, statement, status, api_key_id=key)
        )

    return status_endpoint(
        Kind.ROUND, lambda raw, round_id: _parse(StatusBody, raw).to_db(round_id), write
    )


routes = [
    Route(
        "/reports",
        report_endpoint(lambda raw: _parse(ReportBody, raw).to_db(), _report_written),
        methods=["POST"],
    ),
    Route("/rounds/{id}/confirmations", _round_status("CONFIRMED"), methods=["POST"]),
    Route("/rounds/{id}/denials", _round_status("DENIED"), methods=["POST"]),
]

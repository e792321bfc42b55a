"""GET /v1/acquisitions and /v1/acquisitions/{id}; POST /v1/acquisition-reports and
/v1/acquisitions/{id}/confirmations and /denials (scope write), as the round routes."""

import datetime
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from decimal import Decimal
from typing import Annotated

import orjson
from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.guard.ratelimit import charge_more
from api.ops.replica import read_pool
from api.rest.protocol import QueryParams, json_bytes_answer
from api.rest.views import ACQUISITION, acquisition_detail, page_of, shown_page
from api.rest.writes import (
    EntityBody,
    EstimateBody,
    SourceBody,
    Written,
    _Body,
    _parse,
    report_endpoint,
    status_endpoint,
)
from api.state import table_sizes_of
from db.acquisition_reports import (
    AcquisitionReport,
    AcquisitionStatement,
    AcquisitionWriteResult,
    report_acquisition,
    state_acquisition_status,
)
from db.acquisitions import (
    AcquisitionFilter,
    AcquisitionOrder,
    acquisitions_scope,
)
from db.infra.errors import BadInput, NotFound
from db.infra.ids import InvalidId, Kind, decode_id
from db.infra.types import Connection, Pool
from db.json.acquisitions import AcquisitionsArgs
from db.organizations import fetch_organization
from schema.enums import AcquisitionTerms, DealStage, DealStatus
from schema.scan_cost import acquisitions_scan

_SORTS = {
    "announced_on": AcquisitionOrder("ANNOUNCED_ON", "ASC"),
    "-announced_on": AcquisitionOrder("ANNOUNCED_ON", "DESC"),
    "price_usd": AcquisitionOrder("PRICE_USD", "ASC"),
    "-price_usd": AcquisitionOrder("PRICE_USD", "DESC"),
}
_PARAMETERS = (
    "status",
    "stage",
    "acquirer",
    "target",
    "announced_from",
    "announced_to",
    "min_price_usd",
    "as_of",
    "sort",
    "limit",
    "cursor",
)
_Quote = Annotated[str, Field(min_length=1, max_length=5000)]


async def _organization_id(pool: Pool, params: QueryParams, name: str) -> uuid.UUID | None:
    given = params.text(name)
    if given is None:
        return None
    org = await fetch_organization(pool, given)
    if org is None:
        raise BadInput(f"{name}: no organization has the id or slug {given!r}", field=name)
    return org.id


async def _filter(pool: Pool, params: QueryParams) -> AcquisitionFilter:
    announced_from, announced_to = params.date("announced_from"), params.date("announced_to")
    if announced_from and announced_to and announced_from > announced_to:
        raise BadInput("announced_from is after announced_to", field="announced_from")
    statuses = params.enums("status", DealStatus)
    stages = params.enums("stage", DealStage)
    return AcquisitionFilter(
        statuses=None if statuses is None else [s.value for s in statuses],
        stages=None if stages is None else [s.value for s in stages],
        acquirer_id=await _organization_id(pool, params, "acquirer"),
        target_id=await _organization_id(pool, params, "target"),
        announced_from=announced_from,
        announced_to=announced_to,
        min_price_usd=params.decimal("min_price_usd"),
        as_of=params.moment("as_of"),
    )


async def list_acquisitions_endpoint(request: Request) -> Response:
    pool = await read_pool(request)
    params = QueryParams(request, _PARAMETERS)
    found_filter = await _filter(pool, params)
    order = _SORTS[params.choice("sort", _SORTS, "-announced_on")]
    # Priced as GraphQL prices the same list (schema/scan_cost.py), before it runs.
    scan = acquisitions_scan(
        as_of=found_filter.as_of is not None,
        filtered=replace(found_filter, as_of=None) != type(found_filter)(),
        counts=False,
        sizes=table_sizes_of(request),
    )
    if (refusal := await charge_more(request, 1 + scan)) is not None:
        return refusal.problem()
    # One statement builds the whole answer, as of a time too.
    scope = acquisitions_scope(found_filter, order)
    args = AcquisitionsArgs(found_filter, order, params.page(scope), scope)
    body, _ = await shown_page(pool, page_of("acquisitions", args, "Acquisition", ACQUISITION))
    return json_bytes_answer(request, body)


async def get_acquisition_endpoint(request: Request) -> Response:
    pool = await read_pool(request)
    as_of = QueryParams(request, ("as_of",)).moment("as_of")
    public_id = request.path_params["id"]
    try:
        acquisition_id = decode_id(Kind.ACQUISITION, public_id)
    except InvalidId as e:
        raise NotFound(f"id: {e}", field="id") from None
    body = await acquisition_detail(pool, acquisition_id, as_of)
    if body is None:
        known = "" if as_of is None else f" known as of {as_of.isoformat()}"
        raise NotFound(f"no acquisition{known} has the id {public_id!r}", field="id")
    return json_bytes_answer(request, body)


class AcquisitionReportBody(_Body):
    target: EntityBody
    lead_acquirer: EntityBody
    stage: DealStage
    source: SourceBody
    other_acquirers: Annotated[list[EntityBody], Field(max_length=20)] | None = None
    announced_on: datetime.date | None = None
    closed_on: datetime.date | None = None
    price: EstimateBody | None = None
    terms: AcquisitionTerms | None = None
    percent_acquired: Annotated[str, Field(pattern=r"^[0-9]{1,3}(\.[0-9]{1,6})?$")] | None = None
    quote: _Quote | None = None

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
            percent_acquired=None
            if self.percent_acquired is None
            else Decimal(self.percent_acquired),
            quote=self.quote,
        )


class AcquisitionStatusBody(_Body):
    source: SourceBody
    quote: _Quote | None = None
    stage: DealStage | None = None
    closed_on: datetime.date | None = None
    price: EstimateBody | None = None

    def to_db(self, acquisition_id: uuid.UUID) -> AcquisitionStatement:
        return AcquisitionStatement(
            acquisition_id=acquisition_id,
            source=self.source.to_db(),
            quote=self.quote,
            stage=None if self.stage is None else self.stage.value,
            closed_on=self.closed_on,
            price=None if self.price is None else self.price.to_db(),
        )


async def _written(conn: Connection, result: AcquisitionWriteResult) -> Written:
    body = await acquisition_detail(conn, result.acquisition_id)
    assert body is not None  # written in this very transaction
    shown = orjson.loads(body)
    return Written(shown, result.created, f"/v1/acquisitions/{shown['id']}")


async def _report_written(conn: Connection, report: AcquisitionReport, key: uuid.UUID) -> Written:
    return await _written(conn, await report_acquisition(conn, report, api_key_id=key))


def _status_endpoint(status: str) -> Callable[[Request], Awaitable[Response]]:
    async def write(conn: Connection, statement: AcquisitionStatement, key: uuid.UUID) -> Written:
        result = await state_acquisition_status(conn, statement, status, api_key_id=key)
        return await _written(conn, result)

    return status_endpoint(
        Kind.ACQUISITION,
        lambda raw, acquisition_id: _parse(AcquisitionStatusBody, raw).to_db(acquisition_id),
        write,
    )


routes = [
    Route("/acquisitions", list_acquisitions_endpoint, methods=["GET"]),
    Route("/acquisitions/{id}", get_acquisition_endpoint, methods=["GET"]),
    Route(
        "/acquisition-reports",
        report_endpoint(lambda raw: _parse(AcquisitionReportBody, raw).to_db(), _report_written),
        methods=["POST"],
    ),
    Route("/acquisitions/{id}/confirmations", _status_endpoint("CONFIRMED"), methods=["POST"]),
    Route("/acquisitions/{id}/denials", _status_endpoint("DENIED"), methods=["POST"]),
]

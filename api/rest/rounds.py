"""GET /v1/rounds and /v1/rounds/{id}."""

from dataclasses import replace

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.guard.answer_size import tell_objects
from api.guard.ratelimit import charge_more
from api.ops.replica import read_pool
from api.rest.protocol import QueryParams, json_bytes_answer
from api.rest.views import ROUND, page_of, round_detail, shown_page
from api.state import table_sizes_of
from db.infra.errors import BadInput, NotFound
from db.infra.ids import InvalidId, Kind, decode_id
from db.infra.types import Pool
from db.json.sources import RoundsArgs
from db.organizations import fetch_investor_id, fetch_organization
from db.rounds import RoundFilter, RoundOrder, rounds_scope
from schema.enums import DealStage, DealStatus, RoundType
from schema.scan_cost import rounds_scan

_SORTS = {
    "announced_on": RoundOrder("ANNOUNCED_ON", "ASC"),
    "-announced_on": RoundOrder("ANNOUNCED_ON", "DESC"),
    "amount_usd": RoundOrder("AMOUNT_USD", "ASC"),
    "-amount_usd": RoundOrder("AMOUNT_USD", "DESC"),
}
FILTER_PARAMETERS = (
    "status",
    "stage",
    "round_type",
    "company",
    "investor",
    "announced_from",
    "announced_to",
    "min_amount_usd",
    "as_of",
)
_PARAMETERS = (*FILTER_PARAMETERS, "sort", "limit", "cursor")


async def round_filter_of(pool: Pool, params: QueryParams) -> RoundFilter:
    """The filter of /v1/rounds' query parameters; /v1/stats/rounds takes the same."""
    company_id = investor_id = None
    if (company := params.text("company")) is not None:
        org = await fetch_organization(pool, company)
        if org is None:
            raise BadInput(
                f"company: no organization has the id or slug {company!r}", field="company"
            )
        company_id = org.id
    if (investor := params.text("investor")) is not None:
        investor_id = await fetch_investor_id(pool, investor)
        if investor_id is None:
            raise BadInput(
                f"investor: no investor has the id or slug {investor!r}", field="investor"
            )
    announced_from, announced_to = params.date("announced_from"), params.date("announced_to")
    if announced_from and announced_to and announced_from > announced_to:
        raise BadInput("announced_from is after announced_to", field="announced_from")

    def names(
        values: list[DealStatus] | list[DealStage] | list[RoundType] | None,
    ) -> list[str] | None:
        return None if values is None else [v.value for v in values]

    return RoundFilter(
        statuses=names(params.enums("status", DealStatus)),
        stages=names(params.enums("stage", DealStage)),
        round_types=names(params.enums("round_type", RoundType)),
        company_id=company_id,
        investor_id=investor_id,
        announced_from=announced_from,
        announced_to=announced_to,
        min_amount_usd=params.decimal("min_amount_usd"),
        as_of=params.moment("as_of"),
    )


async def list_rounds_endpoint(request: Request) -> Response:
    pool = await read_pool(request)
    params = QueryParams(request, _PARAMETERS)
    round_filter = await round_filter_of(pool, params)
    order = _SORTS[params.choice("sort", _SORTS, "-announced_on")]
    scope = rounds_scope(round_filter, order)
    request_page = params.page(scope)
    # Priced as GraphQL prices the same list (schema/scan_cost.py), before it runs.
    scan = rounds_scan(
        as_of=round_filter.as_of is not None,
        filtered=replace(round_filter, as_of=None) != RoundFilter(),
        counts=False,
        sizes=table_sizes_of(request),
    )
    if (refusal := await charge_more(request, 1 + scan)) is not None:
        return refusal.problem()
    # One statement builds the whole answer, as of a time too, and counts its objects.
    body, objects = await shown_page(
        pool,
        page_of("rounds", RoundsArgs(round_filter, order, request_page, scope), "Round", ROUND),
    )
    tell_objects(request, objects)
    return json_bytes_answer(request, body)


async def get_round_endpoint(request: Request) -> Response:
    pool = await read_pool(request)
    as_of = QueryParams(request, ("as_of",)).moment("as_of")
    public_id = request.path_params["id"]
    try:
        round_id = decode_id(Kind.ROUND, public_id)
    except InvalidId as e:
        raise NotFound(f"id: {e}", field="id") from None
    body = await round_detail(pool, round_id, as_of)
    if body is None:
        known = "" if as_of is None else f" known as of {as_of.isoformat()}"
        raise NotFound(f"no round{known} has the id {public_id!r}", field="id")
    return json_bytes_answer(request, body)


routes = [
    Route("/rounds", list_rounds_endpoint, methods=["GET"]),
    Route("/rounds/{id}", get_round_endpoint, methods=["GET"]),
]

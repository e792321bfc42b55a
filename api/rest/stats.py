"""GET /v1/stats/rounds: roundStats over REST, with the filters of /v1/rounds."""

from typing import get_args

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.ops.replica import read_pool
from api.rest.protocol import QueryParams, json_answer
from api.rest.representations import round_stats_json
from api.rest.rounds import FILTER_PARAMETERS, round_filter_of
from db.infra.errors import BadInput
from db.stats import Dimension, Period, check_group_by, round_stats

# group_by's words: a period's length stands for PERIOD of that length.
_PERIODS: dict[str, Period] = {p.lower(): p for p in get_args(Period)}
_DIMENSIONS: dict[str, Dimension] = {d.lower(): d for d in get_args(Dimension) if d != "PERIOD"}
_WORDS = ", ".join([*_PERIODS, *_DIMENSIONS])


def _group_by(params: QueryParams) -> tuple[list[Dimension], Period]:
    value = params.text("group_by")
    if value is None:
        return [], "QUARTER"
    dimensions: list[Dimension] = []
    periods = []
    for word in value.split(","):
        if word in _PERIODS:
            periods.append(_PERIODS[word])
            dimensions.append("PERIOD")
        elif word in _DIMENSIONS:
            dimensions.append(_DIMENSIONS[word])
        else:
            raise BadInput(f"group_by: {word!r} is not one of {_WORDS}", field="group_by")
    if len(periods) > 1:
        raise BadInput("group_by: give at most one of month, quarter, year", field="group_by")
    check_group_by(dimensions, "group_by")
    return dimensions, periods[0] if periods else "QUARTER"


async def round_stats_endpoint(request: Request) -> Response:
    pool = await read_pool(request)
    params = QueryParams(request, (*FILTER_PARAMETERS, "group_by"))
    group_by, period = _group_by(params)
    found = await round_stats(
        pool,
        filter=await round_filter_of(pool, params),
        group_by=group_by,
        period=period,
        group_by_field="group_by",
    )
    return json_answer(request, {"data": round_stats_json(found, period)})


routes = [Route("/stats/rounds", round_stats_endpoint, methods=["GET"])]

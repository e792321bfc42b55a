"""GET /v1/stats/rounds: roundStats over REST, with the filters of /v1/rounds."""

from typing import get_args

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.ops.replica import read_pool
from api.rest.protocol import QueryParams, json_bytes_answer
from api.rest.rounds import FILTER_PARAMETERS, round_filter_of
from api.rest.views import shown_stats
from db.infra.errors import BadInput
from db.json.sources import StatsArgs
from db.stats import Dimension, Period, check_group_by, too_many_buckets

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
    args = StatsArgs(await round_filter_of(pool, params), tuple(group_by), period)
    body = await shown_stats(pool, args)
    if body is None:
        raise too_many_buckets("group_by")
    return json_bytes_answer(request, body)


routes = [Route("/stats/rounds", round_stats_endpoint, methods=["GET"])]

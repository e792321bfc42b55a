"""How many objects an answer holds: what a request pays when that is more than its price.

The price of a request is told before it runs, from what it asks for (schema/limits.py);
lists whose length is not known then (a round's participations, claims, history; a REST
page's nested lists) are priced at a typical length. A request whose answer holds more
objects than it paid for pays the difference once answered, whatever its face: a round
with 1,000 participations costs 1,000 points, not 5.
"""

from collections.abc import Callable
from typing import Any

import orjson
from starlette.requests import Request

from schema.limits import EDGES

# Where a handler that knows how many objects its answer holds says so (the state of the
# request's scope), sparing the count of its body.
_TOLD = "answer_objects"


def _count(answer: Any) -> int:
    # Only containers are visited (most values of an answer are scalars), without
    # recursion. A connection's edges are priced as their nodes (schema/limits.py): an
    # object of an `edges` list is not counted again. No other field may be aliased so.
    found = 0
    pending: list[tuple[Any, bool]] = []
    if type(answer) is dict or type(answer) is list:
        pending.append((answer, False))
    while pending:
        value, edge = pending.pop()
        if type(value) is dict:
            found += not edge
            pending.extend(
                (v, k == EDGES) for k, v in value.items() if type(v) is dict or type(v) is list
            )
        else:
            pending.extend((v, edge) for v in value if type(v) is dict or type(v) is list)
    return found


def objects_in(body: bytes, *, more_than: int) -> int:
    """The JSON objects of an answer's data (under `data` when there is one, else the
    whole answer), if more than `more_than`; else 0."""
    return _beyond(body, _data_of, more_than)


def objects_of(data: object, body: bytes, *, more_than: int) -> int:
    """`objects_in(body)` for a body whose `data` is at hand as JSON values: not parsed
    again."""
    return _beyond(body, lambda _: data, more_than)


def _data_of(body: bytes) -> object:
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return answer.get("data", answer) if isinstance(answer, dict) else answer


def _beyond(body: bytes, data_of: Callable[[bytes], object], more_than: int) -> int:
    # Counted only when the body's braces say it may be more: most answers are within
    # their price.
    if body.count(b"{") <= more_than:
        return 0
    found = _count(data_of(body))
    return found if found > more_than else 0


def tell_objects(request: Request, objects: int) -> None:
    """The objects of this request's answer (under `data`), as its handler counted them
    while building it: the answer is then not parsed to count them."""
    request.scope.setdefault("state", {})[_TOLD] = objects


def told_objects(state: dict[str, Any]) -> int | None:
    told = state.get(_TOLD)
    return told if isinstance(told, int) else None

"""How many objects an answer holds: what a request pays when that is more than its price.

The price of a request is told before it runs, from what it asks for (schema/limits.py);
lists whose length is not known then (a round's participations, claims, history; a REST
page's nested lists) are priced at a typical length. A request whose answer holds more
objects than it paid for pays the difference once answered, whatever its face: a round
with 1,000 participations costs 1,000 points, not 5.
"""

from typing import Any

import orjson


def _count(value: Any, *, edge: bool = False) -> int:
    # A connection's edges are priced as their nodes (schema/limits.py): not again.
    if isinstance(value, dict):
        return (0 if edge else 1) + sum(_count(v, edge=k == "edges") for k, v in value.items())
    if isinstance(value, list):
        return sum(_count(v, edge=edge) for v in value)
    return 0


def objects_in(body: bytes, *, more_than: int) -> int:
    """The JSON objects of an answer's data (under `data` when there is one, else the
    whole answer), if more than `more_than`; else 0. Parsed only when its braces say it
    may be more: most answers are within their price."""
    if body.count(b"{") <= more_than:
        return 0
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        return 0
    data = answer.get("data", answer) if isinstance(answer, dict) else answer
    found = _count(data)
    return found if found > more_than else 0

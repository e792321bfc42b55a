"""What a list costs beyond the objects it returns: the rows the database reads for it.

A page of a list read in its sort key's index order reads about the rows it returns. A
list that is counted (`totalCount`), filtered, or read as of a time may read every row
of its table to fill one page or to count it; a search compares the searched text with
every organization's name and aliases. Those are priced by the rows they can touch, one
point per ROWS_PER_POINT rows (and a search by its length too), from the table sizes the
catalog estimates (db/sizes.py). bench/cost.py measures database time per point over the
shapes priced here.
"""

import math
from collections.abc import Mapping
from typing import Any

from db.sizes import TableSizes

ROWS_PER_POINT = 1_000
# A search compares each organization's name and aliases with the searched text: its
# time grows with both the rows and the length of the text (measured by bench/cost.py).
SEARCH_CHARACTERS_PER_PASS = 4


def _rows(count: int) -> int:
    return math.ceil(count / ROWS_PER_POINT)


def _filtered(args: Mapping[str, Any]) -> bool:
    given = args.get("filter")
    return isinstance(given, Mapping) and any(v is not None for v in given.values())


def rounds_scan(*, as_of: bool, filtered: bool, counts: bool, sizes: TableSizes) -> int:
    """Points for the rows a list of rounds (GraphQL or REST) may read beyond its page."""
    if as_of:
        # A page as of a time walks the versions in index order, past every version not
        # valid then: at worst all of them.
        return _rows(sizes.round_history)
    return _rows(sizes.rounds) if counts or filtered else 0


def organizations_scan(
    *, search: str | None, filtered: bool, counts: bool, sizes: TableSizes
) -> int:
    if search:
        passes = 1 + len(search) / SEARCH_CHARACTERS_PER_PASS
        return math.ceil(sizes.organizations * passes / ROWS_PER_POINT)
    return _rows(sizes.organizations) if counts or filtered else 0


def scan_points(
    parent: str, field: str, args: Mapping[str, Any], counts: bool, sizes: TableSizes
) -> int:
    """Points for the rows `parent.field(args)` may read beyond its page; `counts` when
    the query selects its totalCount."""
    filtered = _filtered(args)
    if parent == "Query" and field == "rounds":
        as_of = args.get("asOf") is not None
        return rounds_scan(as_of=as_of, filtered=filtered, counts=counts, sizes=sizes)
    if parent == "Query" and field == "organizations":
        filter_ = args.get("filter")
        search = filter_.get("search") if isinstance(filter_, Mapping) else None
        return organizations_scan(
            search=search if isinstance(search, str) else None,
            filtered=filtered,
            counts=counts,
            sizes=sizes,
        )
    # One parent's rounds or investments: counted through an index on the parent.
    return 1 if counts else 0

"""What a list costs beyond the objects it returns: the rows the database reads for it.

A page of a list read in its sort key's index order reads about the rows it returns. A
list that is counted (`totalCount`), filtered, or read as of a time may read every row
of its table to fill one page or to count it. Those are priced by the rows they can
touch, from the table sizes the catalog estimates (db/sizes.py). bench/cost.py measures
database time per point over the shapes priced here.
"""

import math
from collections.abc import Mapping
from typing import Any

from db.sizes import TableSizes

# Calibrated with bench/cost.py on the CrunchBase set (31,616 rounds, 27,899
# organizations): a round row read costs about a tenth of an organization's (whose
# filter and count look at aliases and participations). A search reads the indexes of
# organization_search_names (migration 0050): 5-7 ms for a page and its count on that
# set, whatever the length of the text; it is priced per scan (the page, the count) as
# reading one row in SEARCH_ROWS_PER_POINT of the organizations. The figures bound
# database time at about 0.3 ms per point over that corpus.
ROWS_PER_POINT = 1_000
ORGANIZATION_ROWS_PER_POINT = 100
SEARCH_ROWS_PER_POINT = 1_000
# Acquisitions as of a time are derived again, each from its claims (acquisitions_as_of,
# migration 0080): about 40 us each, as rounds were before their stored versions.
ACQUISITIONS_AS_OF_ROWS_PER_POINT = 10


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
    if filtered:
        return _rows(sizes.rounds)
    # Unfiltered, the count sums round_counts (migration 0130): a few hundred rows kept
    # by the rounds' triggers, whatever the number of rounds.
    return 1 if counts else 0


def acquisitions_scan(*, as_of: bool, filtered: bool, counts: bool, sizes: TableSizes) -> int:
    if as_of:
        return math.ceil(sizes.acquisitions / ACQUISITIONS_AS_OF_ROWS_PER_POINT)
    return _rows(sizes.acquisitions) if counts or filtered else 0


def organizations_scan(
    *, search: str | None, filtered: bool, counts: bool, sizes: TableSizes
) -> int:
    if search:
        # The page and the count each search the indexes.
        scans = 2 if counts else 1
        return scans * math.ceil(sizes.organizations / SEARCH_ROWS_PER_POINT)
    if counts or filtered:
        return math.ceil(sizes.organizations / ORGANIZATION_ROWS_PER_POINT)
    return 0


def scan_points(
    parent: str, field: str, args: Mapping[str, Any], counts: bool, sizes: TableSizes
) -> int:
    """Points for the rows `parent.field(args)` may read beyond its page; `counts` when
    the query selects its totalCount."""
    filtered = _filtered(args)
    if parent == "Query" and field == "rounds":
        as_of = args.get("asOf") is not None
        return rounds_scan(as_of=as_of, filtered=filtered, counts=counts, sizes=sizes)
    if parent == "Query" and field == "acquisitions":
        as_of = args.get("asOf") is not None
        return acquisitions_scan(as_of=as_of, filtered=filtered, counts=counts, sizes=sizes)
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

"""Acquisitions in the compiled reads: the rows of Query.acquisitions and of
Organization.acquisitions (for db/json/select.py).

Each gives the same rows, order and cursors as the db/acquisitions.py function the
resolvers call; tests hold them to the same bytes.
"""

import functools
import uuid
from dataclasses import dataclass

from db.acquisitions import (
    FILTER_SQL,
    SORT_KEYS,
    AcquisitionFilter,
    AcquisitionOrder,
    acquirer_scope,
    acquisitions_source,
    filter_args,
)
from db.infra.pagination import PageRequest, fingerprint
from db.json.sources import KeysetSource, _Renumbered, filtered_scope_sql
from db.json.sql import SqlBuilder, fingerprint_sql


@dataclass(frozen=True, slots=True)
class AcquisitionsArgs:
    """Query.acquisitions: the checked filter, order and page, and the cursors' scope."""

    filter: AcquisitionFilter
    order: AcquisitionOrder
    page: PageRequest
    scope: str


# The SQL types of db/acquisitions.py FILTER_SQL's parameters: the filter, then as of.
_FILTER_TYPES = (
    "deal_status[]",
    "deal_stage[]",
    "uuid",
    "uuid",
    "date",
    "date",
    "numeric",
    "timestamptz",
)


def acquisitions(sql: SqlBuilder, args: AcquisitionsArgs) -> KeysetSource:
    """Query.acquisitions, as db/acquisitions.py list_acquisitions and count_acquisitions
    read it."""
    f = args.filter
    renumbered = _Renumbered(sql, filter_args(f), _FILTER_TYPES)
    where, table = renumbered(FILTER_SQL), renumbered(acquisitions_source(f))
    key = SORT_KEYS[(args.order.field, args.order.direction)]
    fp = functools.cache(lambda: sql.param(fingerprint(args.scope), "text"))
    return KeysetSource(
        sql,
        args.page,
        table=table,
        star="a",
        where=where,
        key=key.expression,
        key_type=key.sql_type,
        descending=args.order.direction == "DESC",
        count_table=table,
        count_where=where,
        fp=fp,
        as_of=None if f.as_of is None else renumbered("$8"),
    )


_SENTINEL = uuid.UUID(int=0)


def _acquirer_scope_sql(acquirer_id: str) -> str:
    """db/acquisitions.py acquirer_scope() in SQL."""
    return filtered_scope_sql(
        acquirer_scope(_SENTINEL), AcquisitionFilter(acquirer_id=_SENTINEL), acquirer_id
    )


def acquirer_acquisitions(sql: SqlBuilder, page: PageRequest, acquirer: str) -> KeysetSource:
    """Organization.acquisitions, as db/acquisitions.py list_acquisitions_of_acquirers
    and count_acquisitions_of_acquirers read it."""
    key = SORT_KEYS[("ANNOUNCED_ON", "DESC")]
    where = f"q.organization_id = {acquirer}.id"
    return KeysetSource(
        sql,
        page,
        table="acquirers q join acquisitions a on a.id = q.acquisition_id",
        star="a",
        where=where,
        key=key.expression,
        key_type=key.sql_type,
        descending=True,
        count_table="acquirers q",
        count_where=where,
        fp=lambda: fingerprint_sql(_acquirer_scope_sql(f"{acquirer}.id")),
    )

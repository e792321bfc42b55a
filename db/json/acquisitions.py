"""Acquisitions in the compiled reads: the rows of Query.acquisitions and of
Organization.acquisitions (for db/json/select.py), and GET /v1/acquisitions built in one
statement (as db/json/rest.py builds GET /v1/rounds).

Each renders the same rows, order and cursors as the db/acquisitions.py function the
resolvers and the Python renderer call; tests hold them to the same bytes.
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
from db.infra.types import Executor
from db.json.rest import _fuzzy_date, _money, _ref, list_page_sql
from db.json.sources import KeysetSource, _Renumbered, filtered_scope_sql
from db.json.sql import SqlBuilder, fingerprint_sql, json_object_sql


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


def _acquisition(table: str, as_of: str | None) -> str:
    """An acquisition as api/rest/representations.py renders it in a list; as of a time,
    the acquirers known then."""
    known = "" if as_of is None else f" and q.added_at <= {as_of}"
    return json_object_sql(
        [
            ("id", f"public_id('acq', {table}.id)"),
            (
                "target",
                f"(select {_ref('org', 'o')} from organizations o where o.id = {table}.target_id)",
            ),
            (
                "lead_acquirer",
                f"(select {_ref('org', 'o')} from acquirers q join organizations o"
                f" on o.id = q.organization_id"
                f" where q.acquisition_id = {table}.id and q.is_lead{known})",
            ),
            (
                "acquirers",
                f"coalesce((select json_agg({_ref('org', 'o')}"
                f" order by q.is_lead desc, q.added_at, q.organization_id)"
                f" from acquirers q join organizations o on o.id = q.organization_id"
                f" where q.acquisition_id = {table}.id{known}), '[]'::json)",
            ),
            ("status", f"{table}.status"),
            ("stage", f"{table}.stage"),
            ("announced", _fuzzy_date(f"{table}.announced_on", f"{table}.announced_precision")),
            ("closed_on", f"{table}.closed_on"),
            ("price", _money(f"{table}.price")),
            ("terms", f"{table}.terms"),
            ("percent_acquired", f"{table}.percent_acquired::text"),
        ]
    )


def rest_acquisitions_statement(
    *, filter: AcquisitionFilter, order: AcquisitionOrder, page: PageRequest, scope: str
) -> tuple[str, list[object]]:
    """The statement (and its arguments) whose one text value is a page of
    GET /v1/acquisitions: `{"data": [...], "next_cursor": ...}`."""
    sql = SqlBuilder()
    source = acquisitions(sql, AcquisitionsArgs(filter, order, page, scope))
    body = list_page_sql(source, _acquisition("x", source.as_of))
    return f"select ({body})::text", sql.args


async def render_rest_acquisitions(
    db: Executor,
    *,
    filter: AcquisitionFilter,
    order: AcquisitionOrder,
    page: PageRequest,
    scope: str,
) -> bytes:
    """A page of GET /v1/acquisitions, as the JSON bytes of the answer."""
    statement, args = rest_acquisitions_statement(
        filter=filter, order=order, page=page, scope=scope
    )
    text: str = await db.fetchval(statement, *args)
    return text.encode()

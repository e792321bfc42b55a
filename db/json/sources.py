"""The rows of one page of a connection, for one statement that builds its JSON.

A source gives `fetched`: a subquery of the page's rows and one row more, each with its
table's columns, `sort_key` (the cursor's key as text) and `n`, its place in the order
the rows were fetched (a backward page is fetched the other way round). Over those rows
db/json/select.py aggregates edges, page info and cursors in one pass. Each source
renders the same rows, order and cursors as the db/ function the resolvers call.
"""

import functools
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import orjson

from db.co_investors import co_investors_scope, shared_rounds_sql
from db.infra.errors import DealgraphError
from db.infra.pagination import PageRequest, fingerprint
from db.json.sql import SqlBuilder, cursor_sql, fingerprint_sql, literal
from db.participations import investments_scope
from db.rounds import (
    SORT_KEYS,
    RoundFilter,
    RoundOrder,
    company_rounds_scope,
    count_sql,
    filter_args,
    filter_sql,
    rounds_source,
)
from db.stats import (
    MAX_BUCKETS,
    STATS_TYPES,
    Dimension,
    Period,
    round_stats_statement,
    too_many_buckets,
)


@dataclass(frozen=True, slots=True)
class RoundsArgs:
    """Query.rounds: the checked filter, order and page, and the cursors' scope."""

    filter: RoundFilter
    order: RoundOrder
    page: PageRequest
    scope: str


@dataclass(frozen=True, slots=True)
class Prefetched:
    """A page another query chose (db/organizations.py's search): its ids and cursors in
    list order; `count` when totalCount is asked for."""

    table: str
    ids: list[uuid.UUID]
    cursors: list[str]
    has_next: bool
    has_previous: bool
    count: int | None


@dataclass(frozen=True, slots=True)
class CursorCheck:
    """A page under each of many objects: its cursor is good under the object whose
    scope it was made under (`sql` holds there); `field` names it in the error."""

    sql: str
    field: str


class Source(Protocol):
    @property
    def fetched(self) -> str: ...
    @property
    def size(self) -> str: ...
    @property
    def backward(self) -> bool: ...
    @property
    def has_next(self) -> str: ...
    @property
    def has_previous(self) -> str: ...
    @property
    def count(self) -> str: ...
    @property
    def as_of(self) -> str | None: ...
    @property
    def fingerprint(self) -> CursorCheck | None: ...
    def cursor(self, row: str) -> str: ...


class KeysetSource:
    """Rows of `table` (whose rows are `star`) under `where`, in keyset order."""

    def __init__(
        self,
        sql: SqlBuilder,
        page: PageRequest,
        *,
        table: str,
        star: str,
        where: str,
        key: str,
        key_type: str,
        descending: bool,
        count_where: str,
        count_table: str,
        fp: Callable[[], str],
        as_of: str | None = None,
        count: str | None = None,
        tie: str | None = None,
    ) -> None:
        """`count`, given, is the SQL of totalCount, instead of a count of `count_table`
        under `count_where`."""
        self._sql, self._page, self._fp = sql, page, fp
        self.as_of = as_of
        self.backward = page.backward
        direction, comparison = page.order_sql(descending=descending)
        sort_key, after_id = page.cursor_args
        if (
            page.made_under is not None
            and sort_key is not None
            and not _key_fits(sort_key, key_type)
        ):
            # Only a cursor of another list holds a key of another type (a cursor is signed:
            # its key is one a list of ours wrote), and PostgreSQL would refuse its cast
            # before the statement can say so: the fingerprint check below answers it.
            sort_key = None
        # The id that breaks ties of the key: the row's own, or its copy in the table
        # whose index gives the order.
        tie = tie or f"{star}.id"
        if sort_key is not None:
            where += (
                f" and ({key}, {tie}) {comparison}"
                f" ({sql.param(sort_key, 'text')}::{key_type}, {sql.param(after_id, 'uuid')})"
            )
        self.size = str(int(page.size))
        limit = sql.param(page.fetch_limit, "int")
        # Numbered after the limit, so the numbering sorts only the page.
        self.fetched = (
            f"(select x.*, row_number() over (order by x.k {direction}, x.id {direction}) as n"
            f" from (select {star}.*, {key} as k, {key}::text as sort_key from {table}"
            f" where {where} order by {key} {direction}, {tie} {direction} limit {limit}) x)"
        )
        self.count = count or f"(select count(*) from {count_table} where {count_where})"
        more = f"count(*) > {self.size}"
        came_from_cursor = "true" if page.cursor is not None else "false"
        self.has_next = came_from_cursor if page.backward else more
        self.has_previous = more if page.backward else came_from_cursor
        self.fingerprint = (
            None
            if page.made_under is None
            else CursorCheck(
                f"{fp()} = {sql.param(page.made_under, 'text')}",
                "before" if page.backward else "after",
            )
        )

    def cursor(self, row: str) -> str:
        return cursor_sql(self._fp(), row)


# What `{key}::text` writes for the key types of the lists whose cursors are checked in
# the statement (a page under each of many objects).
_KEY_TEXT = {
    "date": re.compile(r"-?infinity|[0-9]{4}-[0-9]{2}-[0-9]{2}"),
    "int": re.compile(r"-?[0-9]{1,9}"),
    "numeric": re.compile(r"-?Infinity|NaN|-?[0-9]+(\.[0-9]+)?"),
}


def _key_fits(sort_key: str, key_type: str) -> bool:
    pattern = _KEY_TEXT.get(key_type)
    return pattern is None or pattern.fullmatch(sort_key) is not None


class _Renumbered:
    """db/ SQL with its $1..$n read from this statement's parameters, each added once
    and only when used: PostgreSQL refuses parameters nothing reads."""

    def __init__(self, sql: SqlBuilder, args: tuple[object, ...], types: tuple[str, ...]) -> None:
        self._sql, self._args, self._types = sql, args, types
        self._placeholders: dict[int, str] = {}

    def _placeholder(self, number: int) -> str:
        if number not in self._placeholders:
            value, sql_type = self._args[number - 1], self._types[number - 1]
            self._placeholders[number] = self._sql.param(value, sql_type)
        return self._placeholders[number]

    def __call__(self, template: str) -> str:
        return re.sub(
            r"\$([0-9]+)(::[a-z_\[\]]+)?", lambda m: self._placeholder(int(m[1])), template
        )


# The SQL types of the shared round filter's eight parameters, in order, then as of.
FILTER_TYPES = (
    "deal_status[]",
    "deal_stage[]",
    "round_type[]",
    "uuid",
    "uuid",
    "date",
    "date",
    "numeric",
    "timestamptz",
)


def rounds(sql: SqlBuilder, args: RoundsArgs) -> KeysetSource:
    """Query.rounds, as db/rounds.py list_rounds and count_rounds read it."""
    f = args.filter
    renumbered = _Renumbered(sql, (*filter_args(f), f.as_of), FILTER_TYPES)
    where, table = renumbered(filter_sql(f, 9)), renumbered(rounds_source(f, 9))
    key = SORT_KEYS[(args.order.field, args.order.direction)]
    as_of = None if f.as_of is None else renumbered("$9")
    fp = functools.cache(lambda: sql.param(fingerprint(args.scope), "text"))
    return KeysetSource(
        sql,
        args.page,
        table=table,
        star="r",
        where=where,
        key=key.expression,
        key_type=key.sql_type,
        descending=args.order.direction == "DESC",
        count_table=table,
        count_where=where,
        fp=fp,
        as_of=as_of,
        count=f"({renumbered(count_sql(f))})",
    )


_SENTINEL = uuid.UUID(int=0)


def _scope_sql(scope_of: Callable[[uuid.UUID], str], parent_id: str) -> str:
    """scope_of(parent) in SQL, for a scope that holds the parent's id as text."""
    before, after = scope_of(_SENTINEL).split(str(_SENTINEL))
    return f"{literal(before)} || {parent_id}::text || {literal(after)}"


def filtered_scope_sql(scope: str, filter_of_parent: object, parent_id: str) -> str:
    """In SQL, the scope of a parent's list whose scope is "<kind>:<order>:" and a hash of
    its filter's JSON, which holds the parent's id: `scope` and `filter_of_parent` are
    those of the sentinel parent (uuid 0)."""
    filter_json = orjson.dumps(filter_of_parent, default=str).decode()
    prefix = scope.rsplit(":", 1)[0] + ":"
    before, after = filter_json.split(str(_SENTINEL))
    hashed = (
        f"encode(sha256(convert_to({literal(before)} || {parent_id}::text || {literal(after)},"
        f" 'UTF8')), 'hex')"
    )
    return f"{literal(prefix)} || {hashed}"


def _company_rounds_scope_sql(company_id: str) -> str:
    return filtered_scope_sql(
        company_rounds_scope(_SENTINEL), RoundFilter(company_id=_SENTINEL), company_id
    )


def company_rounds(sql: SqlBuilder, page: PageRequest, company: str) -> KeysetSource:
    """Organization.rounds, as db/rounds.py list_rounds_of_companies reads it."""
    key = SORT_KEYS[("ANNOUNCED_ON", "DESC")]
    where = f"r.company_id = {company}.id"
    return KeysetSource(
        sql,
        page,
        table="rounds r",
        star="r",
        where=where,
        key=key.expression,
        key_type=key.sql_type,
        descending=True,
        count_table="rounds r",
        count_where=where,
        fp=lambda: fingerprint_sql(_company_rounds_scope_sql(f"{company}.id")),
    )


def investments(sql: SqlBuilder, page: PageRequest, investor: str) -> KeysetSource:
    """Organization.investments and Person.investments, as db/participations.py
    list_investments_of_investors reads them (in investment_order's index order)."""
    where = f"o.investor_id = {investor}.id"
    return KeysetSource(
        sql,
        page,
        table="investment_order o join participations p on p.id = o.participation_id",
        star="p",
        where=where,
        key="o.round_announced_key",
        key_type="date",
        descending=True,
        count_table="investment_order o",
        count_where=where,
        # Kept by investment_order's triggers (migration 0133): one row, not a count.
        count=(
            f"coalesce((select c.n from investment_counts c where c.investor_id = {investor}.id),"
            " 0)"
        ),
        fp=lambda: fingerprint_sql(_scope_sql(investments_scope, f"{investor}.id")),
        tie="o.participation_id",
    )


def co_investors(sql: SqlBuilder, page: PageRequest, investor: str) -> KeysetSource:
    """Organization.coInvestors and Person.coInvestors, as db/co_investors.py
    list_co_investors reads them."""
    shared = f"({shared_rounds_sql(f'{investor}.id')}) s"
    return KeysetSource(
        sql,
        page,
        table=shared,
        star="s",
        where="true",
        key="s.shared_rounds",
        key_type="int",
        descending=True,
        count_table=shared,
        count_where="true",
        fp=lambda: fingerprint_sql(_scope_sql(co_investors_scope, f"{investor}.id")),
    )


@dataclass(frozen=True, slots=True)
class StatsArgs:
    """Query.roundStats: the checked filter (with its time), dimensions and period."""

    filter: RoundFilter
    group_by: tuple[Dimension, ...]
    period: Period


@dataclass(frozen=True, slots=True)
class Rows:
    """Rows a statement of db/ gives, numbered `n` in its order; they are an error when
    `failed_if` holds of them all (an aggregate over `{c}`)."""

    sql: str
    failed_if: str | None = None
    failure: DealgraphError | None = None
    # JIT would take longer to compile the statement than to run it (db/stats.py).
    without_jit: bool = False


def round_stats(sql: SqlBuilder, args: StatsArgs) -> Rows:
    """Query.roundStats' buckets, as db/stats.py round_stats reads them; each row holds the
    period's precision too."""
    statement, values = round_stats_statement(args.filter, args.group_by, args.period)
    types = FILTER_TYPES[: len(values) - 1 - (2 if "PERIOD" in args.group_by else 0)]
    renumbered = _Renumbered(sql, values, (*types, *STATS_TYPES))
    precision = sql.param(args.period, "text")
    return Rows(
        f"(select q.*, {precision} as precision, row_number() over () as n"
        f" from ({renumbered(statement)}) q)",
        failed_if=f"count(*) > {MAX_BUCKETS} or coalesce(bool_or({{c}}.over), false)",
        failure=too_many_buckets("groupBy"),
        without_jit=True,
    )


class PrefetchedSource:
    def __init__(self, sql: SqlBuilder, page: Prefetched) -> None:
        self.as_of = None
        self.fingerprint = None
        self.backward = False
        self.size = str(len(page.ids))
        self.fetched = (
            f"(select t.*, x.n, x.cursor from unnest({sql.param(page.ids, 'uuid[]')},"
            f" {sql.param(page.cursors, 'text[]')}) with ordinality as x (id, cursor, n)"
            f" join {page.table} t on t.id = x.id)"
        )
        self.has_next = "true" if page.has_next else "false"
        self.has_previous = "true" if page.has_previous else "false"
        self.count = "null" if page.count is None else str(int(page.count))

    def cursor(self, row: str) -> str:
        return f"{row}.cursor"


def prefetched(sql: SqlBuilder, page: Prefetched) -> PrefetchedSource:
    return PrefetchedSource(sql, page)

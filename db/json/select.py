"""Answers built as JSON inside PostgreSQL, in one statement, for common read shapes.

A `Selection` says which fields of which entities to put under which names, in order;
`render_rounds` and `render_organization` turn it into one SQL statement whose single
text value is the answer. Nothing here knows GraphQL: the faces plan a selection (see
schema/fastpath.py) and send the bytes as they come. Names in a selection are spliced
into the SQL as JSON keys, so only plain identifiers are accepted.

The JSON must be exactly what the ordinary path gives: the same ids (public_id), enum
names, dates as ISO text, decimals as strings, keys in the order asked, participations
leads first then by amount, and the same keyset cursors (db/infra/pagination.py).
"""

import functools
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from db.infra.pagination import PageRequest, fingerprint
from db.infra.types import Executor
from db.participations import participation_order
from db.rounds import FILTER_SQL, SORT_KEYS, RoundFilter, RoundOrder, filter_args

_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")

RoundScalar = Literal[
    "id", "roundType", "reportedLabel", "status", "stage", "announcedOn", "closedOn"
]
OrganizationScalar = Literal["id", "slug", "name", "description", "website", "countryCode", "city"]
ParticipationScalar = Literal["id", "isLead", "status", "stage"]
InvestorScalar = Literal["id", "slug", "name"]
MoneyColumn = Literal["amount", "targetAmount", "preMoneyValuation", "postMoneyValuation"]
DateColumn = Literal["announced", "expectedClose", "founded"]


@dataclass(frozen=True, slots=True)
class Const:
    """A fixed value: __typename."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class Scalar:
    name: str
    field: str


@dataclass(frozen=True, slots=True)
class MoneyAmount:
    """`low` or `high`: {amount, currency} in the order asked."""

    name: str
    bound: Literal["low", "high"]
    fields: tuple[Scalar | Const, ...]


@dataclass(frozen=True, slots=True)
class Money:
    name: str
    column: MoneyColumn
    fields: tuple["Scalar | Const | MoneyAmount", ...]


@dataclass(frozen=True, slots=True)
class FuzzyDate:
    """A date with its precision: {date, precision, text} in the order asked."""

    name: str
    column: DateColumn
    fields: tuple[Scalar | Const, ...]


@dataclass(frozen=True, slots=True)
class Nested:
    """A related object or list: company, participations, investor, round."""

    name: str
    relation: Literal["company", "participations", "investor", "round"]
    fields: "Selection"


@dataclass(frozen=True, slots=True)
class EdgeNode:
    name: str
    fields: "Selection"


@dataclass(frozen=True, slots=True)
class Edges:
    """`edges`: its parts (cursor as a Scalar, __typename, the node) in the order asked."""

    name: str
    fields: tuple["Const | Scalar | EdgeNode", ...]


@dataclass(frozen=True, slots=True)
class RoundsPage:
    """A connection of rounds: its parts in the order asked."""

    name: str
    filter: RoundFilter
    order: RoundOrder
    page: PageRequest
    scope: str
    parts: tuple["Const | Scalar | Edges | PageInfo", ...]


@dataclass(frozen=True, slots=True)
class InvestmentsPage:
    """An investor's participations, latest round first (Organization.investments)."""

    name: str
    page: PageRequest
    parts: tuple["Const | Scalar | Edges | PageInfo", ...]


@dataclass(frozen=True, slots=True)
class PageInfo:
    name: str
    fields: tuple[Scalar | Const, ...]


Field = Const | Scalar | Money | FuzzyDate | Nested | RoundsPage | InvestmentsPage
Selection = tuple[Field, ...]

_MONEY_COLUMNS = {
    "amount": "amount",
    "targetAmount": "target_amount",
    "preMoneyValuation": "pre_money_valuation",
    "postMoneyValuation": "post_money_valuation",
}
_ROUND_SCALARS = {
    "id": "public_id('rnd', {t}.id)",
    "roundType": "{t}.round_type",
    "reportedLabel": "{t}.reported_label",
    "status": "{t}.status",
    "stage": "{t}.stage",
    "announcedOn": "{t}.announced_on",
    "closedOn": "{t}.closed_on",
}
_DATE_COLUMNS = {
    "announced": ("announced_on", "announced_precision"),
    "expectedClose": ("expected_close_on", "expected_close_precision"),
    "founded": ("founded_on", "founded_precision"),
}
_ORGANIZATION_SCALARS = {
    "id": "public_id('org', {t}.id)",
    "slug": "{t}.slug",
    "name": "{t}.name",
    "categories": "{t}.categories",
    "investorTypes": "{t}.investor_types",
    # In the order db/organizations.py reads them.
    "aliases": "coalesce((select json_agg(a.alias order by a.alias) from organization_aliases a"
    " where a.organization_id = {t}.id), '[]'::json)",
    "description": "{t}.description",
    "website": "{t}.website",
    "countryCode": "{t}.country_code",
    "city": "{t}.city",
}
_PARTICIPATION_SCALARS = {
    "id": "public_id('par', {t}.id)",
    "isLead": "{t}.is_lead",
    "status": "{t}.status",
    "stage": "{t}.stage",
}
_INVESTOR_SCALARS = {
    "id": "coalesce(public_id('org', {t}_o.id), public_id('per', {t}_p.id))",
    "slug": "coalesce({t}_o.slug, {t}_p.slug)",
    "name": "coalesce({t}_o.name, {t}_p.name)",
}


class UnsupportedSelection(ValueError):
    """The selection asks for something this path does not render."""


class SqlBuilder:
    """Builds one statement: positional parameters and fresh table aliases."""

    def __init__(self) -> None:
        self.args: list[object] = []
        self._aliases = 0

    def param(self, value: object, sql_type: str) -> str:
        self.args.append(value)
        return f"${len(self.args)}::{sql_type}"

    def alias(self, prefix: str) -> str:
        self._aliases += 1
        return f"{prefix}{self._aliases}"


def _key(name: str) -> str:
    if not _NAME.match(name):
        raise UnsupportedSelection(f"{name!r} is not a plain name")
    return f"'{name}'"


def json_object_sql(pairs: list[tuple[str, str]]) -> str:
    if not pairs:
        return "json_build_object()"
    return "json_build_object(" + ", ".join(f"{_key(k)}, {v}" for k, v in pairs) + ")"


def _scalars(
    fields: tuple[Field, ...], columns: dict[str, str], table: str
) -> list[tuple[str, str]]:
    pairs = []
    for f in fields:
        if isinstance(f, Const):
            pairs.append((f.name, f"'{f.value}'"))
        elif isinstance(f, Scalar) and f.field in columns:
            pairs.append((f.name, columns[f.field].format(t=table)))
        else:
            raise UnsupportedSelection(f"{f!r}")
    return pairs


def _money(m: Money, table: str) -> str:
    column = f"({table}.{_MONEY_COLUMNS[m.column]})"
    pairs = []
    for f in m.fields:
        if isinstance(f, Const):
            pairs.append((f.name, f"'{f.value}'"))
        elif isinstance(f, Scalar) and f.field == "qualifier":
            pairs.append((f.name, f"{column}.qualifier"))
        elif isinstance(f, Scalar) and f.field == "usd":
            pairs.append((f.name, f"{column}.usd::text"))
        elif isinstance(f, MoneyAmount):
            inner = []
            for part in f.fields:
                if isinstance(part, Const):
                    inner.append((part.name, f"'{part.value}'"))
                elif part.field == "amount":
                    inner.append((part.name, f"{column}.{f.bound}::text"))
                elif part.field == "currency":
                    inner.append((part.name, f"{column}.currency"))
                else:
                    raise UnsupportedSelection(part.field)
            pairs.append(
                (
                    f.name,
                    f"case when {column}.{f.bound} is null then null"
                    f" else {json_object_sql(inner)} end",
                )
            )
        else:
            raise UnsupportedSelection(f"{f!r}")
    return f"case when {column}.qualifier is null then null else {json_object_sql(pairs)} end"


def fuzzy_date_text(day: str, precision: str) -> str:
    """The period as people write it (db/rows.py FuzzyDate.text): "2026-Q1", "2026-03"."""
    year = f"extract(year from {day})::int::text"
    month = f"lpad(extract(month from {day})::int::text, 2, '0')"
    return (
        f"case {precision} when 'YEAR' then {year}"
        f" when 'QUARTER' then {year} || '-Q' || extract(quarter from {day})::int::text"
        f" when 'MONTH' then {year} || '-' || {month} else {day}::text end"
    )


def _fuzzy_date(d: FuzzyDate, table: str) -> str:
    day_column, precision_column = _DATE_COLUMNS[d.column]
    day, precision = f"{table}.{day_column}", f"{table}.{precision_column}"
    parts = {"date": day, "precision": precision, "text": fuzzy_date_text(day, precision)}
    pairs = []
    for f in d.fields:
        if isinstance(f, Const):
            pairs.append((f.name, f"'{f.value}'"))
        elif f.field in parts:
            pairs.append((f.name, parts[f.field]))
        else:
            raise UnsupportedSelection(f.field)
    return f"case when {day} is null then null else {json_object_sql(pairs)} end"


def _round_node(sql: SqlBuilder, fields: Selection, table: str) -> str:
    pairs: list[tuple[str, str]] = []
    for f in fields:
        if isinstance(f, Money):
            pairs.append((f.name, _money(f, table)))
        elif isinstance(f, FuzzyDate) and f.column != "founded":
            pairs.append((f.name, _fuzzy_date(f, table)))
        elif isinstance(f, Nested) and f.relation == "company":
            o = sql.alias("o")
            pairs.append(
                (
                    f.name,
                    f"(select {_organization_node(sql, f.fields, o)} from organizations {o}"
                    f" where {o}.id = {table}.company_id)",
                )
            )
        elif isinstance(f, Nested) and f.relation == "participations":
            p = sql.alias("p")
            node = _participation_node(sql, f.fields, p)
            pairs.append(
                (
                    f.name,
                    f"coalesce((select json_agg({node} order by {participation_order(p)})"
                    f" from participations {p} where {p}.round_id = {table}.id), '[]'::json)",
                )
            )
        else:
            pairs += _scalars((f,), _ROUND_SCALARS, table)
    return json_object_sql(pairs)


def _participation_node(sql: SqlBuilder, fields: Selection, table: str) -> str:
    pairs: list[tuple[str, str]] = []
    for f in fields:
        if isinstance(f, Money) and f.column == "amount":
            pairs.append((f.name, _money(f, table)))
        elif isinstance(f, Nested) and f.relation == "investor":
            i = sql.alias("i")
            investor: list[tuple[str, str]] = []
            for part in f.fields:
                if isinstance(part, Const) and part.value == "Investor":
                    # __typename: the concrete type behind the interface.
                    investor.append(
                        (
                            part.name,
                            f"case when {i}_o.id is null then 'Person' else 'Organization' end",
                        )
                    )
                else:
                    investor += _scalars((part,), _INVESTOR_SCALARS, i)
            pairs.append(
                (
                    f.name,
                    f"(select {json_object_sql(investor)} from (select 1) {i}"
                    f" left join organizations {i}_o on {i}_o.id = {table}.investor_organization_id"
                    f" left join people {i}_p on {i}_p.id = {table}.investor_person_id)",
                )
            )
        elif isinstance(f, Nested) and f.relation == "round":
            r = sql.alias("r")
            pairs.append(
                (
                    f.name,
                    f"(select {_round_node(sql, f.fields, r)} from rounds {r}"
                    f" where {r}.id = {table}.round_id)",
                )
            )
        else:
            pairs += _scalars((f,), _PARTICIPATION_SCALARS, table)
    return json_object_sql(pairs)


def _organization_node(sql: SqlBuilder, fields: Selection, table: str) -> str:
    pairs: list[tuple[str, str]] = []
    for f in fields:
        if isinstance(f, RoundsPage):
            pairs.append((f.name, _rounds_page(sql, f, company=f"{table}.id")))
        elif isinstance(f, InvestmentsPage):
            source = InvestmentsSource(sql, f.page, investor=f"{table}.id")
            pairs.append(
                (f.name, _connection(sql, f.parts, source, _participation_node, None, f.page))
            )
        elif isinstance(f, FuzzyDate) and f.column == "founded":
            pairs.append((f.name, _fuzzy_date(f, table)))
        else:
            pairs += _scalars((f,), _ORGANIZATION_SCALARS, table)
    return json_object_sql(pairs)


def cursor_sql(fp: str, table: str) -> str:
    # base64url, unpadded, of the JSON list db/infra/pagination.py encodes:
    # ["fp","key","hex","signature"], signed by cursor_signature() (migration 0020).
    id_hex = f"replace({table}.id::text, '-', '')"
    signature = f"cursor_signature({fp} || ':' || {id_hex} || ':' || {table}.sort_key)"
    text = (
        f"""'["' || {fp} || '","' || {table}.sort_key || '","'"""
        f""" || {id_hex} || '","' || {signature} || '"]'"""
    )
    return (
        f"rtrim(translate(replace(encode(convert_to({text}, 'UTF8'), 'base64'), E'\\n', ''),"
        f" '+/', '-_'), '=')"
    )


class PageSource:
    """The rounds of one page, for one statement. Each part adds its parameters only
    when first used: PostgreSQL refuses parameters that nothing reads."""

    def __init__(
        self,
        sql: SqlBuilder,
        round_filter: RoundFilter,
        order: RoundOrder,
        page: PageRequest,
        company: str | None,
    ) -> None:
        if page.backward:
            raise UnsupportedSelection("backward pages")
        if round_filter.as_of is not None:
            raise UnsupportedSelection("asOf")
        self._sql, self._filter, self._order, self._page = sql, round_filter, order, page
        self._company = company

    @functools.cached_property
    def where(self) -> str:
        """The filter alone, for counts."""
        # The shared filter reads $1..$8: renumber its placeholders to this statement's.
        placeholders = [
            self._sql.param(a, t)
            for a, t in zip(filter_args(self._filter), FILTER_TYPES, strict=True)
        ]
        where = re.sub(
            r"\$([1-8])(::[a-z_\[\]]+)?", lambda m: placeholders[int(m[1]) - 1], FILTER_SQL
        )
        return where if self._company is None else f"{where} and r.company_id = {self._company}"

    @functools.cached_property
    def count(self) -> str:
        return f"(select count(*) from rounds r where {self.where})"

    @functools.cached_property
    def rows(self) -> str:
        """The page and one row more, numbered from 1 in list order as `ord`."""
        sql, page = self._sql, self._page
        key = SORT_KEYS[(self._order.field, self._order.direction)]
        direction, comparison = page.order_sql(descending=self._order.direction == "DESC")
        where = self.where
        sort_key, after_id = page.cursor_args
        if sort_key is not None:
            where += (
                f" and ({key.expression}, r.id) {comparison}"
                f" ({sql.param(sort_key, 'text')}::{key.sql_type}, {sql.param(after_id, 'uuid')})"
            )
        by = f"{key.expression} {direction}, r.id {direction}"
        # Numbered after the limit, so the numbering sorts only the page.
        return (
            f"(select r.*, row_number() over (order by {by}) as ord from ("
            f"select r.*, {key.expression}::text as sort_key from rounds r where {where}"
            f" order by {by} limit {sql.param(page.fetch_limit, 'int')}) r)"
        )

    @functools.cached_property
    def size(self) -> str:
        return self._sql.param(self._page.size, "int")


class InvestmentsSource:
    """The participations of the first page of an investor's investments, in the order of
    db/participations.py (latest announced round first, undated last), for one statement."""

    def __init__(self, sql: SqlBuilder, page: PageRequest, investor: str) -> None:
        if page.backward or page.cursor is not None:
            raise UnsupportedSelection("paging investments")
        self._sql, self._page = sql, page
        self._investor = (
            f"(p.investor_organization_id = {investor} or p.investor_person_id = {investor})"
        )

    @functools.cached_property
    def count(self) -> str:
        return f"(select count(*) from participations p where {self._investor})"

    @functools.cached_property
    def rows(self) -> str:
        key = "coalesce(r.announced_on, '-infinity'::date)"
        limit = self._sql.param(self._page.fetch_limit, "int")
        return (
            "(select p.*, row_number() over (order by p.sort_date desc, p.id desc) as ord from ("
            f"select p.*, {key} as sort_date from participations p"
            f" join rounds r on r.id = p.round_id where {self._investor}"
            f" order by {key} desc, p.id desc limit {limit}) p)"
        )

    @functools.cached_property
    def size(self) -> str:
        return self._sql.param(self._page.size, "int")


class _Source(Protocol):
    """One page of a connection's rows for one statement: `rows` is the page and one row
    more, numbered from 1 in list order as `ord`."""

    @property
    def count(self) -> str: ...
    @property
    def rows(self) -> str: ...
    @property
    def size(self) -> str: ...


def _rounds_page(sql: SqlBuilder, c: RoundsPage, *, company: str | None = None) -> str:
    """A page of rounds under a filter, with the parts of the connection asked for."""
    source = PageSource(sql, c.filter, c.order, c.page, company)
    # Only when a cursor is rendered: PostgreSQL refuses a parameter nothing reads.
    fp = functools.cache(lambda: sql.param(fingerprint(c.scope), "text"))
    return _connection(sql, c.parts, source, _round_node, fp, c.page)


def _connection(
    sql: SqlBuilder,
    parts: tuple["Const | Scalar | Edges | PageInfo", ...],
    source: _Source,
    node: Callable[[SqlBuilder, Selection, str], str],
    fp: Callable[[], str] | None,
    page: PageRequest,
) -> str:
    """A connection's parts in the order asked; `fp`, the cursors' fingerprint, is None
    where cursors are not rendered."""
    rows = sql.alias("row")
    pairs: list[tuple[str, str]] = []
    for part in parts:
        if isinstance(part, Const):
            pairs.append((part.name, f"'{part.value}'"))
        elif isinstance(part, Scalar) and part.field == "totalCount":
            pairs.append((part.name, source.count))
        elif isinstance(part, Edges):
            edge: list[tuple[str, str]] = []
            for f in part.fields:
                if isinstance(f, EdgeNode):
                    edge.append((f.name, node(sql, f.fields, rows)))
                elif isinstance(f, Const):
                    edge.append((f.name, f"'{f.value}'"))
                elif f.field == "cursor" and fp is not None:
                    edge.append((f.name, cursor_sql(fp(), rows)))
                else:
                    raise UnsupportedSelection(f.field)
            pairs.append(
                (
                    part.name,
                    f"coalesce((select json_agg({json_object_sql(edge)} order by {rows}.ord)"
                    f" from {source.rows} {rows} where {rows}.ord <= {source.size}), '[]'::json)",
                )
            )
        elif isinstance(part, PageInfo):
            pairs.append((part.name, _page_info(sql, part, source, fp, page)))
        else:
            raise UnsupportedSelection(f"{part!r}")
    return json_object_sql(pairs)


def _page_info(
    sql: SqlBuilder,
    part: "PageInfo",
    source: _Source,
    fp: Callable[[], str] | None,
    page: PageRequest,
) -> str:
    p = sql.alias("info")
    info: list[tuple[str, str]] = []
    for f in part.fields:
        if isinstance(f, Const):
            info.append((f.name, f"'{f.value}'"))
        elif f.field == "hasNextPage":
            info.append((f.name, f"(select count(*) > {source.size} from {source.rows} {p})"))
        elif f.field == "hasPreviousPage":
            info.append((f.name, "true" if page.cursor is not None else "false"))
        elif fp is None:
            raise UnsupportedSelection(f.field)
        elif f.field == "startCursor":
            info.append(
                (f.name, f"(select {cursor_sql(fp(), p)} from {source.rows} {p} where {p}.ord = 1)")
            )
        elif f.field == "endCursor":
            info.append(
                (
                    f.name,
                    f"(select {cursor_sql(fp(), p)} from {source.rows} {p}"
                    f" where {p}.ord <= {source.size} order by {p}.ord desc limit 1)",
                )
            )
        else:
            raise UnsupportedSelection(f.field)
    return json_object_sql(info)


# The SQL types of the shared round filter's eight parameters, in order.
FILTER_TYPES = (
    "deal_status[]",
    "deal_stage[]",
    "round_type[]",
    "uuid",
    "uuid",
    "date",
    "date",
    "numeric",
)


async def render_rounds(db: Executor, name: str, connection: RoundsPage) -> bytes:
    """`{"<name>": <connection>}` for Query.rounds."""
    sql = SqlBuilder()
    body = json_object_sql([(name, _rounds_page(sql, connection))])
    text: str = await db.fetchval(f"select ({body})::text", *sql.args)
    return text.encode()


async def render_organization(
    db: Executor,
    name: str,
    fields: Selection,
    *,
    org_id: uuid.UUID | None = None,
    slug: str | None = None,
) -> bytes:
    """`{"<name>": <organization> | null}` for Query.organization(id | slug)."""
    sql = SqlBuilder()
    match = sql.param(org_id, "uuid") if org_id is not None else sql.param(slug, "text")
    column = "id" if org_id is not None else "slug"
    node = _organization_node(sql, fields, "org")
    body = json_object_sql(
        [(name, f"(select {node} from organizations org where org.{column} = {match})")]
    )
    text: str = await db.fetchval(f"select ({body})::text", *sql.args)
    return text.encode()

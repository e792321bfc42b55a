"""Reads compiled from the description (db/json/entities.py) into one SQL statement
whose single text value is the answer's JSON.

A selection is a tree of `Field`s: the name to answer under, the field of the
description, its arguments as the description's kind takes them (a PageRequest, a
`Key`...), and for an object the fields asked of it per concrete type (an interface
lists one entry per type it may be). Nothing here knows GraphQL or REST:
schema/fastpath.py plans a tree from a GraphQL document, and api/rest/views.py declares
one for each REST representation (a page of a connection as `nodes` and `nextCursor`;
objects by id as the `...ById` fields).

The JSON is exactly what the resolvers give: the same ids, enum names, dates, decimals
as strings, keys in the order asked, lists in the order of the db/ functions, the same
cursors; and the same spelling, since the text PostgreSQL builds is read back and
written again by orjson, as the resolvers' answers are.
"""

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import orjson

from db.infra.pagination import another_scope
from db.infra.types import Executor
from db.json.entities import (
    ENTITIES,
    ById,
    Connection,
    Either,
    Embedded,
    Expr,
    Kind,
    Listed,
    Lookup,
    Many,
    One,
)
from db.json.sources import Source
from db.json.sql import SqlBuilder, UnsupportedSelection, json_object_sql, literal
from db.stats import fetch_without_jit

# PostgreSQL passes a function at most 100 arguments: 50 keys and their values.
_MAX_KEYS = 50


@dataclass(frozen=True, slots=True)
class Field:
    key: str
    name: str
    args: object = None
    selections: Mapping[str, tuple["Field", ...]] | None = None
    # The caller's, to place an error on the field (Failure.where).
    where: object = None

    def of(self, type_name: str) -> tuple["Field", ...]:
        if self.selections is None or type_name not in self.selections:
            raise UnsupportedSelection(f"{self.name} has no selection on {type_name}")
        return self.selections[type_name]


@dataclass(frozen=True, slots=True)
class Failure:
    """A field whose arguments the resolvers refuse: answered with its error wherever it
    is met (`where` is the caller's, to place the error)."""

    message: str
    code: str
    where: object = None


# The key a failed field's value holds: no response name can be spelled so.
FAILED = "!failed"


@dataclass(frozen=True, slots=True)
class Answer:
    """`data` as JSON values, where each failed field holds {FAILED: its failure's
    place in `failures`}."""

    data: object
    failures: list[Failure]


@dataclass(frozen=True, slots=True)
class Key:
    """A root lookup: the object of `type` whose `column` is `value`, as of a moment."""

    type: str
    column: str
    value: object
    sql_type: str
    as_of: datetime.datetime | None = None


class _Compiler:
    def __init__(self, *, counted: bool = False) -> None:
        self.sql = SqlBuilder()
        self.failures: list[Failure] = []
        self.without_jit = False
        # When counted: how many JSON objects each list of nodes holds (a REST page's
        # price is its objects, api/guard/answer_size.py), so the answer is not parsed
        # to count them.
        self.counted: list[str] | None = [] if counted else None

    def failed(self, failure: Failure) -> str:
        self.failures.append(failure)
        return f"json_build_object({literal(FAILED)}, {len(self.failures) - 1})"

    def object(
        self, type_name: str, fields: tuple[Field, ...], env: dict[str, str], as_of: str | None
    ) -> str:
        entity = ENTITIES.get(type_name)
        if entity is None:
            raise UnsupportedSelection(type_name)
        if entity.timeless:
            as_of = None
        if len(fields) > _MAX_KEYS:
            raise UnsupportedSelection(f"more than {_MAX_KEYS} fields on one object")
        pairs = []
        for f in fields:
            if f.name == "__typename":
                pairs.append((f.key, literal(type_name)))
                continue
            kind = entity.fields.get(f.name)
            if kind is None:
                raise UnsupportedSelection(f"{type_name}.{f.name}")
            if isinstance(f.args, Failure):
                pairs.append((f.key, self.failed(f.args)))
                continue
            pairs.append((f.key, self.field(kind, f, env, as_of)))
        return json_object_sql(pairs)

    def field(self, kind: Kind, f: Field, env: dict[str, str], as_of: str | None) -> str:
        sql = self.sql
        match kind:
            case Expr(template):
                return template.format_map(env)
            case Embedded(type_name, bindings):
                inner = {name: value.format_map(env) for name, value in bindings.items()}
                body = self.object(type_name, f.of(type_name), inner, as_of)
                null_if = ENTITIES[type_name].null_if
                if null_if is None:
                    return body
                return f"case when {null_if.format_map(inner)} then null else {body} end"
            case One():
                return self.one(kind, f, env)
            case Either(options):
                cases = " ".join(
                    f"when {when.format_map(env)} then {self.one(one, f, env)}"
                    for when, one in options
                )
                return f"case {cases} end"
            case Many(type_name, order=order):
                c = sql.alias("c")
                related = self.many_rows(kind, c, env, as_of)
                node = self.object(type_name, f.of(type_name), {"t": c}, as_of)
                order = order.format_map({**env, "c": c, "as_of": as_of or ""})
                return f"coalesce((select json_agg({node} order by {order}) {related}), '[]'::json)"
            case Connection(type_name, make_source, node, edge):
                source = make_source(sql, f.args, env.get("t", ""))
                page = self.connection(type_name, source, f, node, edge)
                if source.fingerprint is None:
                    return page
                # A cursor is good under the object whose page made it, only.
                failure = Failure(*_another_scope(source.fingerprint.field), f.where)
                return (
                    f"case when {source.fingerprint.sql} then {page}"
                    f" else {self.failed(failure)} end"
                )
            case Listed(type_name, make_rows):
                rows, c = make_rows(sql, f.args), sql.alias("c")
                self.without_jit |= rows.without_jit
                node = self.object(type_name, f.of(type_name), {"t": c}, None)
                listed = f"coalesce(json_agg({node} order by {c}.n), '[]'::json)"
                if rows.failed_if is not None:
                    assert rows.failure is not None
                    failed = self.failed(Failure(rows.failure.message, rows.failure.code, f.where))
                    condition = rows.failed_if.format_map({"c": c})
                    listed = f"case when {condition} then {failed} else {listed} end"
                return f"(select {listed} from {rows.sql} {c})"
            case Lookup():
                return self.lookup(f)
            case ById(table, type_name, node_kind):
                assert isinstance(f.args, list)
                c = sql.alias("c")
                if node_kind is None:
                    assert type_name is not None
                    node = self.object(type_name, f.of(type_name), {"t": c}, None)
                else:
                    node = self.field(node_kind, f, {"t": c}, None)
                return (
                    f"(select coalesce(json_agg(case when {c}.id is null then null else {node} end"
                    f" order by k.n), '[]'::json) from unnest({sql.param(f.args, 'uuid[]')})"
                    f" with ordinality k (id, n) left join {table} {c} on {c}.id = k.id)"
                )
        raise UnsupportedSelection(f.name)

    def many_rows(self, kind: Many, c: str, env: dict[str, str], as_of: str | None) -> str:
        """`from ... where ...` of a Many's rows, aliased `c`."""
        names = {**env, "c": c, "as_of": as_of or ""}
        table = kind.table
        if as_of is not None and kind.as_of_table is not None:
            table = kind.as_of_table
        where = kind.on.format_map(names)
        if as_of is not None and kind.as_of_on is not None:
            where += f" and {kind.as_of_on.format_map(names)}"
        return f"from {table.format_map(names)} where {where}"

    def objects(
        self, type_name: str, fields: tuple[Field, ...], env: dict[str, str], as_of: str | None
    ) -> str:
        """How many JSON objects `object()` builds of these fields: itself and those below."""
        entity = ENTITIES[type_name]
        if entity.timeless:
            as_of = None
        terms = ["1"]
        for f in fields:
            match entity.fields.get(f.name):
                case Expr() | None:
                    continue
                case Embedded(inner_type, bindings):
                    inner = {name: value.format_map(env) for name, value in bindings.items()}
                    count = self.objects(inner_type, f.of(inner_type), inner, as_of)
                    null_if = ENTITIES[inner_type].null_if
                    if null_if is not None:
                        count = f"case when {null_if.format_map(inner)} then 0 else {count} end"
                    terms.append(count)
                case One() as one:
                    terms.append(self.one_objects(one, f, env))
                case Either(options):
                    cases = " ".join(
                        f"when {when.format_map(env)} then {self.one_objects(one, f, env)}"
                        for when, one in options
                    )
                    terms.append(f"coalesce(case {cases} end, 0)")
                case Many() as many:
                    c = self.sql.alias("c")
                    count = self.objects(many.type, f.of(many.type), {"t": c}, as_of)
                    related = self.many_rows(many, c, env, as_of)
                    terms.append(f"coalesce((select sum({count}) {related}), 0)")
                case _:
                    raise UnsupportedSelection(f"objects of {type_name}.{f.name}")
        return f"({' + '.join(terms)})"

    def one_objects(self, kind: One, f: Field, env: dict[str, str]) -> str:
        c = self.sql.alias("c")
        names = {**env, "c": c}
        count = self.objects(kind.type, f.of(kind.type), {"t": c}, None)
        if kind.fk is not None and count == "(1)":
            return f"({{t}}.{kind.fk} is not null)::int".format_map(env)
        return (
            f"coalesce((select {count} from {kind.table.format_map(names)}"
            f" where {kind.on.format_map(names)}), 0)"
        )

    def one(self, kind: One, f: Field, env: dict[str, str]) -> str:
        c = self.sql.alias("c")
        names = {**env, "c": c}
        node = self.object(kind.type, f.of(kind.type), {"t": c}, None)
        return (
            f"(select {node} from {kind.table.format_map(names)} where {kind.on.format_map(names)})"
        )

    def lookup(self, f: Field) -> str:
        key = f.args
        assert isinstance(key, Key)
        return self.keyed(key, lambda env, as_of: self.object(key.type, f.of(key.type), env, as_of))

    def keyed(self, key: Key, build: Callable[[dict[str, str], str | None], str]) -> str:
        """What `build` makes of the row `key` names (null when there is none)."""
        entity = ENTITIES[key.type]
        c = self.sql.alias("c")
        as_of = None if key.as_of is None else self.sql.param(key.as_of, "timestamptz")
        table = entity.table if as_of is None else entity.as_of_table
        if table is None:
            raise UnsupportedSelection(f"{key.type} by {key.column}")
        table = table.format_map({"as_of": as_of or ""})
        value = build({"t": c}, as_of)
        equals = self.sql.param(key.value, key.sql_type)
        return f"(select {value} from {table} {c} where {c}.{key.column} = {equals})"

    def connection(
        self,
        type_name: str,
        source: Source,
        f: Field,
        node_kind: Kind | None = None,
        edge_fields: Mapping[str, Kind] | None = None,
    ) -> str:
        x = self.sql.alias("x")
        order = f"{x}.n desc" if source.backward else f"{x}.n"
        reverse = f"{x}.n" if source.backward else f"{x}.n desc"
        in_page = f"{x}.n <= {source.size}"
        connection, *_ = (f.selections or {}).values()
        pairs = []
        for part in connection:
            match part.name:
                case "__typename":
                    pairs.append((part.key, literal(f"{type_name}Connection")))
                case "totalCount":
                    pairs.append((part.key, source.count))
                case "edges":
                    edge = []
                    for g in _only(part):
                        match g.name:
                            case "__typename":
                                edge.append((g.key, literal(f"{type_name}Edge")))
                            case "cursor":
                                edge.append((g.key, source.cursor(x)))
                            case "node" if node_kind is not None:
                                edge.append(
                                    (g.key, self.field(node_kind, g, {"t": x}, source.as_of))
                                )
                            case "node":
                                node = self.object(
                                    type_name, g.of(type_name), {"t": x}, source.as_of
                                )
                                edge.append((g.key, node))
                            case name if edge_fields and name in edge_fields:
                                edge.append(
                                    (g.key, self.field(edge_fields[name], g, {"t": x}, None))
                                )
                    pairs.append(
                        (
                            part.key,
                            f"coalesce(json_agg({json_object_sql(edge)} order by {order})"
                            f" filter (where {in_page}), '[]'::json)",
                        )
                    )
                case "nodes":
                    # The page's nodes as a plain list (REST's `data`).
                    if node_kind is None:
                        nodes = self.object(type_name, part.of(type_name), {"t": x}, source.as_of)
                    else:
                        nodes = self.field(node_kind, part, {"t": x}, source.as_of)
                    pairs.append(
                        (
                            part.key,
                            f"coalesce(json_agg({nodes} order by {order})"
                            f" filter (where {in_page}), '[]'::json)",
                        )
                    )
                    if self.counted is not None:
                        count = self.objects(type_name, part.of(type_name), {"t": x}, source.as_of)
                        self.counted.append(
                            f"(select coalesce(sum({count}), 0) from {source.fetched} {x}"
                            f" where {in_page})"
                        )
                case "nextCursor":
                    # The cursor of the page's last row when another page follows, signed
                    # for that row only (the page's rows are read again for it).
                    y = self.sql.alias("y")
                    last = "1" if source.backward else source.size
                    pairs.append(
                        (
                            part.key,
                            f"case when {source.has_next} then (select {source.cursor(y)}"
                            f" from {source.fetched} {y} where {y}.n = {last}) end",
                        )
                    )
                case "pageInfo":
                    info = []
                    for g in _only(part):
                        match g.name:
                            case "__typename":
                                info.append((g.key, "'PageInfo'"))
                            case "hasNextPage":
                                info.append((g.key, source.has_next))
                            case "hasPreviousPage":
                                info.append((g.key, source.has_previous))
                            case "startCursor" | "endCursor":
                                by = order if g.name == "startCursor" else reverse
                                info.append(
                                    (
                                        g.key,
                                        f"(array_agg({source.cursor(x)} order by {by})"
                                        f" filter (where {in_page}))[1]",
                                    )
                                )
                    pairs.append((part.key, json_object_sql(info)))
        # Grouped by nothing: one row, even over no rows or with no aggregate asked.
        return f"(select {json_object_sql(pairs)} from {source.fetched} {x} group by ())"


def _only(f: Field) -> tuple[Field, ...]:
    selected, *_ = (f.selections or {}).values()
    return selected


def _another_scope(field: str) -> tuple[str, str]:
    error = another_scope(field)
    return error.message, error.code


@dataclass(frozen=True, slots=True)
class Statement:
    """The statement whose one text value is `data`, and the failures it may hold."""

    sql: str
    args: list[object]
    failures: list[Failure]
    without_jit: bool


def statement(fields: tuple[Field, ...]) -> Statement:
    """The statement for these root fields of Query."""
    compiler = _Compiler()
    body = compiler.object("Query", fields, {}, None)
    return Statement(
        f"select ({body})::text", compiler.sql.args, compiler.failures, compiler.without_jit
    )


async def answer(db: Executor, fields: tuple[Field, ...]) -> Answer:
    """`data` as the statement builds it (read back, so that orjson spells it as it
    spells the resolvers' answers)."""
    return await run(db, statement(fields))


async def run(db: Executor, s: Statement) -> Answer:
    """`data` as the statement `s` builds it, read back as `answer` reads it."""
    [text] = await _row(db, s)
    assert isinstance(text, str)
    return Answer(orjson.loads(text), s.failures)


def field_statement(field: Field, of: Key | None = None, *, counted: bool = False) -> Statement:
    """The statement whose one text value is one field's JSON: a field of Query, or of the
    object `of` names (null when there is none). When counted, a second value says how
    many JSON objects its lists of nodes hold."""
    compiler = _Compiler(counted=counted)
    if of is None:
        value = compiler.field(ENTITIES["Query"].fields[field.name], field, {}, None)
    else:
        kind = ENTITIES[of.type].fields[field.name]
        value = compiler.keyed(of, lambda env, as_of: compiler.field(kind, field, env, as_of))
    columns = f"({value})::text"
    if compiler.counted is not None:
        columns += f", ({' + '.join(compiler.counted) or '0'})::int"
    return Statement(
        f"select {columns}", compiler.sql.args, compiler.failures, compiler.without_jit
    )


async def _row(db: Executor, s: Statement) -> list[object]:
    """The statement's one row, run as it must be (without JIT where it says so)."""
    if s.without_jit:
        [row] = await fetch_without_jit(db, s.sql, *s.args)
        return list(row)
    found = await db.fetchrow(s.sql, *s.args)
    assert found is not None
    return list(found)


async def field_json(db: Executor, field: Field, of: Key | None = None) -> str | None:
    """One field's JSON as PostgreSQL writes it: of Query, or of the object `of` names
    (None when there is none)."""
    [text] = await _row(db, field_statement(field, of))
    assert text is None or isinstance(text, str)
    return text


async def counted_field_json(db: Executor, field: Field) -> tuple[str, int]:
    """A field of Query's JSON as PostgreSQL writes it, and how many JSON objects its
    lists of nodes hold."""
    text, objects = await _row(db, field_statement(field, counted=True))
    assert isinstance(text, str)
    assert isinstance(objects, int)
    return text, objects

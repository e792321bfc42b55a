"""Reads compiled from the description (db/json/entities.py) into one SQL statement
whose single text value is the answer's JSON.

A selection is a tree of `Field`s: the name to answer under, the field of the
description, its arguments as the description's kind takes them (a PageRequest, a
`Key`...), and for an object the fields asked of it per concrete type (an interface
lists one entry per type it may be). Nothing here knows GraphQL: schema/fastpath.py
plans the tree from a document and sends the bytes as they come.

The JSON is exactly what the resolvers give: the same ids, enum names, dates, decimals
as strings, keys in the order asked, lists in the order of the db/ functions, the same
cursors; and the same spelling, since the text PostgreSQL builds is read back and
written again by orjson, as the resolvers' answers are.
"""

import datetime
from collections.abc import Mapping
from dataclasses import dataclass

import orjson

from db.infra.pagination import another_scope
from db.infra.types import Executor
from db.json.entities import (
    ENTITIES,
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
    def __init__(self) -> None:
        self.sql = SqlBuilder()
        self.failures: list[Failure] = []
        self.without_jit = False

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
            case Many(type_name, table, on, order, as_of_table, as_of_on):
                c = sql.alias("c")
                names = {**env, "c": c, "as_of": as_of or ""}
                if as_of is not None and as_of_table is not None:
                    table = as_of_table
                where = on.format_map(names)
                if as_of is not None and as_of_on is not None:
                    where += f" and {as_of_on.format_map(names)}"
                node = self.object(type_name, f.of(type_name), {"t": c}, as_of)
                return (
                    f"coalesce((select json_agg({node} order by {order.format_map(names)})"
                    f" from {table.format_map(names)} where {where}), '[]'::json)"
                )
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
        raise UnsupportedSelection(f.name)

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
        entity = ENTITIES[key.type]
        c = self.sql.alias("c")
        as_of = None if key.as_of is None else self.sql.param(key.as_of, "timestamptz")
        table = entity.table if as_of is None else entity.as_of_table
        if table is None:
            raise UnsupportedSelection(f"{key.type} by {key.column}")
        table = table.format_map({"as_of": as_of or ""})
        node = self.object(key.type, f.of(key.type), {"t": c}, as_of)
        value = self.sql.param(key.value, key.sql_type)
        return f"(select {node} from {table} {c} where {c}.{key.column} = {value})"

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
    if s.without_jit:
        [[text]] = await fetch_without_jit(db, s.sql, *s.args)
    else:
        text = await db.fetchval(s.sql, *s.args)
    return Answer(orjson.loads(text), s.failures)

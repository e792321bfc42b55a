"""A compiled answer's failed fields made null, and their errors, as the executor makes
them: the statement (db/json/select.py) leaves a marker where a field's arguments are
refused (a check at planning, or a cursor made under another object); each becomes the
resolvers' error, located where the executor locates it (message, locations, path,
code), and null up to its nearest nullable field. When several fail, the order is the
executor's: by how many awaits it meets them after, each nullable field's own error
before those that reach an ancestor, and none under a field already made null.
"""

import dataclasses
from typing import Any

import orjson
from graphql import (
    GraphQLError,
    GraphQLFormattedError,
    GraphQLObjectType,
    GraphQLOutputType,
    get_named_type,
    is_list_type,
    is_non_null_type,
)

from db.json.select import FAILED, Answer, Failure, Field
from schema.schema import schema

# Objects the executor has at hand without another await: a connection's parts, and
# values made of their parent's row.
_AT_HAND = {"edges", "node", "pageInfo"}
_EMBEDDED = {
    "MoneyEstimate",
    "Money",
    "FuzzyDate",
    "PageInfo",
    "RoundStatsKey",
    "AmountStats",
    "BoundedCount",
    "RoundTypeCount",
}


@dataclasses.dataclass(frozen=True, slots=True)
class _Failed:
    """A failed field met in the answer: where, and the field the executor makes null
    for it (its nearest nullable ancestor; None for `data` itself)."""

    failure: Failure
    path: tuple[Any, ...]
    nulled: tuple[Any, ...] | None
    # The executor meets it after this many awaits; those it meets together, it
    # records in the order of the document, each nullable field's own error first.
    awaits: int


class _Settled:
    """An answer whose failed fields are made null as the executor makes them, each
    failure an error located where the executor locates it."""

    def __init__(self, failures: list[Failure]) -> None:
        self.failures = failures
        self.met: list[_Failed] = []

    def object(
        self,
        value: dict[str, Any],
        type_name: str,
        fields: tuple[Field, ...],
        path: tuple[Any, ...],
        nullable: tuple[Any, ...] | None,
        awaits: int,
    ) -> None:
        object_type = schema._schema.get_type(type_name)
        assert isinstance(object_type, GraphQLObjectType)
        for f in fields:
            if f.name == "__typename":
                continue
            field_type = object_type.fields[f.name].type
            here = (*path, f.key)
            named = get_named_type(field_type).name
            loads = f.name not in _AT_HAND and named not in _EMBEDDED
            self.value(
                value[f.key],
                field_type,
                f,
                here,
                nullable if is_non_null_type(field_type) else here,
                awaits,
                awaits + 1 if loads else awaits,
            )

    def value(
        self,
        value: Any,
        of: GraphQLOutputType,
        f: Field,
        path: tuple[Any, ...],
        nullable: tuple[Any, ...] | None,
        awaits: int,
        below: int,
    ) -> None:
        if isinstance(value, dict) and FAILED in value:
            self.met.append(_Failed(self.failures[value[FAILED]], path, nullable, awaits))
            return
        if value is None:
            return
        inner = of.of_type if is_non_null_type(of) else of
        if is_list_type(inner):
            item_type = inner.of_type
            for i, item in enumerate(value):
                here = (*path, i)
                item_nullable = nullable if is_non_null_type(item_type) else here
                self.value(item, item_type, f, here, item_nullable, below, below)
            return
        if isinstance(value, dict) and f.selections is not None:
            keys = list(value)
            # The object's concrete type: the one its keys were asked of.
            for type_name, fields in f.selections.items():
                if [g.key for g in fields] == keys:
                    self.object(value, type_name, fields, path, nullable, below)
                    return

    def errors(self, data: dict[str, Any]) -> tuple[list[GraphQLFormattedError], bool]:
        """The errors in the executor's order, and whether `data` is null; the nulled
        fields are set to null in `data`."""
        # Those that reach a nullable ancestor are recorded once the others met with
        # them are: the executor gathers the siblings first.
        order = sorted(
            range(len(self.met)),
            key=lambda i: (self.met[i].awaits, self.met[i].nulled != self.met[i].path, i),
        )
        nulled: list[tuple[Any, ...]] = []
        errors = []
        for i in order:
            met = self.met[i]
            if any(met.path[: len(n)] == n for n in nulled):
                continue  # under a field already made null: the executor cancelled it
            error = GraphQLError(
                met.failure.message,
                nodes=met.failure.where,  # type: ignore[arg-type]
                path=list(met.path),
                extensions={"code": met.failure.code},
            )
            errors.append(error.formatted)
            if met.nulled is None:
                return errors, True
            nulled.append(met.nulled)
        for n in sorted(nulled, key=len, reverse=True):
            parent: Any = data
            for step in n[:-1]:
                parent = parent[step]
            parent[n[-1]] = None
        return errors, False


def settled(answer: Answer, roots: tuple[Field, ...]) -> tuple[bytes, object]:
    """`"data":...`, after `"errors":[...],` when a field failed; and the `data` they
    hold."""
    data = answer.data
    assert isinstance(data, dict)
    settled = _Settled(answer.failures)
    if answer.failures:
        settled.object(data, "Query", roots, (), None, 0)
    if not settled.met:
        # Failures of fields under objects that are not there are no errors.
        return b'"data":' + orjson.dumps(data), data
    errors, nulled = settled.errors(data)
    body = b'"errors":' + orjson.dumps(errors) + b',"data":'
    final = None if nulled else data
    return body + orjson.dumps(final), final

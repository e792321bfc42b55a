"""The fast path: common queries answered by one SQL statement that builds the JSON.

For a document whose selections it knows (rounds lists, an organization with its
rounds, and under them companies, money, dates, participations and investors;
fragments and @skip/@include included, as the executor would collect them), this plans a
db/json/select.py selection and returns the bytes of `data`. For anything else (and for
any argument the ordinary resolvers would refuse) it returns None, and the ordinary
path answers, with its errors. Differential tests hold the two paths to one answer.
"""

import dataclasses
import functools
from collections.abc import Callable
from enum import Enum
from typing import Any

import asyncpg
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLIncludeDirective,
    GraphQLObjectType,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionNode,
    SelectionSetNode,
    is_abstract_type,
    validate,
)
from graphql.execution.values import (
    VariableValues,
    get_argument_values,
    get_directive_values,
    get_variable_values,
)
from strawberry.utils.str_converters import to_camel_case

from db.infra.errors import DealgraphError
from db.infra.ids import Kind
from db.infra.pagination import page_request
from db.infra.types import Pool
from db.json import select as js
from db.rounds import RoundFilter, RoundOrder, rounds_page_request, rounds_scope
from schema.ids import id_argument
from schema.schema import schema

_SCHEMA = schema._schema

_ROUND_SCALARS = frozenset(
    {"id", "roundType", "reportedLabel", "status", "stage", "announcedOn", "closedOn"}
)
_MONEY_FIELDS = frozenset({"amount", "targetAmount", "preMoneyValuation", "postMoneyValuation"})
_ORGANIZATION_SCALARS = frozenset(
    {
        "id",
        "slug",
        "name",
        "description",
        "website",
        "countryCode",
        "city",
        "categories",
        "investorTypes",
        "aliases",
    }
)
_PARTICIPATION_SCALARS = frozenset({"id", "isLead", "status", "stage"})
_INVESTOR_SCALARS = frozenset({"id", "slug", "name"})


class _Unsupported(Exception):
    pass


@functools.lru_cache(maxsize=512)
def _validation_errors(document: DocumentNode) -> tuple[GraphQLError, ...]:
    return tuple(validate(_SCHEMA, document))


@dataclasses.dataclass(frozen=True, slots=True)
class _Document:
    """What planning needs of the request: its variables and the document's fragments."""

    variables: VariableValues
    fragments: dict[str, FragmentDefinitionNode]

    def fields(self, selection_set: SelectionSetNode | None, type_name: str) -> list[FieldNode]:
        """The fields a selection asks of an object of `type_name`, collected as the
        executor collects them: the fragments that apply spread in place, @skip and
        @include applied, the fields of one response name merged into the first."""
        if selection_set is None:
            raise _Unsupported("no selection")
        grouped: dict[str, list[FieldNode]] = {}
        self._collect(selection_set, type_name, grouped, set())
        return [nodes[0] if len(nodes) == 1 else _merged(nodes) for nodes in grouped.values()]

    def _collect(
        self,
        selection_set: SelectionSetNode,
        type_name: str,
        grouped: dict[str, list[FieldNode]],
        spread: set[str],
    ) -> None:
        for node in selection_set.selections:
            if not self._included(node):
                continue
            if isinstance(node, FieldNode):
                grouped.setdefault(_name(node), []).append(node)
                continue
            if isinstance(node, InlineFragmentNode):
                condition, selections = node.type_condition, node.selection_set
            else:
                assert isinstance(node, FragmentSpreadNode)
                # A fragment spread again adds nothing, and spreading it again each time
                # grows as 2^n for fragments that spread the next one twice.
                if node.name.value in spread:
                    continue
                fragment = self.fragments[node.name.value]
                if fragment.variable_definitions:
                    raise _Unsupported("fragment variables")
                condition, selections = fragment.type_condition, fragment.selection_set
            if condition is None or _applies(condition.name.value, type_name):
                if isinstance(node, FragmentSpreadNode):
                    spread.add(node.name.value)
                self._collect(selections, type_name, grouped, spread)

    def _included(self, node: SelectionNode) -> bool:
        # @skip first, as the executor does: a true @skip leaves @include unread.
        skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
        if skip and skip["if"]:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        return not (include and not include["if"])


def _applies(condition: str, type_name: str) -> bool:
    """Whether a fragment on `condition` applies to an object of `type_name`; under an
    interface that depends on each object's type, which one statement does not follow."""
    if condition == type_name:
        return True
    parent, fragment_type = _SCHEMA.get_type(type_name), _SCHEMA.get_type(condition)
    if not isinstance(parent, GraphQLObjectType):
        raise _Unsupported(f"a fragment on {condition} under {type_name}")
    return is_abstract_type(fragment_type) and _SCHEMA.is_sub_type(fragment_type, parent)


def _merged(nodes: list[FieldNode]) -> FieldNode:
    """One field from several of one response name: validation made them the same field
    with the same arguments, so only their selections add up."""
    first = nodes[0]
    if first.selection_set is None:
        return first
    selections = tuple(s for n in nodes if n.selection_set for s in n.selection_set.selections)
    return FieldNode(
        alias=first.alias,
        name=first.name,
        arguments=first.arguments,
        directives=(),
        selection_set=SelectionSetNode(selections=selections),
    )


def _name(node: FieldNode) -> str:
    return node.alias.value if node.alias else node.name.value


def _money(node: FieldNode, column: str, doc: _Document) -> js.Money:
    parts: list[js.Scalar | js.Const | js.MoneyAmount] = []
    for f in doc.fields(node.selection_set, "MoneyEstimate"):
        field = f.name.value
        if field == "__typename":
            parts.append(js.Const(_name(f), "MoneyEstimate"))
        elif field in ("qualifier", "usd"):
            parts.append(js.Scalar(_name(f), field))
        elif field in ("low", "high"):
            inner = _leaves(f, "Money", doc)
            parts.append(js.MoneyAmount(_name(f), field, inner))  # type: ignore[arg-type]
        else:
            raise _Unsupported(field)
    return js.Money(_name(node), column, tuple(parts))  # type: ignore[arg-type]


def _leaves(node: FieldNode, type_name: str, doc: _Document) -> tuple[js.Scalar | js.Const, ...]:
    """The fields of an object whose fields are all scalars (Money, FuzzyDate)."""
    return tuple(
        js.Const(_name(f), type_name)
        if f.name.value == "__typename"
        else js.Scalar(_name(f), f.name.value)
        for f in doc.fields(node.selection_set, type_name)
    )


def _fuzzy_date(node: FieldNode, column: str, doc: _Document) -> js.FuzzyDate:
    return js.FuzzyDate(_name(node), column, _leaves(node, "FuzzyDate", doc))  # type: ignore[arg-type]


def _investor(node: FieldNode, doc: _Document) -> js.Nested:
    parts: list[js.Field] = []
    for f in doc.fields(node.selection_set, "Investor"):
        field = f.name.value
        if field == "__typename":
            parts.append(js.Const(_name(f), "Investor"))
        elif field in _INVESTOR_SCALARS:
            parts.append(js.Scalar(_name(f), field))
        else:
            raise _Unsupported(field)
    return js.Nested(_name(node), "investor", tuple(parts))


def _participation(selection_set: SelectionSetNode | None, doc: _Document) -> js.Selection:
    parts: list[js.Field] = []
    for f in doc.fields(selection_set, "Participation"):
        field = f.name.value
        if field == "__typename":
            parts.append(js.Const(_name(f), "Participation"))
        elif field in _PARTICIPATION_SCALARS:
            parts.append(js.Scalar(_name(f), field))
        elif field == "amount":
            parts.append(_money(f, "amount", doc))
        elif field == "investor":
            parts.append(_investor(f, doc))
        elif field == "round":
            parts.append(js.Nested(_name(f), "round", _round(f.selection_set, doc)))
        else:
            raise _Unsupported(field)
    return tuple(parts)


def _round(selection_set: SelectionSetNode | None, doc: _Document) -> js.Selection:
    parts: list[js.Field] = []
    for f in doc.fields(selection_set, "Round"):
        field = f.name.value
        if field == "__typename":
            parts.append(js.Const(_name(f), "Round"))
        elif field in _ROUND_SCALARS:
            parts.append(js.Scalar(_name(f), field))
        elif field in _MONEY_FIELDS:
            parts.append(_money(f, field, doc))
        elif field in ("announced", "expectedClose"):
            parts.append(_fuzzy_date(f, field, doc))
        elif field == "company":
            parts.append(js.Nested(_name(f), "company", _organization(f.selection_set, doc)))
        elif field == "participations":
            parts.append(
                js.Nested(_name(f), "participations", _participation(f.selection_set, doc))
            )
        else:
            raise _Unsupported(field)
    return tuple(parts)


def _organization(selection_set: SelectionSetNode | None, doc: _Document) -> js.Selection:
    parts: list[js.Field] = []
    for f in doc.fields(selection_set, "Organization"):
        field = f.name.value
        if field == "__typename":
            parts.append(js.Const(_name(f), "Organization"))
        elif field in _ORGANIZATION_SCALARS:
            parts.append(js.Scalar(_name(f), field))
        elif field == "founded":
            parts.append(_fuzzy_date(f, field, doc))
        elif field in ("rounds", "investments"):
            args = _arguments("Organization", f, doc)
            if set(args) - {"first"}:
                raise _Unsupported("paging arguments under an organization")
            # Checked as the resolvers check it. Cursors are not rendered under an
            # organization (their scope holds its id), so no scope is needed here.
            request = page_request("", first=args.get("first"))
            if field == "rounds":
                rounds = _connection_parts(f, _ROUND_PAGE, doc, nested=True)
                parts.append(
                    js.RoundsPage(_name(f), RoundFilter(), RoundOrder(), request, "", rounds)
                )
            else:
                investments = _connection_parts(f, _INVESTMENT_PAGE, doc, nested=True)
                parts.append(js.InvestmentsPage(_name(f), request, investments))
        else:
            raise _Unsupported(field)
    return tuple(parts)


@dataclasses.dataclass(frozen=True, slots=True)
class _ConnectionTypes:
    connection: str
    edge: str
    node: Callable[[SelectionSetNode | None, _Document], js.Selection]


_ROUND_PAGE = _ConnectionTypes("RoundConnection", "RoundEdge", _round)
_INVESTMENT_PAGE = _ConnectionTypes("ParticipationConnection", "ParticipationEdge", _participation)


def _connection_parts(
    node: FieldNode, types: _ConnectionTypes, doc: _Document, *, nested: bool = False
) -> tuple[js.Const | js.Scalar | js.Edges | js.PageInfo, ...]:
    parts: list[js.Const | js.Scalar | js.Edges | js.PageInfo] = []
    for f in doc.fields(node.selection_set, types.connection):
        field = f.name.value
        if field == "__typename":
            parts.append(js.Const(_name(f), types.connection))
        elif field == "totalCount":
            parts.append(js.Scalar(_name(f), "totalCount"))
        elif field == "edges":
            edge: list[js.Const | js.Scalar | js.EdgeNode] = []
            for g in doc.fields(f.selection_set, types.edge):
                if g.name.value == "__typename":
                    edge.append(js.Const(_name(g), types.edge))
                elif g.name.value == "cursor" and not nested:
                    edge.append(js.Scalar(_name(g), "cursor"))
                elif g.name.value == "node":
                    edge.append(js.EdgeNode(_name(g), types.node(g.selection_set, doc)))
                else:
                    raise _Unsupported(g.name.value)
            parts.append(js.Edges(_name(f), tuple(edge)))
        elif field == "pageInfo":
            info: list[js.Scalar | js.Const] = []
            for g in doc.fields(f.selection_set, "PageInfo"):
                if g.name.value == "__typename":
                    info.append(js.Const(_name(g), "PageInfo"))
                elif g.name.value in ("hasNextPage", "hasPreviousPage") or not nested:
                    info.append(js.Scalar(_name(g), g.name.value))
                else:
                    raise _Unsupported(g.name.value)
            parts.append(js.PageInfo(_name(f), tuple(info)))
        else:
            raise _Unsupported(field)
    return tuple(parts)


def _arguments(parent: str, node: FieldNode, doc: _Document) -> dict[str, Any]:
    parent_type = _SCHEMA.get_type(parent)
    assert isinstance(parent_type, GraphQLObjectType)
    definition = parent_type.fields[node.name.value]
    values: dict[str, Any] = get_argument_values(definition, node, doc.variables)
    return {k: v for k, v in values.items() if v is not None}


def _input_fields(value: object) -> dict[str, Any]:
    """An input object's given fields by GraphQL name: graphql-core hands over a dict or
    strawberry's input instance, depending on where the value came from."""
    if value is None:
        return {}
    if isinstance(value, dict):
        fields = value
    else:
        fields = {to_camel_case(f.name): getattr(value, f.name) for f in dataclasses.fields(value)}  # type: ignore[arg-type]
    return {k: v for k, v in fields.items() if v is not None}


def _enum_name(value: object) -> str:
    return str(value.value) if isinstance(value, Enum) else str(value)


def _names(values: list[Any] | None) -> list[str] | None:
    return None if values is None else [_enum_name(v) for v in values]


async def _rounds(pool: Pool, node: FieldNode, doc: _Document) -> bytes:
    args = _arguments("Query", node, doc)
    if set(args) - {"first", "after", "filter", "orderBy"}:
        raise _Unsupported("arguments")
    given = _input_fields(args.get("filter"))
    if set(given) - {"status", "stage", "roundType"}:
        raise _Unsupported("filter")
    round_filter = RoundFilter(
        statuses=_names(given.get("status")),
        stages=_names(given.get("stage")),
        round_types=_names(given.get("roundType")),
    )
    order = RoundOrder()
    if "orderBy" in args:
        by = _input_fields(args["orderBy"])
        order = RoundOrder(_enum_name(by["field"]), _enum_name(by["direction"]))  # type: ignore[arg-type]
    request = rounds_page_request(
        round_filter, order, first=args.get("first"), after=args.get("after")
    )
    scope = rounds_scope(round_filter, order)
    parts = _connection_parts(node, _ROUND_PAGE, doc)
    connection = js.RoundsPage(_name(node), round_filter, order, request, scope, parts)
    return await js.render_rounds(pool, _name(node), connection)


async def _organization_root(pool: Pool, node: FieldNode, doc: _Document) -> bytes:
    args = _arguments("Query", node, doc)
    if set(args) == {"slug"}:
        return await js.render_organization(
            pool, _name(node), _organization(node.selection_set, doc), slug=args["slug"]
        )
    if set(args) == {"id"}:
        org_id = id_argument(Kind.ORGANIZATION, args["id"], "id")
        return await js.render_organization(
            pool, _name(node), _organization(node.selection_set, doc), org_id=org_id
        )
    raise _Unsupported("organization arguments")


async def compiled_answer(
    pool: Pool,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    raw_variables: dict[str, Any],
) -> bytes | None:
    """The bytes of `data` for a query this path knows; None to let the resolvers answer."""
    if operation.operation is not OperationType.QUERY or _validation_errors(document):
        return None
    variables = get_variable_values(_SCHEMA, operation.variable_definitions or (), raw_variables)
    if isinstance(variables, list):
        return None
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    doc = _Document(variables, fragments)
    try:
        # One root field only; a document with several goes to the resolvers.
        [root] = doc.fields(operation.selection_set, "Query")
        match root.name.value:
            case "rounds":
                return await _rounds(pool, root, doc)
            case "organization":
                return await _organization_root(pool, root, doc)
            case "roundStats":
                from schema.stats_compiled import round_stats_answer

                return await round_stats_answer(pool, root, doc)
            case _:
                return None
    except (_Unsupported, js.UnsupportedSelection, DealgraphError, ValueError, GraphQLError):
        # GraphQLError: a value the executor refuses (a null variable where one is
        # needed); the resolvers answer it with their error.
        return None
    except asyncpg.DataError:
        # A value the database refuses (the resolvers answer it with its error code);
        # an unavailable database is not caught here, so it still answers 503.
        return None

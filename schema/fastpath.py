"""Reads compiled to one SQL statement: the GraphQL side of db/json/select.py.

A query document is walked as the executor walks it (fragments and inline fragments on
the concrete type of each object, interfaces included; aliases; variables with their
defaults; @skip/@include; fields of one response name merged) into a selection tree of
the fields of db/json/entities.py's description, with each field's arguments checked by
the same functions the resolvers call. The statement's text is the bytes of `data`.

Where the tree cannot be built (a document this path does not compile yet, or an
argument the resolvers would refuse, which they answer with their error), the
resolvers answer instead. A differential test holds the two to the same bytes.
"""

import dataclasses
import datetime
from collections.abc import Awaitable, Callable
from dataclasses import replace
from enum import Enum
from typing import Any, TypeVar, cast

import asyncpg
import orjson
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
    get_named_type,
    is_abstract_type,
    is_composite_type,
    validate,
)
from graphql.execution.values import (
    VariableValues,
    get_argument_values,
    get_directive_values,
    get_variable_values,
)
from strawberry.utils.str_converters import to_snake_case

from db.acquisitions import AcquisitionOrder as DbAcquisitionOrder
from db.acquisitions import acquisitions_page_request, acquisitions_scope
from db.infra.errors import BadInput, DealgraphError
from db.infra.ids import Kind
from db.infra.pagination import cursor_key_generation, page_request
from db.infra.types import Pool
from db.json.acquisitions import AcquisitionsArgs
from db.json.select import Failure, Field, Key, Statement, run, statement
from db.json.sources import Prefetched, RoundsArgs, StatsArgs
from db.json.sql import UnsupportedSelection
from db.organizations import count_organizations, list_organizations, organizations_scope
from db.rounds import RoundOrder as DbRoundOrder
from db.rounds import rounds_page_request, rounds_scope
from db.stats import check_group_by
from schema.context import Context
from schema.field_errors import settled
from schema.filters import (
    AcquisitionFilter,
    AcquisitionOrder,
    OrganizationFilter,
    RoundFilter,
    RoundOrder,
)
from schema.ids import any_id_argument, id_argument
from schema.per_document import per_document
from schema.schema import schema

_SCHEMA = schema._schema

_TYPES = {
    Kind.ORGANIZATION: "Organization",
    Kind.PERSON: "Person",
    Kind.ROUND: "Round",
    Kind.PARTICIPATION: "Participation",
    Kind.SOURCE: "Source",
    Kind.CLAIM: "Claim",
    Kind.ACQUISITION: "Acquisition",
}


class Unsupported(Exception):
    """A document this path does not compile; the message says which shape."""


@per_document
def _validation_errors(document: DocumentNode) -> tuple[GraphQLError, ...]:
    return tuple(validate(_SCHEMA, document))


@dataclasses.dataclass(frozen=True, slots=True)
class _Document:
    """What planning needs of the request: the pool, its variables and the fragments."""

    pool: Pool
    variables: VariableValues
    fragments: dict[str, FragmentDefinitionNode]
    # The fields a merged field was made of, where an error on it is located.
    merged_from: dict[int, list[FieldNode]] = dataclasses.field(default_factory=dict)

    def fields(self, selection_set: SelectionSetNode | None, type_name: str) -> list[FieldNode]:
        """The fields a selection asks of an object of `type_name`, collected as the
        executor collects them: the fragments that apply spread in place, @skip and
        @include applied, the fields of one response name merged into the first."""
        if selection_set is None:
            raise Unsupported("no selection")
        grouped: dict[str, list[FieldNode]] = {}
        self._collect(selection_set, type_name, grouped, set())
        fields = []
        for nodes in grouped.values():
            field = nodes[0] if len(nodes) == 1 else _merged(nodes)
            self.merged_from[id(field)] = nodes
            fields.append(field)
        return fields

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
    """Whether a fragment on `condition` applies to an object of the concrete type
    `type_name`."""
    if condition == type_name:
        return True
    fragment_type, object_type = _SCHEMA.get_type(condition), _SCHEMA.get_type(type_name)
    assert isinstance(object_type, GraphQLObjectType)
    return is_abstract_type(fragment_type) and _SCHEMA.is_sub_type(fragment_type, object_type)


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


def _enum_name(value: object) -> str:
    return str(value.value) if isinstance(value, Enum) else str(value)


async def _plan(
    doc: _Document, selection_set: SelectionSetNode | None, type_name: str
) -> tuple[Field, ...]:
    """The fields asked of an object of the concrete type `type_name`, as a tree."""
    object_type = _SCHEMA.get_type(type_name)
    assert isinstance(object_type, GraphQLObjectType)
    planned = []
    for node in doc.fields(selection_set, type_name):
        name = node.name.value
        if name == "__typename":
            planned.append(Field(_name(node), name))
            continue
        definition = object_type.fields.get(name)
        if definition is None:
            raise Unsupported(f"introspection ({name})")
        selections = None
        field_type = get_named_type(definition.type)
        if is_composite_type(field_type):
            possible = (
                [t.name for t in _SCHEMA.get_possible_types(field_type)]
                if is_abstract_type(field_type)
                else [field_type.name]
            )
            selections = {t: await _plan(doc, node.selection_set, t) for t in possible}
        args: object = None
        if definition.args:
            given = get_argument_values(definition, node, doc.variables)
            check = _ARGUMENTS.get((type_name, name))
            if check is None:
                raise Unsupported(f"arguments of {type_name}.{name}")
            try:
                args = await check(
                    doc, {k: v for k, v in given.items() if v is not None}, selections
                )
            except DealgraphError as e:
                # The resolvers refuse it: its error stands wherever the field is.
                args = Failure(e.message, e.code, doc.merged_from[id(node)])
        planned.append(Field(_name(node), name, args, selections, doc.merged_from[id(node)]))
    return tuple(planned)


Selections = dict[str, tuple[Field, ...]] | None
_Input = TypeVar("_Input")
Check = Callable[[_Document, dict[str, Any], Selections], Awaitable[object]]


def _input(cls: type[_Input], value: object) -> _Input:
    """An input object as strawberry's class: graphql-core hands over a dict by GraphQL
    name, or the instance itself, depending on where the value came from."""
    if isinstance(value, cls):
        return value
    assert isinstance(value, dict)
    return cls(**{to_snake_case(k): v for k, v in value.items()})


def _page_arguments(args: dict[str, Any]) -> dict[str, Any]:
    """first, after, last and before as given (None where not)."""
    return {name: args.get(name) for name in ("first", "after", "last", "before")}


async def _rounds(doc: _Document, args: dict[str, Any], _: Selections) -> RoundsArgs:
    # As Query.rounds checks them (schema/query.py).
    given = _input(RoundFilter, args.get("filter", RoundFilter()))
    as_of: datetime.datetime | None = args.get("asOf")
    db_filter = replace(await given.to_db(Context(pool=doc.pool)), as_of=as_of)
    order = DbRoundOrder() if "orderBy" not in args else _input(RoundOrder, args["orderBy"]).to_db()
    page = rounds_page_request(db_filter, order, **_page_arguments(args))
    return RoundsArgs(db_filter, order, page, rounds_scope(db_filter, order))


async def _nested_page(doc: _Document, args: dict[str, Any], _: Selections) -> object:
    # The cursor's scope holds the parent's id: the statement compares it under each.
    return page_request(
        None,
        first=args.get("first"),
        after=args.get("after"),
        last=args.get("last"),
        before=args.get("before"),
    )


async def _round_stats(doc: _Document, args: dict[str, Any], _: Selections) -> StatsArgs:
    # As Query.roundStats checks them (schema/stats.py).
    given = _input(RoundFilter, args.get("filter", RoundFilter()))
    db_filter = replace(await given.to_db(Context(pool=doc.pool)), as_of=args.get("asOf"))
    group_by = tuple(_enum_name(d) for d in args["groupBy"])
    check_group_by(group_by, "groupBy")  # type: ignore[arg-type]
    period = _enum_name(args.get("period") or "QUARTER")
    return StatsArgs(db_filter, group_by, period)  # type: ignore[arg-type]


async def _round(doc: _Document, args: dict[str, Any], _: Selections) -> Key:
    return Key("Round", "id", id_argument(Kind.ROUND, args["id"], "id"), "uuid", args.get("asOf"))


async def _node(doc: _Document, args: dict[str, Any], _: Selections) -> Key:
    kind, value = any_id_argument(args["id"], "id")
    if kind not in _TYPES:
        raise Unsupported(f"node of kind {kind.value}")
    return Key(_TYPES[kind], "id", value, "uuid")


async def _organization(doc: _Document, args: dict[str, Any], _: Selections) -> Key:
    if ("id" in args) == ("slug" in args):
        raise BadInput("give either id or slug", field="slug" if "slug" in args else "id")
    if "id" in args:
        return Key("Organization", "id", id_argument(Kind.ORGANIZATION, args["id"], "id"), "uuid")
    return Key("Organization", "slug", args["slug"], "text")


async def _organizations(
    doc: _Document, args: dict[str, Any], selections: Selections
) -> Prefetched:
    # The search is db/organizations.py's (one rule for ranking): its page is read
    # first, then the statement builds the answer for those rows.
    db_filter = _input(OrganizationFilter, args.get("filter", OrganizationFilter())).to_db()
    request = page_request(
        organizations_scope(db_filter),
        first=args.get("first"),
        after=args.get("after"),
        last=args.get("last"),
        before=args.get("before"),
    )
    page = await list_organizations(doc.pool, filter=db_filter, page=request)
    [connection] = (selections or {}).values()
    counted = any(f.name == "totalCount" for f in connection)
    return Prefetched(
        "organizations",
        [o.id for o in page.items],
        page.cursors,
        page.has_next,
        page.has_previous,
        await count_organizations(doc.pool, filter=db_filter) if counted else None,
    )


async def _acquisitions(doc: _Document, args: dict[str, Any], _: Selections) -> AcquisitionsArgs:
    # As Query.acquisitions checks them (schema/query.py).
    given = _input(AcquisitionFilter, args.get("filter", AcquisitionFilter()))
    db_filter = replace(await given.to_db(Context(pool=doc.pool)), as_of=args.get("asOf"))
    order = (
        DbAcquisitionOrder()
        if "orderBy" not in args
        else _input(AcquisitionOrder, args["orderBy"]).to_db()
    )
    page = acquisitions_page_request(db_filter, order, **_page_arguments(args))
    return AcquisitionsArgs(db_filter, order, page, acquisitions_scope(db_filter, order))


async def _acquisition(doc: _Document, args: dict[str, Any], _: Selections) -> Key:
    acquisition_id = id_argument(Kind.ACQUISITION, args["id"], "id")
    return Key("Acquisition", "id", acquisition_id, "uuid", args.get("asOf"))


_ARGUMENTS: dict[tuple[str, str], Check] = {
    ("Query", "rounds"): _rounds,
    ("Query", "round"): _round,
    ("Query", "roundStats"): _round_stats,
    ("Query", "node"): _node,
    ("Query", "organization"): _organization,
    ("Query", "organizations"): _organizations,
    ("Organization", "rounds"): _nested_page,
    ("Organization", "investments"): _nested_page,
    ("Person", "investments"): _nested_page,
    ("Organization", "coInvestors"): _nested_page,
    ("Person", "coInvestors"): _nested_page,
    # Acquisitions (issue 17).
    ("Query", "acquisitions"): _acquisitions,
    ("Query", "acquisition"): _acquisition,
    ("Organization", "acquisitions"): _nested_page,
}


def _prepare(
    pool: Pool,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    raw_variables: dict[str, Any],
) -> _Document:
    if operation.operation is not OperationType.QUERY:
        raise Unsupported("not a query")
    if _validation_errors(document):
        raise Unsupported("invalid document")
    variables = get_variable_values(_SCHEMA, operation.variable_definitions or (), raw_variables)
    if isinstance(variables, list):
        raise Unsupported("variables the executor refuses")
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return _Document(pool, variables, fragments)


async def plan(
    pool: Pool,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    raw_variables: dict[str, Any],
) -> tuple[Field, ...]:
    """The selection tree of a query; Unsupported (or the resolvers' own error for a
    bad argument) where this path leaves the answer to the resolvers."""
    doc = _prepare(pool, document, operation, raw_variables)
    return await _plan(doc, operation.selection_set, "Query")


class _Watched:
    """The pool as planning sees it, noting whether planning read the database (a
    company looked up for a filter, a search run): such a plan may differ next time."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.used = False

    def __getattr__(self, name: str) -> object:
        self.used = True
        return getattr(self.pool, name)


@dataclasses.dataclass(frozen=True, slots=True)
class _Compiled:
    # Kept with its plan, so that the document's id cannot be reused while kept.
    document: DocumentNode
    planned: tuple[Field, ...]
    statement: Statement


# Plans and statements of the documents asked again and again (a frontend's screens):
# walking the document, checking its arguments and writing the statement was over half
# of the Python time of a screen request (profiled). Past this many, start again.
_KEPT = 512
_compiled: dict[tuple[int, int, bytes | None, int], _Compiled] = {}


async def _compile(
    pool: Pool,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    raw_variables: dict[str, Any],
) -> _Compiled:
    """The plan and statement of a query, kept when they follow from the document and
    variables alone: a plan whose checks read the database is made anew each time, and
    one with cursors is made again once cursors are signed with another key."""
    try:
        variables = orjson.dumps(raw_variables, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        variables = None  # an integer past 64 bits, say: planned, and not kept
    key = (id(document), id(operation), variables, cursor_key_generation())
    found = _compiled.get(key)
    if found is not None and found.document is document:
        return found
    watched = _Watched(pool)
    doc = _prepare(cast(Pool, watched), document, operation, raw_variables)
    planned = await _plan(doc, operation.selection_set, "Query")
    compiled = _Compiled(document, planned, statement(planned))
    if not watched.used and variables is not None:
        if len(_compiled) >= _KEPT:
            _compiled.clear()
        _compiled[key] = compiled
    return compiled


@dataclasses.dataclass(frozen=True, slots=True)
class CompiledAnswer:
    """`"data":...` (after `"errors":[...],` if any), and the `data` it holds as JSON
    values, for whoever needs to look into it without parsing it again."""

    body: bytes
    data: object


async def compile_read(
    pool: Pool,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    raw_variables: dict[str, Any],
) -> CompiledAnswer:
    """The answer to a query this path compiles; Unsupported, or another error the
    resolvers answer, where it leaves it to them."""
    compiled = await _compile(pool, document, operation, raw_variables)
    return CompiledAnswer(*settled(await run(pool, compiled.statement), compiled.planned))


async def compiled_answer(
    pool: Pool,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    raw_variables: dict[str, Any],
) -> bytes | None:
    """`"data":...` (after `"errors":[...],` if any) for a query this path compiles;
    None to let the resolvers answer."""
    found = await compiled_read(pool, document, operation, raw_variables)
    return None if found is None else found.body


async def compiled_read(
    pool: Pool,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    raw_variables: dict[str, Any],
) -> CompiledAnswer | None:
    """`compiled_answer`, with the `data` its bytes hold."""
    try:
        return await compile_read(pool, document, operation, raw_variables)
    except (Unsupported, UnsupportedSelection, DealgraphError, ValueError, GraphQLError):
        # GraphQLError: a value the executor refuses (a null variable where one is
        # needed); the resolvers answer it with their error.
        return None
    except asyncpg.DataError:
        # A value the database refuses (the resolvers answer it with its error code);
        # an unavailable database is not caught here, so it still answers 503.
        return None

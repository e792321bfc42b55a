"""Abuse limits on a GraphQL document: tokens, depth, aliases and cost.

Cost estimates how many objects a query can make the server load. A field that
returns an object costs 1; a connection multiplies what is selected under it by its
page size (`first`/`last`, 20 when absent); any other list of objects by an assumed
typical length. Scalars are free. Introspection (`__schema`, `__type`) is walked like any
selection, its aliases and depth counted (but for `ofType`, a short chain that multiplies
nothing), and costs the number of objects it returns (schema/introspection_cost.py). Aggregates
(`AGGREGATES`) are priced by the rows they read, not by the buckets they return.
"""

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SchemaMetaFieldDef,
    SelectionSetNode,
    TypeMetaFieldDef,
    TypeNameMetaFieldDef,
    Undefined,
    parse,
    value_from_ast_untyped,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values

from db.infra.errors import DealgraphError
from db.infra.pagination import DEFAULT_PAGE_SIZE
from db.sizes import TableSizes
from schema.introspection_cost import IntrospectionCounter
from schema.scan_cost import scan_points

MAX_TOKENS = 2_000
MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_COST = 5_000
# Rounds hold a handful of participations, claims and events; price them as five.
ASSUMED_LIST_LENGTH = 5

# Aggregates read rows in the database, a point per ROWS_PER_POINT. The rows are not known
# before the query runs: a filter without a company or an investor reads every round,
# priced at the scale the service is sized for; one with them reads that party's rounds.
ROWS_PER_POINT = 1_000
ALL_ROUNDS = 1_000_000
ONE_PARTYS_ROUNDS = 1_000
# Grouped by investor, each round is read once per participation.
PARTICIPATIONS_PER_ROUND = 2
# As of a time, each round's values are derived again from its claims.
AS_OF_FACTOR = 4


def _round_stats_cost(arguments: dict[str, Any]) -> int:
    # Priced before the variables are checked: a value of the wrong shape prices as absent.
    chosen = arguments.get("filter")
    chosen = chosen if isinstance(chosen, dict) else {}
    narrow = any(chosen.get(name) is not None for name in ("companyId", "investorId"))
    rows = ONE_PARTYS_ROUNDS if narrow else ALL_ROUNDS
    group_by = arguments.get("groupBy")
    if isinstance(group_by, list) and "INVESTOR" in group_by:
        rows *= PARTICIPATIONS_PER_ROUND
    factor = AS_OF_FACTOR if arguments.get("asOf") is not None else 1
    return math.ceil(rows / ROWS_PER_POINT) * factor


# (type, field) -> the price of the rows it reads, from its arguments. What is selected
# under it is added once: its buckets' objects are loaded in one batch whatever their number.
AGGREGATES: dict[tuple[str, str], Callable[[dict[str, Any]], int]] = {
    ("Query", "roundStats"): _round_stats_cost,
}


class QueryLimitError(DealgraphError):
    """A document over one of the limits; refused before it runs."""


class TooManyTokens(QueryLimitError):
    code = "TOO_MANY_TOKENS"


class TooDeep(QueryLimitError):
    code = "QUERY_TOO_DEEP"


class TooManyAliases(QueryLimitError):
    code = "TOO_MANY_ALIASES"


class TooCostly(QueryLimitError):
    code = "QUERY_TOO_COSTLY"


class ReservedAlias(QueryLimitError):
    code = "RESERVED_ALIAS"


# What an answer's size is counted by (api/guard/answer_size.py): the objects of a list
# under this key are a connection's edges, counted as their nodes. Another field aliased
# so would have its objects go uncounted.
EDGES = "edges"


@functools.lru_cache(maxsize=512)
def parse_document(query: str) -> DocumentNode:
    """Parse once per distinct document; a GraphQLError is a syntax error for the client."""
    try:
        return parse(query, max_lexical_tokens=MAX_TOKENS)
    except GraphQLError as e:
        if "tokens" in e.message and str(MAX_TOKENS) in e.message:
            raise TooManyTokens(
                f"the document has more than {MAX_TOKENS} tokens; split it into smaller queries"
            ) from None
        raise


@dataclass(frozen=True, slots=True)
class _Meta:
    name: str
    definition: GraphQLField


@dataclass(frozen=True, slots=True)
class Measure:
    cost: int
    depth: int
    aliases: int
    # The first field aliased as EDGES that is not a connection's edges, as "name (line:column)".
    misnamed_edges: str | None = None


def select_operation(
    document: DocumentNode, operation_name: str | None
) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == operation_name), None)


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: VariableValues | None,
        sizes: TableSizes,
    ) -> None:
        self.schema = schema
        # None when the variables do not coerce: the request fails before it runs.
        self.variables = variables
        self.sizes = sizes
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.aliases = 0
        self.misnamed_edges: str | None = None
        # One count for the whole document, so that its steps stay within the cost limit
        # however many times introspection is asked for.
        self.introspection = IntrospectionCounter(
            schema, self.fragments, variables.coerced if variables else {}, MAX_COST
        )
        # Cost, depth and aliases of each fragment, by name.
        self.walked: dict[str, tuple[int, int, int]] = {}

    def selection(
        self, parent: GraphQLNamedType, selection_set: SelectionSetNode, seen: frozenset[str]
    ) -> tuple[int, int]:
        """The cost and depth of a selection set on a parent type."""
        cost = depth = 0
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                field_cost, field_depth = self.field(parent, node, seen)
            elif isinstance(node, InlineFragmentNode):
                on = parent
                if node.type_condition is not None:
                    on = self.schema.get_type(node.type_condition.name.value) or parent
                field_cost, field_depth = self.selection(on, node.selection_set, seen)
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:  # validation reports these
                    continue
                field_cost, field_depth = self.spread(parent, fragment, seen | {name})
            else:
                continue
            cost += field_cost
            depth = max(depth, field_depth)
        return cost, depth

    def spread(
        self, parent: GraphQLNamedType, fragment: FragmentDefinitionNode, seen: frozenset[str]
    ) -> tuple[int, int]:
        """A fragment's cost and depth, walked once per document: walked at each spread,
        fragments that spread the next one twice would take 2^n steps to refuse."""
        name = fragment.name.value
        if name not in self.walked:
            aliases = self.aliases
            on = self.schema.get_type(fragment.type_condition.name.value) or parent
            cost, depth = self.selection(on, fragment.selection_set, seen)
            self.walked[name] = (cost, depth, self.aliases - aliases)
        else:
            cost, depth, aliases = self.walked[name]
            self.aliases += aliases
        return cost, depth

    def field(
        self, parent: GraphQLNamedType, node: FieldNode, seen: frozenset[str]
    ) -> tuple[int, int]:
        name = node.name.value
        if node.alias is not None:
            self.aliases += 1
            if node.alias.value == EDGES and name != EDGES and self.misnamed_edges is None:
                where = (
                    node.alias.loc.source.get_location(node.alias.loc.start)
                    if node.alias.loc
                    else None
                )
                self.misnamed_edges = name + (f" ({where.line}:{where.column})" if where else "")
        if not isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)):
            return 0, 1
        definition = _META_FIELDS.get(name) if name.startswith("__") else None
        if definition is None:
            definition = parent.fields.get(name)
        if definition is None or node.selection_set is None:
            return 0, 1
        named, is_list = _unwrap(definition.type)
        child_cost, child_depth = self.selection(named, node.selection_set, seen)
        if name in ("__schema", "__type"):
            return self.introspection.root(node), child_depth + 1
        if parent.name == "__Type" and name == "ofType":
            # A chain of single objects as long as a type's wrappers (at most a few): it
            # multiplies nothing, and GraphiQL's schema query nests it seven deep.
            return child_cost, child_depth
        aggregate = AGGREGATES.get((parent.name, name))
        if aggregate is not None:
            return aggregate(self.given_arguments(node)) + child_cost, child_depth + 1
        if named.name.endswith("Connection"):
            args = self.arguments(definition, node)
            size = args.get("first") if args.get("first") is not None else args.get("last")
            page = max(size, 0) if isinstance(size, int) else DEFAULT_PAGE_SIZE
            counts = self.selects(node.selection_set, "totalCount")
            scan = scan_points(parent.name, name, args, counts, self.sizes)
            return 1 + scan + page * child_cost, child_depth + 1
        if named.name.endswith("Edge"):
            return child_cost, child_depth + 1
        multiplier = ASSUMED_LIST_LENGTH if is_list else 1
        return multiplier * (1 + child_cost), child_depth + 1

    def arguments(self, definition: GraphQLField, node: FieldNode) -> dict[str, Any]:
        """The field's arguments as it will run with them: coerced, defaults applied."""
        if self.variables is None:
            return {}
        try:
            return get_argument_values(definition, node, self.variables)
        except GraphQLError:
            return {}  # validation refuses the request before it runs

    def selects(self, selection_set: SelectionSetNode, name: str) -> bool:
        """Whether the selection asks for field `name`, directly or through fragments."""
        for node in selection_set.selections:
            if isinstance(node, FieldNode) and node.name.value == name:
                return True
            if isinstance(node, InlineFragmentNode) and self.selects(node.selection_set, name):
                return True
            if isinstance(node, FragmentSpreadNode):
                fragment = self.fragments.get(node.name.value)
                # A fragment that spreads itself: validation refuses the document.
                if fragment is not None and any(
                    isinstance(n, FieldNode) and n.name.value == name
                    for n in fragment.selection_set.selections
                ):
                    return True
        return False

    def given_arguments(self, node: FieldNode) -> dict[str, Any]:
        """The arguments given, with the variables' values; a variable not given is absent."""
        variables = self.variables.coerced if self.variables is not None else {}
        given = (
            (argument.name.value, value_from_ast_untyped(argument.value, variables))
            for argument in node.arguments or ()
        )
        return {name: value for name, value in given if value is not Undefined}


# Introspection's entry points, which no type lists among its fields.
_META_FIELDS = {
    f.name: f.definition
    for f in (
        _Meta("__schema", SchemaMetaFieldDef),
        _Meta("__type", TypeMetaFieldDef),
        _Meta("__typename", TypeNameMetaFieldDef),
    )
}


def _unwrap(type_: GraphQLOutputType) -> tuple[GraphQLNamedType, bool]:
    is_list = False
    while isinstance(type_, (GraphQLNonNull, GraphQLList)):
        is_list = is_list or isinstance(type_, GraphQLList)
        type_ = type_.of_type
    assert isinstance(type_, (GraphQLNamedType, GraphQLUnionType))
    return type_, is_list


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: dict[str, Any],
    *,
    sizes: TableSizes | None = None,
) -> Measure:
    """`sizes`: the tables' sizes, which lists that scan them are priced by (none: empty)."""
    root = schema.get_root_type(operation.operation)
    if root is None:
        return Measure(cost=0, depth=0, aliases=0)
    # Priced with the values the query will run with: defaults applied, 100.0 taken as
    # the Int 100. Variables that do not coerce fail the request before anything runs.
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables)
    walker = _Walker(
        schema,
        document,
        coerced if isinstance(coerced, VariableValues) else None,
        sizes or TableSizes(),
    )
    cost, depth = walker.selection(root, operation.selection_set, frozenset())
    return Measure(
        cost=cost, depth=depth, aliases=walker.aliases, misnamed_edges=walker.misnamed_edges
    )


def check_limits(found: Measure) -> None:
    if found.misnamed_edges is not None:
        raise ReservedAlias(
            f"the alias '{EDGES}' is kept for a connection's edges, which the answer's size "
            f"counts as their nodes; field {found.misnamed_edges} needs another alias"
        )
    if found.depth > MAX_DEPTH:
        raise TooDeep(f"the query is nested {found.depth} levels deep; at most {MAX_DEPTH}")
    if found.aliases > MAX_ALIASES:
        raise TooManyAliases(f"the query uses {found.aliases} aliases; at most {MAX_ALIASES}")
    if found.cost > MAX_COST:
        raise TooCostly(
            f"the query costs {found.cost} points (the objects it can load, the rows it can "
            f"scan), over the limit of {MAX_COST}; ask for smaller pages (first/last), fewer "
            "nested lists, or a shorter search"
        )

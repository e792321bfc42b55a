"""What an introspection selection returns, counted on the schema itself.

Introspection reads no database, but its answers can be large (the whole schema is
~1,000 objects, ~90 kB) and are built on the event loop. It is priced by the number of
objects it returns, counted exactly here by walking the selection over the schema's own
types, fields and arguments as the executor would, and given up at `cap`: the count
never takes more steps than the cost limit allows.
"""

from collections.abc import Iterable
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    GraphQLWrappingType,
    InlineFragmentNode,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
)

# Deeper than any document the depth limit lets run (fragments spread in themselves
# would otherwise recurse for ever before validation refuses them).
_MAX_NESTING = 64


class _OverCap(Exception):
    pass


def _type_children(schema: GraphQLSchema, t: Any, name: str) -> Any:
    """The value of field `name` of a __Type: a list, one object, or None."""
    has_fields = isinstance(t, GraphQLObjectType | GraphQLInterfaceType)
    match name:
        case "fields":
            return list(t.fields.items()) if has_fields else None
        case "interfaces":
            return list(t.interfaces) if has_fields else None
        case "possibleTypes":
            abstract = isinstance(t, GraphQLInterfaceType | GraphQLUnionType)
            return list(schema.get_possible_types(t)) if abstract else None
        case "enumValues":
            values = getattr(t, "values", None)
            return list(values.items()) if isinstance(values, dict) else None
        case "inputFields":
            return list(t.fields.items()) if isinstance(t, GraphQLInputObjectType) else None
        case "ofType":
            return t.of_type if isinstance(t, GraphQLWrappingType) else None
    return None


def _children(schema: GraphQLSchema, kind: str, value: Any, name: str) -> tuple[str, Any]:
    """The introspection type and the value of field `name` of `value`, of type `kind`."""
    if kind == "__Schema":
        match name:
            case "types":
                return "__Type", list(schema.type_map.values())
            case "queryType":
                return "__Type", schema.query_type
            case "mutationType":
                return "__Type", schema.mutation_type
            case "subscriptionType":
                return "__Type", schema.subscription_type
            case "directives":
                return "__Directive", [(d.name, d) for d in schema.directives]
    elif kind == "__Type":
        child = _type_children(schema, value, name)
        item = {"fields": "__Field", "enumValues": "__EnumValue", "inputFields": "__InputValue"}
        return item.get(name, "__Type"), child
    elif kind in ("__Field", "__Directive") and name == "args":
        return "__InputValue", list(value[1].args.items())
    elif kind in ("__Field", "__InputValue") and name == "type":
        definition: GraphQLField | GraphQLArgument | GraphQLInputField = value[1]
        return "__Type", definition.type
    return "", None


class IntrospectionCounter:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        cap: int,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.left = cap

    def root(self, node: FieldNode) -> int:
        """The objects `__schema { ... }` or `__type(name: ...) { ... }` returns; past the
        cap, the cap plus one."""
        start = self.left
        try:
            if node.name.value == "__schema":
                self._object("__Schema", self.schema, node.selection_set, 0)
            else:
                found = self.schema.get_type(self._type_name(node) or "")
                if found is not None:
                    self._object("__Type", found, node.selection_set, 0)
        except _OverCap:
            self.left = 0
            return start + 1
        return start - self.left

    def _type_name(self, node: FieldNode) -> str | None:
        for argument in node.arguments or ():
            value = argument.value
            if isinstance(value, StringValueNode):
                return value.value
            if isinstance(value, VariableNode):
                given = self.variables.get(value.name.value)
                return given if isinstance(given, str) else None
        return None

    def _object(
        self, kind: str, value: Any, selection_set: SelectionSetNode | None, nesting: int
    ) -> None:
        self.left -= 1
        if self.left < 0 or nesting > _MAX_NESTING:
            raise _OverCap
        for field in self._fields(selection_set):
            if field.selection_set is None:
                continue
            child_kind, child = _children(self.schema, kind, value, field.name.value)
            for item in child if isinstance(child, list) else [child]:
                if item is not None:
                    self._object(child_kind, item, field.selection_set, nesting + 1)

    def _fields(self, selection_set: SelectionSetNode | None) -> Iterable[FieldNode]:
        seen: set[str] = set()

        def walk(s: SelectionSetNode | None) -> Iterable[FieldNode]:
            for node in s.selections if s is not None else ():
                if isinstance(node, FieldNode):
                    yield node
                elif isinstance(node, InlineFragmentNode):
                    yield from walk(node.selection_set)
                elif isinstance(node, FragmentSpreadNode) and node.name.value not in seen:
                    seen.add(node.name.value)
                    fragment = self.fragments.get(node.name.value)
                    yield from walk(fragment.selection_set if fragment else None)

        return walk(selection_set)

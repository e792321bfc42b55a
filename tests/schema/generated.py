"""Random valid queries over the whole schema, as frontends write them.

hypothesis-graphql draws the fields and arguments (inline fragments on the interfaces
included); the values come from the database under test, so ids, slugs and cursors
find something. Each document is then rewritten at random the ways a client may write
the same request: aliases, a field asked twice, inline and named fragments (on the type,
on an interface it implements, or with no type), arguments as variables (given, or
left to their default), @skip and @include with literals or variables, __typename.
"""

import random
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    ArgumentNode,
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInputType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    NamedTypeNode,
    NameNode,
    NullValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableDefinitionNode,
    VariableNode,
    get_named_type,
    is_composite_type,
    is_non_null_type,
    print_ast,
    type_from_ast,
    value_from_ast_untyped,
)
from graphql.language import parse_type
from hypothesis import strategies as st
from hypothesis_graphql import nodes, queries


@dataclass(frozen=True, slots=True)
class Values:
    """What argument values are drawn from."""

    ids: list[str]
    strings: list[str]
    moments: list[str]
    dates: list[str] = field(default_factory=lambda: ["1999-12-31", "2008-01-01", "2013-06-30"])
    decimals: list[str] = field(default_factory=lambda: ["0", "1000000", "50000000.5", "1e3"])


def query_strategy(schema: GraphQLSchema, values: Values) -> st.SearchStrategy[DocumentNode]:
    scalars = {
        "ID": st.sampled_from(values.ids).map(nodes.String),
        "String": st.sampled_from(values.strings).map(nodes.String),
        "Int": st.sampled_from([0, 1, 2, 3, 4, 1, 2, 3, 20, 2, 1, 3, 0, 4, 101]).map(nodes.Int),
        "DateTime": st.sampled_from(values.moments).map(nodes.String),
        "Date": st.sampled_from(values.dates).map(nodes.String),
        "Decimal": st.sampled_from(values.decimals).map(nodes.String),
    }
    # Documents, not their text: they are rewritten before they are printed.
    documents: st.SearchStrategy[DocumentNode] = queries(
        schema,
        custom_scalars=scalars,
        print_ast=lambda d: d,
    )
    return documents


@dataclass
class Rewriter:
    """One document rewritten at random; `variables` are the values to send with it."""

    schema: GraphQLSchema
    rng: random.Random
    values: Values
    variables: dict[str, Any] = field(default_factory=dict)
    definitions: list[VariableDefinitionNode] = field(default_factory=list)
    fragments: list[FragmentDefinitionNode] = field(default_factory=list)
    names: int = 0

    def fresh(self, prefix: str) -> str:
        self.names += 1
        return f"{prefix}{self.names}"

    def document(self, document: DocumentNode) -> tuple[str, dict[str, Any]]:
        [operation] = document.definitions
        assert isinstance(operation, OperationDefinitionNode)
        query_type = self.schema.query_type
        assert query_type is not None
        selection_set = self.selections(operation.selection_set, query_type)
        rewritten = OperationDefinitionNode(
            operation=OperationType.QUERY,
            name=NameNode(value="Q") if self.rng.random() < 0.3 else None,
            variable_definitions=tuple(self.definitions),
            directives=(),
            selection_set=selection_set,
        )
        text = print_ast(DocumentNode(definitions=(rewritten, *self.fragments)))
        return text, self.variables

    def selections(
        self, selection_set: SelectionSetNode, parent: GraphQLObjectType | Any
    ) -> SelectionSetNode:
        out: list[Any] = []
        for node in selection_set.selections:
            if isinstance(node, InlineFragmentNode):
                condition = node.type_condition
                inner = parent if condition is None else self.schema.get_type(condition.name.value)
                out.append(
                    InlineFragmentNode(
                        type_condition=condition,
                        directives=(),
                        selection_set=self.selections(node.selection_set, inner),
                    )
                )
                continue
            assert isinstance(node, FieldNode)
            out.extend(self.field(node, parent))
        if self.rng.random() < 0.15:
            out.insert(self.rng.randrange(len(out) + 1), _field("__typename"))
        return SelectionSetNode(selections=tuple(out))

    def field(self, node: FieldNode, parent: Any) -> list[Any]:
        rng = self.rng
        definition = parent.fields[node.name.value]
        arguments = tuple(
            self.argument(node.name.value, a, definition.args[a.name.value].type)
            for a in self.given(node, definition.args)
        )
        selection_set = None
        if node.selection_set is not None:
            named = get_named_type(definition.type)
            assert is_composite_type(named)
            selection_set = self.selections(node.selection_set, named)
        alias = NameNode(value=self.fresh("a")) if rng.random() < 0.2 else node.alias
        rewritten = FieldNode(
            alias=alias,
            name=node.name,
            arguments=arguments,
            directives=self.directives(),
            selection_set=selection_set,
        )
        found: list[Any] = [rewritten]
        if rng.random() < 0.1:
            # The same field twice: the executor merges them.
            found.append(rewritten)
        if rng.random() < 0.15:
            found = [self.fragment(found, parent)]
        return found

    def given(self, node: FieldNode, definitions: dict[str, Any]) -> list[ArgumentNode]:
        """The arguments a client would send: most cursors and some others left out (a
        drawn cursor is mostly not one), and rarely both first and last."""
        rng = self.rng
        kept = [
            a
            for a in node.arguments or ()
            if is_non_null_type(definitions[a.name.value].type)
            or rng.random() < (0.15 if a.name.value in ("after", "before") else 0.6)
        ]
        names = {a.name.value for a in kept}
        # Query.organization: exactly one of the two, mostly, as the field asks.
        if "slug" in definitions and len(names & {"id", "slug"}) != 1 and rng.random() < 0.9:
            drop = rng.choice(["id", "slug"]) if names >= {"id", "slug"} else None
            kept = [a for a in kept if a.name.value != drop]
            if not names & {"id", "slug"}:
                kept.append(
                    ArgumentNode(
                        name=NameNode(value="slug"),
                        value=StringValueNode(value=rng.choice(self.values.strings)),
                    )
                )
        if {"first", "last"} <= names and rng.random() < 0.9:
            kept = [a for a in kept if a.name.value != rng.choice(["first", "last"])]
        return kept

    def fragment(self, selections: list[Any], parent: Any) -> Any:
        rng = self.rng
        # An interface only when it has every field wrapped.
        interfaces = [
            i.name
            for i in getattr(parent, "interfaces", ())
            if all(
                not isinstance(f, FieldNode) or f.name.value in (*i.fields, "__typename")
                for f in selections
            )
        ]
        on = rng.choice([parent.name, None, *interfaces])
        selection_set = SelectionSetNode(selections=tuple(selections))
        if on is not None and rng.random() < 0.5:
            name = self.fresh("F")
            self.fragments.append(
                FragmentDefinitionNode(
                    name=NameNode(value=name),
                    type_condition=NamedTypeNode(name=NameNode(value=on)),
                    directives=(),
                    selection_set=selection_set,
                )
            )
            return FragmentSpreadNode(name=NameNode(value=name), directives=self.directives())
        return InlineFragmentNode(
            type_condition=None if on is None else NamedTypeNode(name=NameNode(value=on)),
            directives=self.directives(),
            selection_set=selection_set,
        )

    def directives(self) -> tuple[DirectiveNode, ...]:
        rng = self.rng
        if rng.random() > 0.1:
            return ()
        which = rng.choice(["skip", "include"])
        value: ValueNode
        if rng.random() < 0.5:
            value = BooleanValueNode(value=rng.random() < 0.5)
        else:
            name = self.fresh("b")
            self.definitions.append(_definition(name, "Boolean!"))
            self.variables[name] = rng.random() < 0.5
            value = VariableNode(name=NameNode(value=name))
        return (
            DirectiveNode(
                name=NameNode(value=which),
                arguments=(ArgumentNode(name=NameNode(value="if"), value=value),),
            ),
        )

    def argument(self, field: str, node: ArgumentNode, arg_type: GraphQLInputType) -> ArgumentNode:
        rng = self.rng
        prefix = {"round": "rnd_", "organization": "org_", "acquisition": "acq_"}.get(field)
        if node.name.value == "id" and prefix and rng.random() < 0.9:
            # Mostly the id of the kind asked for.
            ids = [i for i in self.values.ids if i.startswith(prefix)]
            node = ArgumentNode(name=node.name, value=StringValueNode(value=rng.choice(ids)))
        if isinstance(node.value, NullValueNode) or rng.random() > 0.3:
            return node
        name = self.fresh("v")
        type_text = str(arg_type)
        definition = _definition(name, type_text)
        if rng.random() < 0.3 and not type_text.endswith("!"):
            # Left to the variable's default.
            definition = VariableDefinitionNode(
                variable=definition.variable,
                type=definition.type,
                default_value=node.value,  # type: ignore[arg-type]  # a literal: constant
            )
        else:
            self.variables[name] = value_from_ast_untyped(node.value)
        assert type_from_ast(self.schema, definition.type) is not None
        self.definitions.append(definition)
        return ArgumentNode(name=node.name, value=VariableNode(name=NameNode(value=name)))


def _field(name: str) -> FieldNode:
    return FieldNode(alias=None, name=NameNode(value=name), arguments=(), directives=())


def _definition(name: str, type_text: str) -> VariableDefinitionNode:
    return VariableDefinitionNode(
        variable=VariableNode(name=NameNode(value=name)), type=parse_type(type_text), directives=()
    )


def rewrite(
    schema: GraphQLSchema, values: Values, document: DocumentNode, seed: int
) -> tuple[str, dict[str, Any]]:
    return Rewriter(schema, random.Random(seed), values).document(document)

"""GraphQL requests carrying a NUL character in a value are refused before they run.

PostgreSQL's text cannot hold NUL (db/infra/storable.py), and a String argument travels to it
as is: in a lookup or a search, a NUL would fail in the database as an internal error.
GraphQL's String scalar cannot be given a stricter parser (its name is reserved), so the
check is here, on the variables and on the string literals of the document.
"""

from typing import Any

from graphql import (
    BREAK,
    ArgumentNode,
    DocumentNode,
    ObjectFieldNode,
    StringValueNode,
    Visitor,
    visit,
)

from db.infra.storable import NUL, nul_path
from schema.per_document import per_document


class _NulLiteral(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.argument: str | None = None

    def enter_string_value(
        self, node: StringValueNode, key: Any, parent: Any, path: Any, ancestors: list[Any]
    ) -> object:
        if NUL not in node.value:
            return None
        names = [
            a.name.value
            for a in [*ancestors, parent]
            if isinstance(a, ArgumentNode | ObjectFieldNode)
        ]
        self.argument = ".".join(names) or "a string"
        return BREAK


def nul_refusal(document: DocumentNode, variables: dict[str, Any]) -> str | None:
    """Why the request is refused, naming the variable or argument; None if it holds no NUL."""
    if (found := nul_path(variables)) is not None:
        where = f" at '{'.'.join(map(str, found))}'" if len(found) > 1 else ""
        return f"Variable '${found[0]}'{where}: text must not contain NUL characters"
    argument = _nul_literal(document)
    if argument is not None:
        return f"Argument '{argument}': text must not contain NUL characters"
    return None


@per_document
def _nul_literal(document: DocumentNode) -> str | None:
    """The argument holding a NUL in the document's own text; once per document (the
    parsed documents are cached, so the same object comes back for the same text)."""
    finder = _NulLiteral()
    visit(document, finder)
    return finder.argument

"""A GraphQL request's cost, known before the key is charged, so that finding the key and
charging the whole cost take one statement instead of two.

The body is read here (it is small: at most the endpoint's limit) and handed on to the
endpoint unchanged. Any request whose cost cannot be told cheaply (a body too large, not
JSON, a document that does not parse, a persisted query's hash) counts 1 point here, and
the endpoint charges the rest as before.
"""

from typing import Any
from urllib.parse import parse_qs

import orjson
from starlette.types import Message, Receive, Scope

from api.graphql.endpoint import MAX_BODY_BYTES
from schema.limits import measure, parse_document, select_operation
from schema.schema import schema


async def read_body(scope: Scope, receive: Receive) -> tuple[bytes | None, Receive]:
    """The body when it is complete and within the limit (else None), and a `receive`
    that gives the endpoint every message this read took, then the rest."""
    taken: list[Message] = []
    body = bytearray()
    complete = False
    if scope["method"] == "POST":
        while len(body) <= MAX_BODY_BYTES:
            message = await receive()
            taken.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body", False):
                complete = True
                break

    async def replay() -> Message:
        return taken.pop(0) if taken else await receive()

    return (bytes(body) if complete and len(body) <= MAX_BODY_BYTES else None), replay


def points(scope: Scope, body: bytes | None) -> int:
    """The request's query cost, at least 1; 1 when it cannot be told cheaply."""
    try:
        if scope["method"] == "POST":
            params: Any = orjson.loads(body) if body is not None else None
        else:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            params = {k: v[0] for k, v in query.items()}
            if "variables" in params:
                params["variables"] = orjson.loads(params["variables"])
        if not isinstance(params, dict) or not isinstance(params.get("query"), str):
            return 1
        variables = params.get("variables") or {}
        if not isinstance(variables, dict):
            return 1
        document = parse_document(params["query"])
        operation = select_operation(document, params.get("operationName"))
        if operation is None:
            return 1
        return max(1, measure(schema._schema, document, operation, variables).cost)
    except Exception:
        return 1

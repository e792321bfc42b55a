"""GraphQL over HTTP, to the letter of the GraphQL-over-HTTP specification.

POST with a JSON body, or GET with the request in the query string (queries only: a
mutation over GET is 405). The answer is `application/graphql-response+json` when
the client accepts it, with 4xx for request errors (the document does not parse or
validate, or its variables do not fit) and 200 otherwise; plain `application/json`,
always 200 for a well-formed request, for older clients. GraphiQL for a browser.
Either way, a request the database could not serve for now (SERVICE_UNAVAILABLE,
QUERY_TIMEOUT) is a 503 with Retry-After: a server error, which any client retries.
"""

from dataclasses import dataclass
from typing import Any

import orjson
from graphql import GraphQLError, OperationType
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from api.graphql import persisted
from api.graphql.graphiql import graphiql_page
from api.guard.answer_size import objects_of, tell_objects
from api.guard.graphql_storable import nul_refusal
from api.guard.ratelimit import admit_operation, cost_report, principal_and_quota
from api.guard.refusals import RETRY_AFTER_SECONDS
from api.ops.replica import pool_for, position_headers
from api.state import compiled_queries_of, demo_key_of, table_sizes_of
from db.infra.availability import CODES as UNAVAILABLE_CODES
from db.infra.errors import BadInput
from schema.context import Context
from schema.fastpath import compiled_read
from schema.limits import (
    MAX_COST,
    QueryLimitError,
    check_limits,
    measure,
    parse_document,
    select_operation,
)
from schema.schema import schema

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
MAX_BODY_BYTES = 100_000


class HTTPRequestError(Exception):
    """The HTTP request itself is not a well-formed GraphQL request."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass(frozen=True, slots=True)
class GraphQLParams:
    query: str
    variables: dict[str, Any]
    operation_name: str | None
    # The hash to remember the document by once it has run (automatic persisted queries).
    persist_as: str | None = None


def negotiate(accept: str | None) -> str | None:
    """The response media type for an Accept header, or None when none fits (406)."""
    if not accept:
        # The specification's advice for clients that send no Accept header.
        return JSON
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept.split(",")):
        media, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        match media.lower():
            case "application/graphql-response+json":
                ranked.append((quality, -position, GRAPHQL_RESPONSE))
            case "application/json":
                ranked.append((quality, -position, JSON))
            case "application/*" | "*/*":
                ranked.append((quality - 0.001, -position, GRAPHQL_RESPONSE))
    return max(ranked)[2] if ranked else None


def _params(source: dict[str, Any]) -> GraphQLParams:
    query = source.get("query")
    if query is not None and not isinstance(query, str):
        raise HTTPRequestError(400, "`query` must be a string")
    query, persist_as = persisted.resolve(source.get("extensions"), query)
    if query is None or not query.strip():
        raise HTTPRequestError(400, "the request has no query: send one in the `query` field")
    variables = source.get("variables")
    if variables is None:
        variables = {}
    if not isinstance(variables, dict):
        raise HTTPRequestError(400, "`variables` must be a JSON object")
    operation_name = source.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise HTTPRequestError(400, "`operationName` must be a string")
    return GraphQLParams(
        query=query, variables=variables, operation_name=operation_name, persist_as=persist_as
    )


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if (
        declared is not None
        and declared.isascii()
        and declared.isdigit()
        and int(declared) > MAX_BODY_BYTES
    ):
        raise HTTPRequestError(413, f"the request body is over {MAX_BODY_BYTES} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise HTTPRequestError(413, f"the request body is over {MAX_BODY_BYTES} bytes")
    return bytes(body)


async def read_params(request: Request) -> GraphQLParams:
    if request.method == "GET":
        query_params = dict(request.query_params)
        source: dict[str, Any] = {
            "query": query_params.get("query"),
            "operationName": query_params.get("operationName"),
        }
        for name in ("variables", "extensions"):
            if raw := query_params.get(name):
                try:
                    source[name] = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    raise HTTPRequestError(400, f"`{name}` is not valid JSON") from None
        return _params(source)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != JSON:
        raise HTTPRequestError(
            415, f"send the request as {JSON}, not {content_type or 'no content type'}"
        )
    try:
        body = orjson.loads(await _read_body(request))
    except orjson.JSONDecodeError as e:
        raise HTTPRequestError(400, f"the body is not valid JSON: {e}") from None
    if not isinstance(body, dict):
        raise HTTPRequestError(400, "the body must be a JSON object with a `query` field")
    return _params(body)


def _render(media_type: str, status: int, payload: dict[str, Any], **headers: str) -> Response:
    return Response(
        orjson.dumps(payload), status_code=status, media_type=media_type, headers=headers or None
    )


def _errors(message: str, code: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


def _request_error(media_type: str, message: str, code: str) -> Response:
    # A request error under application/json is still a 200: old clients read the body.
    status = 400 if media_type == GRAPHQL_RESPONSE else 200
    return _render(media_type, status, _errors(message, code))


def wants_graphiql(request: Request) -> bool:
    return (
        request.method == "GET"
        and "query" not in request.query_params
        and "text/html" in request.headers.get("accept", "")
    )


async def graphql_endpoint(request: Request) -> Response:
    if wants_graphiql(request):
        return HTMLResponse(graphiql_page(request, demo_key_of(request)))
    media_type = negotiate(request.headers.get("accept"))
    if media_type is None:
        return Response(
            f"this endpoint answers {GRAPHQL_RESPONSE} or {JSON}", 406, media_type="text/plain"
        )
    try:
        params = await read_params(request)
    except HTTPRequestError as e:
        return _render(media_type, e.status, _errors(e.message, "BAD_REQUEST"), **e.headers)
    except persisted.PersistedQueryError as e:
        return _request_error(media_type, e.message, e.code)

    try:
        document = parse_document(params.query)
    except QueryLimitError as e:
        return _request_error(media_type, e.message, e.code)
    except GraphQLError as e:
        return _request_error(media_type, e.message, "GRAPHQL_PARSE_FAILED")
    operation = select_operation(document, params.operation_name)
    if operation is None:
        message = (
            f"no operation named {params.operation_name!r} in the document"
            if params.operation_name
            else "the document has several operations: say which in operationName"
        )
        return _request_error(media_type, message, "GRAPHQL_VALIDATION_FAILED")
    if request.method == "GET" and operation.operation is not OperationType.QUERY:
        message = "only queries may be sent with GET; use POST"
        return _render(media_type, 405, _errors(message, "METHOD_NOT_ALLOWED"), allow="POST")
    if operation.operation is OperationType.SUBSCRIPTION:
        message = "subscriptions are served over WebSocket on /graphql (graphql-transport-ws)"
        return _request_error(media_type, message, "BAD_REQUEST")
    if (refusal_reason := nul_refusal(document, params.variables)) is not None:
        return _request_error(media_type, refusal_reason, "BAD_USER_INPUT")
    found = measure(
        schema._schema, document, operation, params.variables, sizes=table_sizes_of(request)
    )
    try:
        check_limits(found)
        refusal = await admit_operation(request, operation.operation, found.cost)
    except QueryLimitError as e:
        return _request_error(media_type, e.message, e.code)
    if refusal is not None:
        return refusal.graphql(media_type)
    keyed = principal_and_quota(request)
    try:
        pool = await pool_for(request, operation.operation)
    except BadInput as e:
        return _request_error(media_type, e.message, "BAD_REQUEST")
    extensions = {"cost": {"requested": found.cost, "limit": MAX_COST, **cost_report(request)}}

    if compiled_queries_of(request):
        compiled = await compiled_read(pool, document, operation, params.variables)
        if compiled is not None:
            if params.persist_as is not None:
                persisted.remember(params.persist_as, params.query)
            if keyed is not None:
                # Counted from the values at hand: the body is then not parsed again.
                objects = objects_of(compiled.data, compiled.body, more_than=keyed[1].charged)
                tell_objects(request, objects)
            body = b"{" + compiled.body + b',"extensions":' + orjson.dumps(extensions) + b"}"
            return Response(body, 200, media_type=media_type)

    result = await schema.execute(
        params.query,
        variable_values=params.variables,
        context_value=Context(pool=pool, principal=keyed[0] if keyed else None),
        operation_name=params.operation_name,
    )

    answer: dict[str, Any] = {}
    if result.errors:
        answer["errors"] = [e.formatted for e in result.errors]
    # No data and only errors without a path: the request failed validation or variable
    # coercion before anything ran.
    request_failed = result.data is None and all(e.path is None for e in result.errors or [])
    if params.persist_as is not None and not request_failed:
        persisted.remember(params.persist_as, params.query)
    if not request_failed:
        answer["data"] = result.data
    answer["extensions"] = extensions
    if any((e.extensions or {}).get("code") in UNAVAILABLE_CODES for e in result.errors or []):
        # The database let the request down, not the client: a 503 tells any HTTP client
        # to retry, whatever it makes of the body.
        retry_after = str(RETRY_AFTER_SECONDS)
        return _render(media_type, 503, answer, **{"retry-after": retry_after})
    status = 400 if request_failed and media_type == GRAPHQL_RESPONSE else 200
    # After a mutation, where its writes are in the WAL: for the client's Read-After.
    wrote = operation.operation is OperationType.MUTATION and not request_failed
    return _render(media_type, status, answer, **(await position_headers(request) if wrote else {}))

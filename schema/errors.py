"""Every GraphQL error carries extensions.code; unexpected ones are masked and logged.

A resolver that met the database unavailable gets SERVICE_UNAVAILABLE or QUERY_TIMEOUT
(db/infra/availability.py), which api/graphql/endpoint.py answers with 503 and Retry-After.
"""

import logging

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from db.infra.availability import PoolLimits, diagnose
from db.infra.errors import DealgraphError
from db.infra.pool import limits_of
from schema.context import Context

logger = logging.getLogger("dealgraph.graphql")


def _request_error_code(message: str) -> str:
    if message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if message.startswith("Variable '$"):
        return "BAD_USER_INPUT"
    return "GRAPHQL_VALIDATION_FAILED"


def _coded(error: GraphQLError, limits: PoolLimits | None) -> GraphQLError:
    original = error.original_error
    if isinstance(original, DealgraphError):
        code, message = original.code, original.message
    elif error.path is None:
        # Raised before execution: the document or its variables are wrong.
        code, message = _request_error_code(error.message), error.message
    elif original is None:
        code, message = "GRAPHQL_VALIDATION_FAILED", error.message
    elif (outage := diagnose(original, limits)) is not None:
        logger.warning("%s in a resolver (%r)", outage.message, original)
        code, message = outage.code, outage.message
    else:
        logger.error("unexpected error in a resolver", exc_info=original)
        code, message = "INTERNAL_SERVER_ERROR", "Internal server error."
    return GraphQLError(
        message=message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions={**(error.extensions or {}), "code": code},
    )


class ErrorCodes(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda _: True)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        context = self.execution_context.context
        return _coded(error, limits_of(context.pool) if isinstance(context, Context) else None)

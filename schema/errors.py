"""Every GraphQL error carries extensions.code; unexpected ones are masked and logged."""

import logging

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from db.errors import DealgraphError

logger = logging.getLogger("dealgraph.graphql")


def _request_error_code(message: str) -> str:
    if message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if message.startswith("Variable '$"):
        return "BAD_USER_INPUT"
    return "GRAPHQL_VALIDATION_FAILED"


def _coded(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if isinstance(original, DealgraphError):
        code, message = original.code, original.message
    elif error.path is None:
        # Raised before execution: the document or its variables are wrong.
        code, message = _request_error_code(error.message), error.message
    elif original is None:
        code, message = "GRAPHQL_VALIDATION_FAILED", error.message
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
        return _coded(error)

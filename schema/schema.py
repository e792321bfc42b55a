"""The strawberry schema, assembled once."""

import logging

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from schema.acquisition_mutation import AcquisitionMutation
from schema.errors import ErrorCodes
from schema.mutation import Mutation as RoundMutation
from schema.organization import Organization, Person
from schema.query import Query
from schema.scalars import SCALARS
from schema.subscription import Subscription

logger = logging.getLogger("dealgraph.graphql")


@strawberry.type
class Mutation(RoundMutation, AcquisitionMutation):
    pass


class _Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Strawberry logs every error at ERROR with a traceback: a client's bad document
        # or input would cost kilobytes of log each. Ours were logged already, at ERROR
        # with their traceback, where they were coded (schema/errors.py); what reaches
        # the client is noted here in one line.
        for error in errors:
            code = (error.extensions or {}).get("code", "GRAPHQL_ERROR")
            logger.info("GraphQL error %s: %s", code, error.message)


schema = _Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    types=[Organization, Person],
    # Each distinct document is parsed and validated once, not on every request: the
    # caches live at module level, shared by the per-request extension instances.
    extensions=[
        ErrorCodes,
        lambda: ParserCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
    ],
    config=StrawberryConfig(scalar_map=SCALARS),
)

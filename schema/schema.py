"""The strawberry schema, assembled once."""

import strawberry
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig

from schema.acquisition_mutation import AcquisitionMutation
from schema.errors import ErrorCodes
from schema.mutation import Mutation as RoundMutation
from schema.organization import Organization, Person
from schema.query import Query
from schema.scalars import SCALARS


@strawberry.type
class Mutation(RoundMutation, AcquisitionMutation):
    pass


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
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

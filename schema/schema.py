"""The strawberry schema, assembled once."""

import strawberry
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig

from schema.errors import ErrorCodes
from schema.organization import Organization, Person
from schema.query import Query
from schema.scalars import SCALARS

schema = strawberry.Schema(
    query=Query,
    types=[Organization, Person],
    # Each distinct document is parsed and validated once, not on every request. The
    # caches are instances so that they live across requests; strawberry accepts
    # instances though its annotation names only classes and factories.
    extensions=[
        ErrorCodes,
        ParserCache(maxsize=512),  # type: ignore[list-item]
        ValidationCache(maxsize=512),  # type: ignore[list-item]
    ],
    config=StrawberryConfig(scalar_map=SCALARS),
)

"""The strawberry schema, assembled once."""

import strawberry
from strawberry.schema.config import StrawberryConfig

from schema.errors import ErrorCodes
from schema.organization import Organization, Person
from schema.query import Query
from schema.scalars import SCALARS

schema = strawberry.Schema(
    query=Query,
    types=[Organization, Person],
    extensions=[ErrorCodes],
    config=StrawberryConfig(scalar_map=SCALARS),
)

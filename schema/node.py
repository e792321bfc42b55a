"""The Node and Investor interfaces."""

import strawberry


@strawberry.interface(description="An object that can be fetched again by its id.")
class Node:
    id: strawberry.ID


@strawberry.interface(description="Who puts money in: an organization or a person.")
class Investor:
    id: strawberry.ID
    name: str
    slug: str

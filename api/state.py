"""What the lifespan hands to every request."""

from typing import TypedDict

from starlette.requests import Request

from db.types import Pool


class State(TypedDict):
    pool: Pool


def pool_of(request: Request) -> Pool:
    pool: Pool = request.state.pool
    return pool

"""The ASGI application: GraphQL, health checks, and the pool they share."""

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TypedDict

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL

from db.types import Pool
from schema.context import Context
from schema.schema import schema

logger = logging.getLogger("dealgraph")


class State(TypedDict):
    pool: Pool


def pool_of(request: Request) -> Pool:
    pool: Pool = request.state.pool
    return pool


class GraphQLApp(GraphQL[Context, None]):
    async def get_context(self, request: Request, response: object) -> Context:  # type: ignore[override]
        return Context(pool=pool_of(request))


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    try:
        await pool_of(request).fetchval("select 1", timeout=2)
    except (OSError, asyncpg.PostgresError, TimeoutError) as e:
        logger.warning("readiness check failed: %s", e)
        return JSONResponse({"status": "unavailable", "detail": "database unreachable"}, 503)
    return JSONResponse({"status": "ok"})


def create_app(database_url: str, *, pool_min_size: int = 2, pool_max_size: int = 10) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[State]:
        async with asyncpg.create_pool(
            database_url, min_size=pool_min_size, max_size=pool_max_size
        ) as pool:
            yield {"pool": pool}

    graphql = GraphQLApp(schema)
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ],
        lifespan=lifespan,
    )

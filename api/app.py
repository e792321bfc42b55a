"""The ASGI application: GraphQL, health checks, and the pool they share."""

import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

import asyncpg
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.graphql_http import graphql_endpoint
from api.state import State, pool_of

if TYPE_CHECKING:
    from asyncpg.pool import _InitCallback

logger = logging.getLogger("dealgraph")


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    try:
        await pool_of(request).fetchval("select 1", timeout=2)
    except (OSError, asyncpg.PostgresError, TimeoutError) as e:
        logger.warning("readiness check failed: %s", e)
        return JSONResponse({"status": "unavailable", "detail": "database unreachable"}, 503)
    return JSONResponse({"status": "ok"})


def create_app(
    database_url: str,
    *,
    pool_min_size: int = 2,
    pool_max_size: int = 10,
    cors_origins: Sequence[str] = (),
    on_connect: "_InitCallback[asyncpg.Record] | None" = None,
) -> Starlette:
    """The app; `on_connect` runs on each new database connection (tests count queries)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[State]:
        async with asyncpg.create_pool(
            database_url, min_size=pool_min_size, max_size=pool_max_size, init=on_connect
        ) as pool:
            yield {"pool": pool}

    return Starlette(
        routes=[
            Route("/graphql", graphql_endpoint, methods=["GET", "POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ],
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=list(cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type"],
                max_age=600,
            )
        ],
        lifespan=lifespan,
    )

"""The ASGI application: GraphQL, health checks, and the pool they share."""

import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

import asyncpg
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from api import docs
from api.auth import AuthMiddleware
from api.body_limit import BodyLimitMiddleware
from api.graphql_http import graphql_endpoint
from api.key_usage import recording_key_usage
from api.ratelimit import DEFAULT_PER_MINUTE
from api.rest import dealgraph_error, http_error
from api.routes import changes, organizations, rounds, writes
from api.state import State, pool_of
from db.errors import DealgraphError

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
    rate_limit_per_minute: int = DEFAULT_PER_MINUTE,
    demo_key: str | None = None,
    guarded: bool = True,
) -> Starlette:
    """The app; `on_connect` runs on each new database connection (tests count queries).

    `rate_limit_per_minute` is the points per minute of keys without a limit of their own;
    `demo_key` is filled into GraphiQL (the embedded default only). `guarded=False` leaves
    out API keys and rate limits, for benchmarks that measure what they cost, and nothing
    else.
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[State]:
        async with (
            asyncpg.create_pool(
                database_url, min_size=pool_min_size, max_size=pool_max_size, init=on_connect
            ) as pool,
            recording_key_usage(pool) as key_usage,
        ):
            yield {"pool": pool, "key_usage": key_usage, "demo_key": demo_key}

    guard = [Middleware(AuthMiddleware, default_per_minute=rate_limit_per_minute)]

    return Starlette(
        routes=[
            Route("/graphql", graphql_endpoint, methods=["GET", "POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Mount(
                "/v1",
                routes=[
                    *rounds.routes,
                    *organizations.routes,
                    *changes.routes,
                    *writes.routes,
                ],
            ),
            *docs.routes,
        ],
        exception_handlers={DealgraphError: dealgraph_error, HTTPException: http_error},
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=list(cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type"],
                max_age=600,
            ),
            *(guard if guarded else []),
            Middleware(BodyLimitMiddleware),
        ],
        lifespan=lifespan,
    )

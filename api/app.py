"""The ASGI application: GraphQL, health checks, and the pool they share."""

import contextlib
import gc
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

from api.graphql import graphiql
from api.graphql.endpoint import graphql_endpoint
from api.guard.auth import AuthMiddleware
from api.guard.body_limit import BodyLimitMiddleware
from api.guard.key_usage import recording_key_usage
from api.guard.ratelimit import DEFAULT_PER_MINUTE
from api.ops.metrics import metrics_endpoint
from api.ops.observe import HEADER as REQUEST_ID_HEADER
from api.ops.observe import ObserveMiddleware
from api.ops.outage import OutageMiddleware
from api.ops.pool_metrics import sampling_pools
from api.ops.replica import READ_AFTER, WRITE_POSITION
from api.rest import acquisitions, changes, docs, organizations, rounds, stats, writes
from api.rest.protocol import dealgraph_error, http_error
from api.state import State, pool_of, replica_pool_of
from db.infra.availability import PoolLimits
from db.infra.errors import DealgraphError
from db.infra.pool import open_pool

if TYPE_CHECKING:
    from asyncpg.pool import _InitCallback

logger = logging.getLogger("dealgraph")


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready when every database the process serves from answers: the primary, and the
    replica that reads go to when there is one."""
    pools = {"primary": pool_of(request), "replica": replica_pool_of(request)}
    for name, pool in pools.items():
        if name == "replica" and pool is pools["primary"]:
            continue
        try:
            await pool.fetchval("select 1", timeout=2)
        except (OSError, asyncpg.PostgresError, TimeoutError) as e:
            logger.warning("readiness check failed on the %s: %s", name, e)
            detail = f"the {name} database is unreachable"
            return JSONResponse({"status": "unavailable", "detail": detail}, 503)
    return JSONResponse({"status": "ok"})


def create_app(
    database_url: str,
    *,
    pool_min_size: int = 2,
    pool_max_size: int = 10,
    pool_timeout: float = 5.0,
    statement_timeout_ms: int = 5000,
    cors_origins: Sequence[str] = (),
    on_connect: "_InitCallback[asyncpg.Record] | None" = None,
    rate_limit_per_minute: int = DEFAULT_PER_MINUTE,
    demo_key: str | None = None,
    guarded: bool = True,
    compiled_queries: bool = True,
    replica_url: str | None = None,
) -> Starlette:
    """The app; `on_connect` runs on each new database connection (tests count queries).

    A request waits at most `pool_timeout` seconds for a connection, and PostgreSQL
    cancels a statement after `statement_timeout_ms`; past either, or while the database
    is down, the request is answered 503 (api/ops/outage.py).
    `rate_limit_per_minute` is the points per minute of keys without a limit of their own;
    `demo_key` is filled into GraphiQL (the embedded default only). `guarded=False` leaves
    out API keys and rate limits, for benchmarks that measure what they cost, and nothing
    else. `replica_url`, given, is a read replica's: reads go there (api/ops/replica.py).
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[State]:
        async with (
            open_pool(
                database_url,
                limits=PoolLimits(pool_timeout, statement_timeout_ms),
                min_size=pool_min_size,
                max_size=pool_max_size,
                init=on_connect,
            ) as pool,
            recording_key_usage(pool) as key_usage,
            (
                open_pool(
                    replica_url,
                    limits=PoolLimits(pool_timeout, statement_timeout_ms),
                    min_size=pool_min_size,
                    max_size=pool_max_size,
                    init=on_connect,
                )
                if replica_url is not None
                else contextlib.nullcontext(pool)
            ) as replica_pool,
            sampling_pools(pool, replica_pool),
        ):
            # What exists once the app is up (modules, the schema, the pools) lives as long
            # as the process: frozen, the cyclic collector stops walking it on every full
            # collection, which stalled all requests under way (p99 ~25 ms -> ~18 ms).
            gc.collect()
            gc.freeze()
            try:
                yield {
                    "pool": pool,
                    "replica_pool": replica_pool,
                    "key_usage": key_usage,
                    "demo_key": demo_key,
                    "compiled_queries": compiled_queries,
                }
            finally:
                gc.unfreeze()

    guard = [Middleware(AuthMiddleware, default_per_minute=rate_limit_per_minute)]

    return Starlette(
        routes=[
            Route("/graphql", graphql_endpoint, methods=["GET", "POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            Mount(
                "/v1",
                routes=[
                    *rounds.routes,
                    *organizations.routes,
                    *changes.routes,
                    *writes.routes,
                    *acquisitions.routes,
                    *stats.routes,
                ],
            ),
            *docs.routes,
            *graphiql.routes,
        ],
        exception_handlers={DealgraphError: dealgraph_error, HTTPException: http_error},
        middleware=[
            Middleware(ObserveMiddleware),
            Middleware(
                CORSMiddleware,
                allow_origins=list(cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type", READ_AFTER],
                expose_headers=[WRITE_POSITION, REQUEST_ID_HEADER],
                max_age=600,
            ),
            Middleware(OutageMiddleware),
            *(guard if guarded else []),
            Middleware(BodyLimitMiddleware),
        ],
        lifespan=lifespan,
    )

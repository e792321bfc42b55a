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
from starlette.routing import Mount, Route, WebSocketRoute

from api.graphql import graphiql
from api.graphql.endpoint import graphql_endpoint
from api.guard.auth import AuthMiddleware
from api.guard.body_limit import BodyLimitMiddleware
from api.guard.cursor_key import keeping_cursor_key
from api.guard.deadline import DeadlineMiddleware
from api.guard.key_usage import recording_key_usage
from api.guard.ratelimit import DEFAULT_PER_MINUTE
from api.guard.table_sizes import refreshing_table_sizes
from api.ops.metrics import DEFAULT_METRICS_NETWORKS, metrics_endpoint, metrics_networks
from api.ops.observe import HEADER as REQUEST_ID_HEADER
from api.ops.observe import ObserveMiddleware
from api.ops.outage import OutageMiddleware
from api.ops.pool_metrics import sampling_pools
from api.ops.replica import READ_AFTER, WRITE_POSITION
from api.push.options import PushOptions
from api.push.subscriptions import (
    DEFAULT_SOCKET_LIMITS,
    SocketLimits,
    SubscriptionsView,
    change_hub,
)
from api.push.worker import running_webhooks
from api.rest import (
    acquisitions,
    changes,
    docs,
    organizations,
    rounds,
    stats,
    webhooks,
    writes,
)
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
    request_timeout: float | None = None,
    metrics_allow: Sequence[str] = DEFAULT_METRICS_NETWORKS,
    push: PushOptions | None = None,
    socket_limits: SocketLimits = DEFAULT_SOCKET_LIMITS,
) -> Starlette:
    """The app; `on_connect` runs on each new database connection (tests count queries).

    A request waits at most `pool_timeout` seconds for a connection, and PostgreSQL
    cancels a statement after `statement_timeout_ms`; past either, or while the database
    is down, the request is answered 503 (api/ops/outage.py).
    `rate_limit_per_minute` is the points per minute of keys without a limit of their own;
    `demo_key` is filled into GraphiQL (the embedded default only). `guarded=False` leaves
    out API keys and rate limits, for benchmarks that measure what they cost, and nothing
    else. `replica_url`, given, is a read replica's: reads go there (api/ops/replica.py).
    A request to /graphql or /v1 as a whole gets `request_timeout` seconds, by default twice
    the statement timeout (api/guard/deadline.py). /metrics answers clients on the networks
    of `metrics_allow` alone (api/ops/metrics.py).
    `push`, given, runs webhook workers in the process (api/push/worker.py).
    `socket_limits` bound GraphQL subscriptions' connections (api/push/subscriptions.py).
    """
    networks = metrics_networks(metrics_allow)

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
            refreshing_table_sizes(pool) as table_sizes,
            keeping_cursor_key(pool),
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
            change_hub(database_url, pool) as hub,
            running_webhooks(database_url, push) if push is not None else contextlib.nullcontext(),
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
                    "table_sizes": table_sizes,
                    "demo_key": demo_key,
                    "compiled_queries": compiled_queries,
                    "metrics_networks": networks,
                    "change_hub": hub,
                    "default_per_minute": rate_limit_per_minute,
                }
            finally:
                gc.unfreeze()

    guard = [Middleware(AuthMiddleware, default_per_minute=rate_limit_per_minute)]
    # Twice a statement's: one statement past its timeout is answered as such, first.
    budget = 2 * statement_timeout_ms / 1000 if request_timeout is None else request_timeout
    deadline = [Middleware(DeadlineMiddleware, seconds=budget)] if budget > 0 else []

    return Starlette(
        routes=[
            Route("/graphql", graphql_endpoint, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", SubscriptionsView(socket_limits)),
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
                    *webhooks.routes,
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
                allow_methods=["GET", "POST", "PATCH", "DELETE"],
                allow_headers=[
                    "authorization",
                    "content-type",
                    READ_AFTER,
                    "idempotency-key",
                    "if-none-match",
                ],
                # A browser client reads only the headers listed here: its budget, its caching
                # validator and when to retry come with these.
                expose_headers=[
                    WRITE_POSITION,
                    REQUEST_ID_HEADER,
                    "ratelimit",
                    "ratelimit-policy",
                    "retry-after",
                    "etag",
                    "location",
                ],
                max_age=600,
            ),
            Middleware(OutageMiddleware),
            *(guard if guarded else []),
            *deadline,
            Middleware(BodyLimitMiddleware),
        ],
        lifespan=lifespan,
    )

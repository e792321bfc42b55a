"""The app for an ASGI server, configured from the environment; DATABASE_URL is required.

    DATABASE_URL=postgresql://... uvicorn --factory api.asgi:from_environment --workers 4

runs several server processes on one database: they share API keys and rate limits.
Set PROMETHEUS_MULTIPROC_DIR to an empty directory for /metrics to add up all of them
(api/ops/metrics.py); `dealgraph serve --workers 4` does all this for you.
Add `--timeout-graceful-shutdown 10`: on SIGTERM uvicorn stops accepting connections and
lets the requests under way finish, for at most that long (without it, for ever), then
ends the process by the signal it got.
"""

from starlette.applications import Starlette

from api.app import create_app
from api.cli.settings import Settings
from api.cli.workers import demo_key_from_environment


def from_environment() -> Starlette:
    settings = Settings()
    if settings.database_url is None:
        raise RuntimeError(
            "set DATABASE_URL; `dealgraph serve` is the way to run on the embedded default"
        )
    return create_app(
        settings.database_url,
        pool_min_size=settings.pool_min_size,
        pool_max_size=settings.pool_max_size,
        pool_timeout=settings.pool_timeout,
        statement_timeout_ms=settings.statement_timeout_ms,
        cors_origins=settings.cors_origins,
        rate_limit_per_minute=settings.rate_limit_per_minute,
        metrics_allow=settings.metrics_allow,
        demo_key=demo_key_from_environment(),
        replica_url=settings.database_replica_url,
        push=settings.push_options() if settings.webhook_workers_in_serve else None,
        socket_limits=settings.socket_limits(),
    )

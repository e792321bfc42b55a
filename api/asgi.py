"""The app for an ASGI server, configured from the environment; DATABASE_URL is required.

    DATABASE_URL=postgresql://... uvicorn --factory api.asgi:from_environment --workers 4

runs several server processes on one database: they share API keys and rate limits.
"""

from starlette.applications import Starlette

from api.app import create_app
from api.settings import Settings


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
        cors_origins=settings.cors_origins,
        rate_limit_per_minute=settings.rate_limit_per_minute,
    )

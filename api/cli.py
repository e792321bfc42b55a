"""The `dealgraph` command line."""

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator
from types import FrameType

import asyncpg
import click
import uvicorn

from api.app import create_app
from api.settings import Settings
from db.migrate import migrate as apply_migrations
from db.seed import seed as load_demo

logger = logging.getLogger("dealgraph")


@contextlib.contextmanager
def _database(settings: Settings) -> Iterator[tuple[str, bool]]:
    """The server's URL, and whether it is the embedded one this process manages."""
    if settings.database_url is not None:
        yield settings.database_url, False
        return
    from api.embedded import embedded_database

    with embedded_database(settings.data_dir.resolve()) as url:
        yield url, True


async def _prepare(url: str, *, seed: str) -> None:
    """Migrate, then load the demo set: always, never, or only into an empty database."""
    conn = await asyncpg.connect(url)
    try:
        applied = await apply_migrations(conn)
        for name in applied:
            click.echo(f"applied migration {name}")
        empty = not await conn.fetchval("select exists (select 1 from organizations)")
        if seed == "always" or (seed == "if-empty" and empty):
            await load_demo(conn)
            click.echo("loaded the demo data set")
    finally:
        await conn.close()


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


@click.group()
def main() -> None:
    """dealgraph: deal data over GraphQL and REST, each fact with its status and sources."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
def serve(host: str, port: int) -> None:
    """Serve the API. Without DATABASE_URL, on an embedded PostgreSQL with the demo data."""
    settings = Settings()
    with _database(settings) as (url, embedded):
        asyncio.run(_prepare(url, seed="if-empty" if embedded else "never"))
        app = create_app(
            url,
            pool_min_size=settings.pool_min_size,
            pool_max_size=settings.pool_max_size,
            cors_origins=settings.cors_origins,
        )
        click.echo(f"GraphQL: http://{host}:{port}/graphql")
        # uvicorn shuts down gracefully on SIGTERM, then raises the signal again once it
        # is done; with the default action that would kill the process before the
        # embedded PostgreSQL is stopped, so turn it into an ordinary exit instead.
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
        uvicorn.run(app, host=host, port=port, log_level="info")


@main.command()
def migrate() -> None:
    """Apply pending database migrations."""
    with _database(Settings()) as (url, _):
        asyncio.run(_prepare(url, seed="never"))


@main.command()
def seed() -> None:
    """Load the demo data set (the Amazon-OpenAI article); running it again changes nothing."""
    with _database(Settings()) as (url, _):
        asyncio.run(_prepare(url, seed="always"))

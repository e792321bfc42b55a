"""The `dealgraph` command line."""

import asyncio
import contextlib
import logging
import logging.config
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import asyncpg
import click
import uvicorn
from pydantic import ValidationError

from api.app import create_app
from api.cli import key_commands
from api.cli.settings import Settings
from api.cli.workers import HEADER_DEADLINE_PROTOCOL, KEEP_ALIVE_SECONDS, serve_workers
from api.guard.keys import DEMO_KEY_FILE
from api.ops.logs import LOG_CONFIG
from api.ops.metrics import import_progress
from api.push.options import PushOptions
from api.push.worker import running_webhooks
from db.access.keys import ALL_SOURCE_KINDS, DEFAULT_SOURCE_KINDS, list_keys
from db.access.principal import Scope
from db.imports import crunchbase, engine
from db.imports.mapping import ImportMapping, MappingError, load_mapping
from db.infra.migrate import migrate as apply_migrations
from db.seed import seed as load_demo

logger = logging.getLogger("dealgraph")


@contextlib.contextmanager
def _database(settings: Settings) -> Iterator[tuple[str, bool]]:
    """The server's URL, and whether it is the embedded one this process manages."""
    if settings.database_url is not None:
        yield settings.database_url, False
        return
    from api.cli.embedded import EmbeddedDatabaseError, embedded_database

    try:
        with embedded_database(settings.data_dir.resolve()) as url:
            yield url, True
    except EmbeddedDatabaseError as e:
        # It says what went wrong and a way out: a traceback would only bury that.
        raise click.ClickException(str(e)) from None


def _settings() -> Settings:
    """The configuration, or a one-line error per bad variable (not a traceback)."""
    try:
        return Settings()
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            for err in e.errors(include_url=False)
        )
        raise click.ClickException(f"configuration: {problems}") from None


@dataclass(frozen=True, slots=True)
class _Prepared:
    applied: list[str]
    # Rows the demo set added; None when it was not asked for.
    loaded: int | None
    # What a newcomer on an empty DATABASE_URL lacks.
    had_data: bool
    has_keys: bool


async def _prepare(url: str, *, seed: str) -> _Prepared:
    """Migrate, then load the demo set: always, never, or only into an empty database."""
    conn = await asyncpg.connect(url)
    try:
        applied = await apply_migrations(conn)
        for name in applied:
            # Logged, not echoed: stdout is for what a command answers (`keys list`: keys
            # only), and under `serve` every stderr line is a JSON log line.
            logger.info("applied migration %s", name)
        had_data = await conn.fetchval("select exists (select 1 from organizations)")
        loaded = None
        if seed == "always" or (seed == "if-empty" and not had_data):
            loaded = await load_demo(conn)
            logger.info("loaded the demo data set: %d rows", loaded)
        has_keys = any(key.revoked_at is None for key in await list_keys(conn))
    finally:
        await conn.close()
    return _Prepared(applied, loaded, had_data, has_keys)


def _say_what_is_missing(prepared: _Prepared) -> None:
    """On DATABASE_URL, `serve` loads nothing and makes no key: say how to, when needed."""
    if not prepared.had_data:
        click.echo(
            "The database holds no data yet: `dealgraph seed` (with the same DATABASE_URL) "
            "loads the demo data set."
        )
    if not prepared.has_keys:
        click.echo(
            "No API key yet, and every request needs one: `dealgraph keys create --name me "
            "--scope write` (with the same DATABASE_URL) makes one."
        )


# How long in-flight requests may take to finish after SIGTERM before they are cut off.
GRACEFUL_SHUTDOWN_SECONDS = 10


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # A stop that was asked for and done in order: status 0, what process managers
    # (systemd, supervisord) take for a clean stop.
    raise SystemExit(0)


def _say_where(host: str, port: int, workers: int) -> None:
    base = f"http://{host}:{port}"
    processes = f" ({workers} processes)" if workers > 1 else ""
    click.echo(f"GraphQL: {base}/graphql (GraphiQL in a browser){processes}")
    click.echo(f"REST: {base}/v1/... (docs: {base}/docs)")


@click.group()
def main() -> None:
    """dealgraph: deal data over GraphQL and REST, each fact with its status and sources."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Server processes; more than one share the port, the database and its limits.",
)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the API. Without DATABASE_URL, on an embedded PostgreSQL with the demo data."""
    logging.config.dictConfig(LOG_CONFIG)
    settings = _settings()
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again once it is
    # done; with the default action that would kill the process before the embedded
    # PostgreSQL is stopped, so turn it into an ordinary exit instead. Set before the
    # database starts, so that a SIGTERM while it starts stops it too.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    with _database(settings) as (url, embedded):
        prepared = asyncio.run(_prepare(url, seed="if-empty" if embedded else "never"))
        if not embedded:
            _say_what_is_missing(prepared)
        demo_key = None
        if embedded:
            # As root in a private directory the cluster lives elsewhere (api/cli/embedded.py)
            # and nothing has made the data directory, which still keeps the demo key.
            settings.data_dir.resolve().mkdir(mode=0o700, parents=True, exist_ok=True)
            demo_key = asyncio.run(key_commands.demo_key(url, settings.data_dir.resolve()))
        if workers > 1:
            _say_where(host, port, workers)
            serve_workers(
                url,
                host=host,
                port=port,
                workers=workers,
                demo_key_file=(
                    None if demo_key is None else settings.data_dir.resolve() / DEMO_KEY_FILE
                ),
                timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
                limit_concurrency=settings.limit_concurrency,
            )
            return
        app = create_app(
            url,
            pool_min_size=settings.pool_min_size,
            pool_max_size=settings.pool_max_size,
            pool_timeout=settings.pool_timeout,
            statement_timeout_ms=settings.statement_timeout_ms,
            cors_origins=settings.cors_origins,
            rate_limit_per_minute=settings.rate_limit_per_minute,
            metrics_allow=settings.metrics_allow,
            demo_key=demo_key,
            replica_url=settings.database_replica_url,
            push=settings.push_options() if settings.webhook_workers_in_serve else None,
            socket_limits=settings.socket_limits(),
        )
        _say_where(host, port, workers)
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level="info",
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
            log_config=LOG_CONFIG,
            access_log=False,
            limit_concurrency=settings.limit_concurrency,
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
            http=HEADER_DEADLINE_PROTOCOL,
        )


@main.command()
def worker() -> None:
    """Send webhooks without serving the API: a tier of its own, any number of processes.
    `serve` sends them too, unless DEALGRAPH_WEBHOOK_WORKERS_IN_SERVE=false."""
    logging.config.dictConfig(LOG_CONFIG)
    settings = _settings()
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    with _database(settings) as (url, _):
        asyncio.run(_prepare(url, seed="never"))
        asyncio.run(_work(url, settings.push_options()))


async def _work(url: str, options: PushOptions) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with running_webhooks(url, options):
        logger.info("webhook worker started")
        await stop.wait()
    logger.info("webhook worker stopped")


@main.command()
def migrate() -> None:
    """Apply pending database migrations."""
    with _database(_settings()) as (url, _):
        prepared = asyncio.run(_prepare(url, seed="never"))
    applied = ", ".join(name.removesuffix(".sql") for name in prepared.applied)
    click.echo(f"applied {applied}" if applied else "up to date")


@main.command()
def seed() -> None:
    """Load the demo data set (the Amazon-OpenAI article); running it again changes nothing."""
    with _database(_settings()) as (url, _):
        prepared = asyncio.run(_prepare(url, seed="always"))
    if prepared.loaded:
        click.echo(f"loaded the demo data set: {prepared.loaded} rows")
    else:
        click.echo("the demo data set is there already: nothing loaded")


@main.group()
def keys() -> None:
    """API keys: every /graphql and /v1 request needs one (Authorization: Bearer <key>)."""


def _source_kinds(
    context: click.Context, parameter: click.Parameter, value: str | None
) -> tuple[str, ...] | None:
    if value is None:
        return None
    kinds = tuple(dict.fromkeys(k.strip().upper() for k in value.split(",") if k.strip()))
    unknown = [k for k in kinds if k not in ALL_SOURCE_KINDS]
    if unknown or not kinds:
        given = ", ".join(unknown) or "none given"
        raise click.BadParameter(f"{given}: each must be one of {', '.join(ALL_SOURCE_KINDS)}")
    return kinds


@keys.command("create")
@click.option("--name", required=True, help="Who or what the key is for.")
@click.option(
    "--scope",
    required=True,
    type=click.Choice([s.value for s in Scope]),
    help="read < write < admin: each allows what the ones before it allow.",
)
@click.option(
    "--rate-limit",
    type=click.IntRange(min=1),
    help="Points per minute (a request costs its price: see the README); "
    "without it, the server's default (DEALGRAPH_RATE_LIMIT_PER_MINUTE).",
)
@click.option(
    "--source-kinds",
    callback=_source_kinds,
    help="The kinds of source the key may record, comma-separated, from "
    f"{','.join(ALL_SOURCE_KINDS)}; without it, {','.join(DEFAULT_SOURCE_KINDS)} "
    "(every kind for an admin key).",
)
def keys_create(
    name: str, scope: str, rate_limit: int | None, source_kinds: tuple[str, ...] | None
) -> None:
    """Make a key and print its secret, once, alone on the last line."""
    settings = _settings()
    with _database(settings) as (url, _):
        asyncio.run(_prepare(url, seed="never"))
        asyncio.run(
            key_commands.create(
                url,
                name=name,
                scope=Scope(scope),
                rate_limit=rate_limit,
                source_kinds=source_kinds,
                default_per_minute=settings.rate_limit_per_minute,
            )
        )


@keys.command("list")
def keys_list() -> None:
    """One key a line, its id first; never a secret."""
    settings = _settings()
    with _database(settings) as (url, _):
        asyncio.run(_prepare(url, seed="never"))
        asyncio.run(key_commands.list_all(url, default_per_minute=settings.rate_limit_per_minute))


@keys.command("revoke")
@click.argument("key")
def keys_revoke(key: str) -> None:
    """Revoke a key, named by its id, a unique start of it, or the secret's start that
    `keys list` shows; every server refuses it from its next request on."""
    with _database(_settings()) as (url, _):
        asyncio.run(_prepare(url, seed="never"))
        asyncio.run(key_commands.revoke(url, key=key))


class _ImportGroup(click.Group):
    """`import FILE --mapping M` and `import crunchbase DIR`: a first argument that is no
    subcommand is the file of the first form."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["file", *args]
        return super().parse_args(ctx, args)


@main.group(name="import", cls=_ImportGroup)
def import_() -> None:
    """Bulk imports: any delimited file with a mapping (dealgraph import FILE --mapping
    MAPPING.toml), or the CrunchBase 2013 set (dealgraph import crunchbase DIR)."""


@import_.command(name="file", hidden=True)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--mapping",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The TOML file that says what the columns mean (README: Importing any file).",
)
@click.option("--dry-run", is_flag=True, help="Do everything, print the summary, write nothing.")
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the reject report (CSV: file, line, column, reason, raw); "
    "default reports/<FILE>-rejects.csv.",
)
def import_file(file: Path, mapping: Path, dry_run: bool, rejects: Path | None) -> None:
    """Import FILE (CSV or any delimited text, gzipped or not) as MAPPING says."""
    try:
        parsed = load_mapping(mapping)
    except MappingError as error:
        raise click.ClickException(f"{mapping}: {error}") from None
    with _database(_settings()) as (url, _):
        asyncio.run(_prepare(url, seed="never"))
        with _progress(engine.STEPS) as step:
            try:
                result = asyncio.run(_import_file(url, file, parsed, dry_run, step))
            except engine.ImportFailed as error:
                raise click.ClickException(str(error)) from None
    report = rejects or Path("reports") / f"{file.name}-rejects.csv"
    engine.write_rejects(report, result.rejects)
    for line in result.summary():
        click.echo(line)
    click.echo(f"reject report: {report}")


async def _import_file(
    url: str, file: Path, mapping: ImportMapping, dry_run: bool, step: Callable[[str], None]
) -> engine.ImportResult:
    conn = await asyncpg.connect(url)
    try:
        return await engine.import_file(conn, file, mapping, dry_run=dry_run, progress=step)
    finally:
        await conn.close()


@import_.command(name="crunchbase")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("reports/crunchbase-rejects.csv"),
    show_default=True,
    help="Where to write the reject report (CSV: file, line, reason, raw).",
)
def import_crunchbase(directory: Path, rejects: Path) -> None:
    """Import the CrunchBase 2013 set in DIRECTORY (shared/data/crunchbase-2013's layout,
    each file gzipped or plain). Running it again changes nothing."""
    with _database(_settings()) as (url, _):
        asyncio.run(_prepare(url, seed="never"))
        with _progress(crunchbase.STEPS) as step:
            try:
                result = asyncio.run(_import_crunchbase(url, directory, step))
            except crunchbase.CrunchbaseFileError as error:
                raise click.ClickException(str(error)) from None
    crunchbase.write_rejects(rejects, result.rejects)
    for line in result.summary():
        click.echo(line)
    click.echo(f"reject report: {rejects}")


async def _import_crunchbase(
    url: str, directory: Path, step: Callable[[str], None]
) -> crunchbase.ImportResult:
    conn = await asyncpg.connect(url)
    try:
        return await crunchbase.import_crunchbase(
            conn, directory, progress=step, rows=import_progress("crunchbase")
        )
    finally:
        await conn.close()


@contextlib.contextmanager
def _progress(steps: tuple[str, ...]) -> Iterator[Callable[[str], None]]:
    """A progress bar on a terminal, plain lines otherwise (logs, pipes); on stderr."""
    if not sys.stderr.isatty():
        yield lambda step: click.echo(f"import: {step}", err=True)
        return
    with click.progressbar(
        length=len(steps), label="import", file=sys.stderr, item_show_func=lambda s: s
    ) as bar:

        def advance(step: str) -> None:
            # The bar counts the steps done: the one starting now is not.
            bar.update(0 if bar.current_item is None else 1, step)

        yield advance
        bar.update(len(steps) - bar.pos, "done")

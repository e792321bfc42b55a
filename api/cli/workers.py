"""`dealgraph serve --workers N`: N server processes sharing one socket and one database.

uvicorn starts each worker as a fresh Python process that builds its app from an import
string (api.asgi:from_environment), so all a worker needs travels in the environment:
DATABASE_URL (the embedded server's too, which the parent keeps running until the
workers are gone), the DEALGRAPH_ settings (inherited as they are), the metrics directory,
and where the embedded default's demo key is kept, for GraphiQL. The parent prepares the
database (migrations, demo data, demo key) once, before any worker starts; rate limits
and the change feed live in PostgreSQL, so the workers agree on them.
"""

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from api.ops.logs import LOG_CONFIG
from api.ops.metrics import MULTIPROCESS_DIR

# Set by the parent for its workers only: a file holding the demo key's secret.
DEMO_KEY_VARIABLE = "DEALGRAPH_DEMO_KEY_FILE"


# How long an idle connection is kept open for the client's next request.
KEEP_ALIVE_SECONDS = 5
# Closes connections whose request head takes too long (api/guard/header_deadline.py).
HEADER_DEADLINE_PROTOCOL = "api.guard.header_deadline:HeaderDeadlineProtocol"
# A spawned worker answers uvicorn's health ping only once it has imported the parent's
# main module (the whole app, through the `dealgraph` script): 8-9 s on a loaded 2-core
# machine, where uvicorn's default of 5 s killed every worker before it could answer, over
# and over. A hung worker is found this much later.
WORKER_HEALTHCHECK_SECONDS = 30


def serve_workers(
    url: str,
    *,
    host: str,
    port: int,
    workers: int,
    demo_key_file: Path | None,
    timeout_graceful_shutdown: int,
    limit_concurrency: int,
) -> None:
    """Run the workers until a signal stops them (uvicorn restarts any that dies)."""
    environment = {"DATABASE_URL": url}
    if demo_key_file is not None:
        environment[DEMO_KEY_VARIABLE] = str(demo_key_file)
    with _metrics_directory() as metrics, _environment({**environment, MULTIPROCESS_DIR: metrics}):
        uvicorn.run(
            "api.asgi:from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_config=LOG_CONFIG,
            access_log=False,
            timeout_graceful_shutdown=timeout_graceful_shutdown,
            limit_concurrency=limit_concurrency,
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
            http=HEADER_DEADLINE_PROTOCOL,
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        )


def demo_key_from_environment() -> str | None:
    """The demo key a worker's GraphiQL fills in, when its parent said where it is."""
    path = os.environ.get(DEMO_KEY_VARIABLE)
    return Path(path).read_text().strip() if path else None


@contextlib.contextmanager
def _metrics_directory() -> Iterator[str]:
    """PROMETHEUS_MULTIPROC_DIR as given (shared with imports, say), else one for this run."""
    given = os.environ.get(MULTIPROCESS_DIR)
    if given:
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="dealgraph-metrics-") as made:
        yield made


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    # Spawned processes inherit os.environ; there is no other way to hand them values.
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

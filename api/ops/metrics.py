"""Prometheus metrics, and /metrics to read them: no key, but only for clients on the
networks allowed (DEALGRAPH_METRICS_ALLOW; by default loopback and private addresses,
where a Prometheus scrapes from), told by the connection's peer address, never by a
header such as X-Forwarded-For. Others get 404: the numbers (routes, refusals, pool use)
are for the operator, not for the partners.

Several server processes (`dealgraph serve --workers N`) share one listening socket, so a
scrape reaches whichever of them accepts it: numbers kept per process would jump from
scrape to scrape. When PROMETHEUS_MULTIPROC_DIR is set (serve sets it for its workers),
prometheus-client's multiprocess mode is on: each process writes its numbers to files in
that directory, and /metrics answers with all of them added up. A `dealgraph import` run
with the same directory shows its progress there too.
"""

import glob
import os
from collections.abc import Callable, Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from pathlib import Path

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from starlette.requests import Request
from starlette.responses import Response

from api.ops.pool_metrics import sample_pools
from api.state import pool_of, replica_pool_of

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter(
    "dealgraph_http_requests",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "dealgraph_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template, method and status.",
    ["route", "method", "status"],
)
RATE_LIMIT_REJECTIONS = Counter(
    "dealgraph_rate_limit_rejections",
    "Requests refused with 429 because their key's rate limit had too few points left.",
)
IMPORT_ROWS = Gauge(
    "dealgraph_import_rows",
    "Rows in a file of the latest import.",
    ["source", "file"],
    # An import is a process of its own: its last word stays after it exits.
    multiprocess_mode="mostrecent",
)
IMPORT_ROWS_PROCESSED = Gauge(
    "dealgraph_import_rows_processed",
    "Rows of a file of the latest import that are imported, merged or rejected so far.",
    ["source", "file"],
    multiprocess_mode="mostrecent",
)


def import_progress(source: str) -> Callable[[str, int, int], None]:
    """A callback for an importer: (file, rows processed, rows in the file)."""

    def record(file: str, processed: int, total: int) -> None:
        IMPORT_ROWS.labels(source, file).set(total)
        IMPORT_ROWS_PROCESSED.labels(source, file).set(processed)

    return record


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        pass
    return True


def _forget_dead_processes(directory: str) -> None:
    # The pool gauges count live processes only; a worker that died without saying so
    # (uvicorn starts another in its place) would be counted forever.
    for path in glob.glob(os.path.join(directory, "gauge_live*_*.db")):
        pid = Path(path).stem.rpartition("_")[2]
        if pid.isdigit() and not _alive(int(pid)):
            mark_process_dead(int(pid), directory)  # type: ignore[no-untyped-call]


def _registry() -> CollectorRegistry:
    directory = os.environ.get(MULTIPROCESS_DIR)
    if not directory:
        return REGISTRY
    _forget_dead_processes(directory)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, directory)  # type: ignore[no-untyped-call]
    return registry


# Loopback, and the private ranges of RFC 1918 and RFC 4193.
DEFAULT_METRICS_NETWORKS = (
    "127.0.0.0/8",
    "::1/128",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "fc00::/7",
)


def metrics_networks(allowed: Sequence[str]) -> tuple[IPv4Network | IPv6Network, ...]:
    return tuple(ip_network(n, strict=False) for n in allowed)


def _allowed(request: Request) -> bool:
    networks: tuple[IPv4Network | IPv6Network, ...] = request.state.metrics_networks
    if request.client is None:
        return False
    try:
        peer = ip_address(request.client.host)
    except ValueError:
        return False  # a Unix socket's peer, say: not an address on an allowed network
    return any(peer in network for network in networks)


async def metrics_endpoint(request: Request) -> Response:
    if not _allowed(request):
        return Response("not found", 404, media_type="text/plain")
    # The pool as it is now, in the process that answers.
    sample_pools(pool_of(request), replica_pool_of(request))
    encoder, media_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encoder(_registry()), headers={"content-type": media_type})

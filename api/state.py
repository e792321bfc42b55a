"""What the lifespan hands to every request."""

from ipaddress import IPv4Network, IPv6Network
from typing import TypedDict

from starlette.requests import Request

from api.guard.key_usage import KeyUsage
from api.guard.table_sizes import KnownSizes
from api.push.hub import ChangeHub
from db.infra.types import Pool
from db.sizes import TableSizes


class State(TypedDict):
    pool: Pool
    # DATABASE_REPLICA_URL's pool for reads, or the primary's `pool` when it is unset
    # (api/ops/replica.py says which requests use it).
    replica_pool: Pool
    key_usage: KeyUsage
    # How large the scanned tables are, for prices (schema/limits.py).
    table_sizes: KnownSizes
    # The embedded default's demo key, for GraphiQL; None on any other database.
    demo_key: str | None
    # Whether known query shapes are answered by one SQL statement (schema/fastpath.py).
    compiled_queries: bool
    # The client networks /metrics answers (api/ops/metrics.py).
    metrics_networks: tuple[IPv4Network | IPv6Network, ...]
    # The change feed as subscriptions follow it (api/push/hub.py), and the rate limit of
    # keys without their own, which subscriptions charge outside the HTTP middleware.
    change_hub: ChangeHub
    default_per_minute: int


def pool_of(request: Request) -> Pool:
    pool: Pool = request.state.pool
    return pool


def replica_pool_of(request: Request) -> Pool:
    pool: Pool = request.state.replica_pool
    return pool


def key_usage_of(request: Request) -> KeyUsage:
    usage: KeyUsage = request.state.key_usage
    return usage


def demo_key_of(request: Request) -> str | None:
    key: str | None = request.state.demo_key
    return key


def compiled_queries_of(request: Request) -> bool:
    enabled: bool = request.state.compiled_queries
    return enabled


def table_sizes_of(request: Request) -> TableSizes:
    sizes: KnownSizes = request.state.table_sizes
    return sizes.current

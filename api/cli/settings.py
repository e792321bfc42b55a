"""Configuration from the environment."""

import datetime
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.guard.ratelimit import DEFAULT_PER_MINUTE
from api.ops.metrics import DEFAULT_METRICS_NETWORKS
from api.push.options import PushOptions
from api.push.subscriptions import SocketLimits

# Per process: enough for the pool's connections to stay busy with waiting requests
# behind them, few enough that stalled clients cannot pile up without end.
CONCURRENCY_LIMIT = 256


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DEALGRAPH_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        validation_alias="DATABASE_URL",
        description="A postgresql:// URL; unset, the CLI runs an embedded PostgreSQL.",
        pattern=r"^postgres(ql)?://",
    )
    database_replica_url: str | None = Field(
        default=None,
        validation_alias="DATABASE_REPLICA_URL",
        description="A read replica of DATABASE_URL's server, for reads (api/ops/replica.py).",
        pattern=r"^postgres(ql)?://",
    )
    data_dir: Path = Field(
        default=Path(".dealgraph"), description="Where the embedded PostgreSQL keeps its data."
    )
    cors_origins: list[str] = Field(
        default=[], description="Origins allowed to call the API from a browser (CORS)."
    )
    pool_min_size: int = Field(default=2, ge=1)
    pool_max_size: int = Field(default=10, ge=1)
    pool_timeout: float = Field(
        default=5.0,
        gt=0,
        description="Seconds a request waits for a database connection (connecting "
        "included) before it is answered 503.",
    )
    statement_timeout_ms: int = Field(
        default=5000,
        ge=0,
        description="Milliseconds a statement may run before PostgreSQL cancels it and "
        "the request is answered 503; 0: no limit.",
    )
    metrics_allow: list[str] = Field(
        default=list(DEFAULT_METRICS_NETWORKS),
        description="Client networks (CIDR) that /metrics answers, by the connection's "
        "peer address; a JSON list.",
    )
    limit_concurrency: int = Field(
        default=CONCURRENCY_LIMIT,
        ge=1,
        description="Connections a server process holds at once; past them, uvicorn "
        "answers 503 at once.",
    )
    rate_limit_per_minute: int = Field(
        default=DEFAULT_PER_MINUTE,
        ge=1,
        description="Points per minute for API keys without a limit of their own.",
    )

    webhook_allow_private: bool = Field(
        default=False,
        description="Let webhooks reach loopback, private and link-local addresses "
        "(local development and tests only).",
    )
    webhook_workers_in_serve: bool = Field(
        default=True,
        description="Whether `serve` sends webhooks too; off when `dealgraph worker` "
        "processes do it alone.",
    )
    webhook_concurrency: int = Field(default=4, ge=1, le=64)
    webhook_retry_base_seconds: float = Field(
        default=5.0, gt=0, description="The first retry's wait; each next one doubles it."
    )
    webhook_retry_cap_seconds: float = Field(default=3600.0, gt=0)
    webhook_retry_window_seconds: float = Field(
        default=24 * 3600.0, gt=0, description="How long a delivery is retried before it fails."
    )
    webhook_disable_after_seconds: float = Field(
        default=24 * 3600.0,
        gt=0,
        description="How long an endpoint may fail every delivery before it is disabled.",
    )
    webhook_poll_seconds: float = Field(
        default=1.0, gt=0, description="How often an idle worker looks without a notification."
    )

    websocket_init_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="How long a subscription connection may take to send its API key.",
    )
    websocket_idle_seconds: float = Field(
        default=300.0,
        gt=0,
        description="How long a subscription connection may hold no subscription.",
    )

    def socket_limits(self) -> SocketLimits:
        return SocketLimits(
            init_timeout=datetime.timedelta(seconds=self.websocket_init_timeout_seconds),
            idle_timeout=self.websocket_idle_seconds,
        )

    def push_options(self) -> PushOptions:
        return PushOptions(
            allow_private=self.webhook_allow_private,
            concurrency=self.webhook_concurrency,
            retry_base=self.webhook_retry_base_seconds,
            retry_cap=self.webhook_retry_cap_seconds,
            retry_window=datetime.timedelta(seconds=self.webhook_retry_window_seconds),
            disable_after=datetime.timedelta(seconds=self.webhook_disable_after_seconds),
            poll_interval=self.webhook_poll_seconds,
        )

    @model_validator(mode="after")
    def _pool_sizes_agree(self) -> "Settings":
        if self.pool_min_size > self.pool_max_size:
            raise ValueError(
                f"DEALGRAPH_POOL_MIN_SIZE ({self.pool_min_size}) is larger than"
                f" DEALGRAPH_POOL_MAX_SIZE ({self.pool_max_size})"
            )
        return self

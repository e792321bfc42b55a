"""Configuration from the environment."""

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.guard.ratelimit import DEFAULT_PER_MINUTE
from api.ops.metrics import DEFAULT_METRICS_NETWORKS

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

    @model_validator(mode="after")
    def _pool_sizes_agree(self) -> "Settings":
        if self.pool_min_size > self.pool_max_size:
            raise ValueError(
                f"DEALGRAPH_POOL_MIN_SIZE ({self.pool_min_size}) is larger than"
                f" DEALGRAPH_POOL_MAX_SIZE ({self.pool_max_size})"
            )
        return self

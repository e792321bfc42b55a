"""Configuration from the environment."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.ratelimit import DEFAULT_PER_MINUTE


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DEALGRAPH_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        validation_alias="DATABASE_URL",
        description="A postgresql:// URL; unset, the CLI runs an embedded PostgreSQL.",
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
    rate_limit_per_minute: int = Field(
        default=DEFAULT_PER_MINUTE,
        ge=1,
        description="Points per minute for API keys without a limit of their own.",
    )

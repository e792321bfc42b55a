"""API keys: stored by the hash of their secret, never the secret itself."""

import datetime
import uuid
from dataclasses import dataclass

from db.access.principal import Scope
from db.infra.types import Executor, Record

_COLUMNS = """
    id, name, scope::text, secret_prefix, rate_limit_per_minute, created_at, last_used_at,
    revoked_at, source_kinds::text[]
"""
# What a key may record unless it is given its own set (migration 0022): press and
# data vendors, not a party's statement nor a filing, which confirm or deny a round.
DEFAULT_SOURCE_KINDS = ("PRESS_ANONYMOUS", "PRESS_ON_RECORD", "DATA_VENDOR")
ALL_SOURCE_KINDS = (
    "PRESS_ANONYMOUS",
    "PRESS_ON_RECORD",
    "COMPANY_STATEMENT",
    "INVESTOR_STATEMENT",
    "REGULATORY_FILING",
    "DATA_VENDOR",
)


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: uuid.UUID
    name: str
    scope: Scope
    secret_prefix: str
    rate_limit_per_minute: int | None
    created_at: datetime.datetime
    last_used_at: datetime.datetime | None
    revoked_at: datetime.datetime | None
    source_kinds: tuple[str, ...]

    @classmethod
    def from_record(cls, r: Record) -> "ApiKey":
        return cls(
            r["id"],
            r["name"],
            Scope(r["scope"]),
            r["secret_prefix"],
            r["rate_limit_per_minute"],
            r["created_at"],
            r["last_used_at"],
            r["revoked_at"],
            tuple(r["source_kinds"]),
        )


async def insert_key(
    db: Executor,
    *,
    name: str,
    scope: Scope,
    secret_prefix: str,
    secret_hash: bytes,
    rate_limit_per_minute: int | None,
    source_kinds: tuple[str, ...] = DEFAULT_SOURCE_KINDS,
) -> ApiKey:
    record = await db.fetchrow(
        f"""
        insert into api_keys (name, scope, secret_prefix, secret_hash, rate_limit_per_minute,
                              source_kinds)
        values ($1, $2::api_key_scope, $3, $4, $5, $6::text[]::source_kind[])
        returning {_COLUMNS}
        """,
        name,
        scope.value,
        secret_prefix,
        secret_hash,
        rate_limit_per_minute,
        list(source_kinds),
    )
    assert record is not None
    return ApiKey.from_record(record)


async def list_keys(db: Executor) -> list[ApiKey]:
    records = await db.fetch(f"select {_COLUMNS} from api_keys order by created_at, id")
    return [ApiKey.from_record(r) for r in records]


async def fetch_key_by_hash(db: Executor, *, secret_hash: bytes) -> ApiKey | None:
    """The key with this secret hash, revoked or not."""
    record = await db.fetchrow(
        f"select {_COLUMNS} from api_keys where secret_hash = $1", secret_hash
    )
    return None if record is None else ApiKey.from_record(record)


async def revoke_key(db: Executor, *, key_id: uuid.UUID) -> ApiKey | None:
    """Revoke a key now, or leave an already revoked one as it was; None if there is none."""
    record = await db.fetchrow(
        f"""
        update api_keys set revoked_at = coalesce(revoked_at, now())
        where id = $1
        returning {_COLUMNS}
        """,
        key_id,
    )
    return None if record is None else ApiKey.from_record(record)


async def record_last_used(
    db: Executor, *, key_ids: list[uuid.UUID], used_at: list[datetime.datetime]
) -> None:
    """Move each key's last_used_at forward; several processes report in any order."""
    await db.execute(
        """
        update api_keys k set last_used_at = greatest(k.last_used_at, u.used_at)
        from unnest($1::uuid[], $2::timestamptz[]) as u (key_id, used_at)
        where k.id = u.key_id
        """,
        key_ids,
        used_at,
    )


async def may_record_kind(db: Executor, *, key_id: uuid.UUID, kind: str) -> bool:
    """Whether the key may record a source of this kind."""
    allowed = await db.fetchval(
        "select $2::source_kind = any(source_kinds) from api_keys where id = $1", key_id, kind
    )
    return allowed is True

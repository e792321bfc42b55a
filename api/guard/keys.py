"""Key secrets: made here, shown once, stored only as a hash."""

import hashlib
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from db.access.keys import (
    ALL_SOURCE_KINDS,
    DEFAULT_SOURCE_KINDS,
    ApiKey,
    fetch_key_by_hash,
    insert_key,
)
from db.access.principal import Scope
from db.infra.types import Executor

# Recognizable, so that secret scanners can find leaked keys: "dg_" for dealgraph, "live_"
# to leave room for test keys that scanners should ignore.
SECRET_PREFIX = "dg_live_"  # noqa: S105 (a public marker, not a secret)
# 32 random bytes (256 bits), url-safe base64: 43 characters after the prefix.
_SECRET_BYTES = 32
# Enough of the secret to tell keys apart in a listing, too little to matter.
_SHOWN_CHARACTERS = len(SECRET_PREFIX) + 4

DEMO_KEY_NAME = "demo"
DEMO_KEY_FILE = "demo-key"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(_SECRET_BYTES)


def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def looks_like_secret(token: str) -> bool:
    return token.startswith(SECRET_PREFIX) and len(token) > len(SECRET_PREFIX)


@dataclass(frozen=True, slots=True)
class IssuedKey:
    key: ApiKey
    # Shown to whoever asked for the key, once; nothing keeps it.
    secret: str


async def issue_key(
    db: Executor,
    *,
    name: str,
    scope: Scope,
    rate_limit_per_minute: int | None,
    source_kinds: tuple[str, ...] | None = None,
) -> IssuedKey:
    """`source_kinds`: what it may record; by default every kind for an admin key, press
    and data vendors for others (a party's statement confirms or denies a round)."""
    if source_kinds is None:
        source_kinds = ALL_SOURCE_KINDS if scope is Scope.ADMIN else DEFAULT_SOURCE_KINDS
    secret = new_secret()
    key = await insert_key(
        db,
        name=name,
        scope=scope,
        secret_prefix=secret[:_SHOWN_CHARACTERS],
        secret_hash=hash_secret(secret),
        rate_limit_per_minute=rate_limit_per_minute,
        source_kinds=source_kinds,
    )
    return IssuedKey(key, secret)


@dataclass(frozen=True, slots=True)
class DemoKey:
    # None when the demo key was revoked: a revocation is respected, not undone.
    secret: str | None
    created: bool


async def ensure_demo_key(db: Executor, data_dir: Path) -> DemoKey:
    """The embedded default's demo key (scope write), made on the first start.

    Only the embedded default has one. Its secret is kept in the data directory, readable
    by its owner alone, so that every later start can show it and fill it into GraphiQL;
    the database still holds only its hash. If the database no longer knows the key (the
    data was reset), a new one is made.
    """
    path = data_dir / DEMO_KEY_FILE
    try:
        secret: str | None = path.read_text().strip()
    except FileNotFoundError:
        secret = None
    if secret:
        known = await fetch_key_by_hash(db, secret_hash=hash_secret(secret))
        if known is not None:
            return DemoKey(secret if known.revoked_at is None else None, created=False)
    # The owner's own key on their own machine: it may record every kind of source.
    issued = await issue_key(
        db,
        name=DEMO_KEY_NAME,
        scope=Scope.WRITE,
        rate_limit_per_minute=None,
        source_kinds=ALL_SOURCE_KINDS,
    )
    _write_private(path, issued.secret + "\n")
    return DemoKey(issued.secret, created=True)


def _write_private(path: Path, text: str) -> None:
    # Written aside with mode 0600 from the start, then renamed into place, so that the
    # file is never readable by others nor seen half-written.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

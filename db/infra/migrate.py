"""Apply the numbered SQL files in db/migrations/ in order, once each.

A runner of our own rather than a library: the ones that fit (yoyo, alembic) drive a
synchronous driver, and this needs only an advisory lock, a table and a loop over
files, on the asyncpg connection the app already has.
"""

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from db.infra.types import Connection

MIGRATIONS_DIR = Path(__file__).parents[1] / "migrations"
# Any constant works; it only has to be the same in every dealgraph process.
_ADVISORY_LOCK_KEY = 0x6465616C  # "deal"
_FILE_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class MigrationError(Exception):
    """The migrations on disk and those recorded in the database disagree."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path}: migration files are named NNNN_snake_case.sql")
        migrations.append(Migration(int(match[1]), path.name, path.read_text()))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"{directory}: two migration files share a number")
    return migrations


async def migrate(conn: Connection, migrations: list[Migration] | None = None) -> list[str]:
    """Apply pending migrations; return the names of those applied now."""
    pending = load_migrations() if migrations is None else migrations
    applied_now: list[str] = []
    # A session-level lock, so that a second process starting at the same time waits
    # here and then finds everything applied.
    await conn.execute("select pg_advisory_lock($1)", _ADVISORY_LOCK_KEY)
    try:
        await conn.execute(
            """
            create table if not exists schema_migrations (
                version integer primary key,
                name text not null,
                checksum text not null,
                applied_at timestamptz not null default now()
            )
            """
        )
        recorded = {
            row["version"]: row
            for row in await conn.fetch("select version, name, checksum from schema_migrations")
        }
        for migration in pending:
            done = recorded.get(migration.version)
            if done is not None:
                if done["checksum"] != migration.checksum:
                    raise MigrationError(
                        f"{migration.name} changed after it was applied; "
                        "migrations are forward-only: add a new file instead"
                    )
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "insert into schema_migrations (version, name, checksum) values ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    migration.checksum,
                )
            applied_now.append(migration.name)
    finally:
        await conn.execute("select pg_advisory_unlock($1)", _ADVISORY_LOCK_KEY)
    return applied_now

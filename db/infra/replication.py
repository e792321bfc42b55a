"""Positions in the primary's write-ahead log, to tell whether a replica has a write yet."""

from db.infra.types import Executor


async def fetch_wal_position(db: Executor) -> str:
    """The primary's WAL position now (`0/3A4B5C8`): every transaction committed before
    this call is at or before it."""
    position: str = await db.fetchval("select pg_current_wal_lsn()::text")
    return position


async def fetch_has_replayed(db: Executor, position: str) -> bool:
    """Whether the server at `db` has applied the WAL up to `position`.

    A server that is not a standby has everything it wrote itself: that is the case when
    the replica URL names the primary.
    """
    replayed: bool = await db.fetchval(
        """
        select case when pg_is_in_recovery()
                    then coalesce(pg_last_wal_replay_lsn() >= $1::text::pg_lsn, false)
                    else true end
        """,
        position,
    )
    return replayed


async def fetch_is_written(db: Executor, position: str) -> bool:
    """Whether the primary at `db` has written its WAL up to `position`: a position past
    it was given by no write."""
    written: bool = await db.fetchval("select $1::text::pg_lsn <= pg_current_wal_lsn()", position)
    return written

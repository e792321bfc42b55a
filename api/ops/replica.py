"""Which server answers a request: the read replica (DATABASE_REPLICA_URL) or the primary.

Reads (REST GETs, GraphQL queries) go to the replica. The primary takes the key check and
rate limit (a write), the writes themselves with the answers read in their transaction,
GraphQL mutations with everything their payload loads, and the change feed.

Read-your-writes: a replica lags the primary by a little, so a client that reads right
after a write could miss it there. Every write answers with `Write-Position`, the
primary's WAL position once the write committed; a read that sends it back as
`Read-After` is answered by the replica only if it has applied the WAL that far, else by
the primary. A client keeps the latest position it got and sends it with every read: it
always sees its own writes, and costs the primary nothing once the replica caught up.
A position rather than a time window or a flag because the API runs as several stateless
processes: the position is right whichever process answers, and exact whatever the lag.
"""

import re

from graphql import OperationType
from starlette.requests import Request

from api.state import pool_of, replica_pool_of
from db.infra.errors import BadInput
from db.infra.replication import fetch_has_replayed, fetch_is_written, fetch_wal_position
from db.infra.types import Pool

WRITE_POSITION = "Write-Position"
READ_AFTER = "Read-After"
# pg_lsn's text form: two hexadecimal halves of a 64-bit position.
_POSITION = re.compile(r"[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}")


def read_after(request: Request) -> str | None:
    """The position the request's reads must include, from its Read-After header."""
    value = request.headers.get(READ_AFTER)
    if value is None:
        return None
    if not _POSITION.fullmatch(value):
        raise BadInput(
            f"{READ_AFTER}: {value[:100]!r} is not a position; send back the "
            f"{WRITE_POSITION} header of a write, such as 0/3A4B5C8",
            field=READ_AFTER,
        )
    return value


async def read_pool(request: Request) -> Pool:
    """The pool for a request that only reads: the replica unless it lacks the client's
    last write (Read-After)."""
    replica = replica_pool_of(request)
    after = read_after(request)
    if after is None or replica is pool_of(request):
        return replica
    if await fetch_has_replayed(replica, after):
        return replica
    # The primary answers what the replica lacks, but only positions a write gave: one
    # past the primary's (FFFFFFFF/FFFFFFFF) would send every read there.
    primary = pool_of(request)
    if not await fetch_is_written(primary, after):
        raise BadInput(
            f"{READ_AFTER}: {after} is past every write; send back the {WRITE_POSITION} "
            "header of a write",
            field=READ_AFTER,
        )
    return primary


async def pool_for(request: Request, operation: OperationType) -> Pool:
    """The pool a GraphQL operation runs on: a mutation's payload is read on the primary,
    right after its write."""
    if operation is OperationType.QUERY:
        return await read_pool(request)
    return pool_of(request)


async def position_headers(request: Request) -> dict[str, str]:
    """The Write-Position header for the answer to a write that has committed."""
    return {WRITE_POSITION: await fetch_wal_position(pool_of(request))}

"""Which database errors mean "not now, retry" rather than a bug.

The server is down, restarting or unreachable; no connection came free within the pool
timeout; a statement ran past the statement timeout. Both HTTP faces answer these with
503 and Retry-After (api/ops/outage.py, schema/errors.py), never with a 500, and with the
same codes: SERVICE_UNAVAILABLE, or QUERY_TIMEOUT for a statement that took too long.
"""

from dataclasses import dataclass

import asyncpg

SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
QUERY_TIMEOUT = "QUERY_TIMEOUT"
CODES = frozenset({SERVICE_UNAVAILABLE, QUERY_TIMEOUT})

# Unavailable for now, not wrong: class 08 (connection exception), 53 (insufficient
# resources: too many connections, out of memory or disk) and 57 (operator intervention:
# shutting down, starting up, crashed). 57014, a cancelled query, is told apart below.
_UNAVAILABLE_CLASSES = (
    asyncpg.PostgresConnectionError,
    asyncpg.InsufficientResourcesError,
    asyncpg.OperatorInterventionError,
)


@dataclass(frozen=True, slots=True)
class PoolLimits:
    """How long a request may wait on the database, in its two places."""

    # Seconds to get a connection from the pool, connecting a new one included.
    acquire_timeout: float
    # Milliseconds PostgreSQL lets one statement run before it cancels it; 0: no limit.
    statement_timeout_ms: int


@dataclass(frozen=True, slots=True)
class Unavailable:
    code: str
    message: str


def diagnose(error: BaseException, limits: PoolLimits | None) -> Unavailable | None:
    """What to tell the client when `error` means the database cannot serve it for now;
    None when it means something else (a bug: let it be a 500)."""
    if isinstance(error, asyncpg.QueryCanceledError):
        if limits is not None and limits.statement_timeout_ms:
            took = f"took longer than {limits.statement_timeout_ms} ms"
            return Unavailable(QUERY_TIMEOUT, f"the query {took} and was cancelled; retry later")
        return Unavailable(QUERY_TIMEOUT, "the database cancelled the query; retry later")
    # Before OSError, of which it is a kind. The pool's acquire is what raises it: the
    # app sets no client-side timeout on statements.
    if isinstance(error, TimeoutError):
        within = "" if limits is None else f" within {limits.acquire_timeout:g} s"
        return Unavailable(
            SERVICE_UNAVAILABLE, f"no database connection became available{within}; retry later"
        )
    if isinstance(error, (OSError, *_UNAVAILABLE_CLASSES)):
        return Unavailable(SERVICE_UNAVAILABLE, "the database is unavailable; retry later")
    if _lost_connection(error):
        return Unavailable(
            SERVICE_UNAVAILABLE, "the connection to the database was lost; retry later"
        )
    return None


def _lost_connection(error: BaseException) -> bool:
    # asyncpg raises InterfaceError for misuse too; only its message tells a connection
    # that the server closed under us ("connection is closed", "... the underlying
    # connection is closed") from a bug.
    if isinstance(error, asyncpg.InterfaceError):
        return str(error).endswith("connection is closed")
    # A session the server ends (a shutdown) leaves asyncpg's protocol between states
    # until it sees the socket close; a statement sent in that instant fails with "cannot
    # switch to state N; another operation (2) is in progress" (MagicStack/asyncpg#784,
    # #1069). The pool then drops the connection, so a retry gets a new one.
    return isinstance(error, asyncpg.InternalClientError)

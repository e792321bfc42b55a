"""Write transactions that PostgreSQL aborted to break a deadlock are run again.

Two writes that take the same locks in another order (the sources they cite, the names
they resolve, the rounds they match) can meet in a deadlock; PostgreSQL then aborts one
of them, which has written nothing. Running it again is then the right answer, not a
500: the other one has finished by then, or soon will.
"""

from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

T = TypeVar("T")

# Enough for the rare collision; a write that keeps deadlocking is a bug to see.
ATTEMPTS = 3


async def retrying_deadlocks(run: Callable[[], Awaitable[T]]) -> T:
    """`run()` (one whole transaction), again after a deadlock or serialization failure."""
    for _ in range(ATTEMPTS - 1):
        try:
            return await run()
        except (asyncpg.DeadlockDetectedError, asyncpg.SerializationError):
            continue
    return await run()

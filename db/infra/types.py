"""Type aliases for the asyncpg objects that every query function accepts.

asyncpg's classes are generic only in its stubs, so the aliases are strings.
"""

from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

Record: TypeAlias = asyncpg.Record
# A held connection: one of its own, or one acquired from a pool.
Connection: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"
Pool: TypeAlias = "asyncpg.Pool[asyncpg.Record]"
# Anything a query can run on: a pool (one statement, any connection) or a held connection.
Executor: TypeAlias = "Pool | Connection"

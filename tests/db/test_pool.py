"""The app's connection pool (db/infra/pool.py)."""

from db.infra.availability import PoolLimits
from db.infra.pool import open_pool


async def test_connections_do_without_jit(db_url: str) -> None:
    # With JIT, the type lookup asyncpg runs on each new connection took over a second.
    async with open_pool(db_url, limits=PoolLimits(5, 5000), min_size=1, max_size=1) as pool:
        assert await pool.fetchval("show jit") == "off"
        assert await pool.fetchval("show statement_timeout") == "5s"

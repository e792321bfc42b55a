"""The demo set loads, and loading it again changes nothing."""

import asyncpg

from db.infra.types import Pool
from db.seed import seed

_TABLES = [
    "organizations",
    "organization_aliases",
    "people",
    "person_roles",
    "sources",
    "rounds",
    "participations",
    "claims",
    "round_negotiators",
    "status_events",
]


async def _snapshot(pool: Pool) -> dict[str, list[str]]:
    snapshot = {}
    for table in _TABLES:
        rows = await pool.fetch(f"select t::text as row from {table} t order by 1")
        snapshot[table] = [r["row"] for r in rows]
    return snapshot


async def test_seed_is_idempotent(pool: Pool) -> None:
    async with pool.acquire() as conn:
        added = await seed(conn)
        first = await _snapshot(pool)
        assert await seed(conn) == 0
    counted = ("organizations", "people", "sources", "rounds", "participations", "claims")
    assert added == sum(len(first[t]) for t in counted)
    assert await _snapshot(pool) == first
    assert len(first["rounds"]) == 2
    assert len(first["participations"]) == 6
    assert {"openai", "amazon", "anthropic", "nvidia", "microsoft", "softbank"} <= {
        r["slug"] for r in await pool.fetch("select slug from organizations")
    }


async def test_seed_reuses_organizations_that_already_exist(fresh_db_url: str) -> None:
    conn = await asyncpg.connect(fresh_db_url)
    try:
        imported = await conn.fetchval(
            "insert into organizations (slug, name, description) "
            "values ('nvidia', 'NVIDIA', 'imported') returning id"
        )
        await seed(conn)
        org = await conn.fetchrow(
            "select id, name, description from organizations where slug = 'nvidia'"
        )
        assert org is not None
        assert (org["id"], org["name"], org["description"]) == (imported, "NVIDIA", "imported")
        investors = await conn.fetchval(
            "select count(*) from participations where investor_organization_id = $1", imported
        )
        assert investors == 1
    finally:
        await conn.close()

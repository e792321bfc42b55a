"""How many rows the tables that requests scan hold, as PostgreSQL estimates them.

The price of a request that counts or filters a whole list follows these (schema/limits.py).
Read from the catalog, so it costs nothing to ask: the planner's estimate after the last
ANALYZE, or, for a table never analyzed, its size on disk over a generous row width.
"""

from dataclasses import dataclass

from db.infra.types import Executor

# Bytes per row when a table has no estimate yet: smaller than any of these tables' rows,
# so that a table loaded since the last ANALYZE is not taken for empty.
_MIN_ROW_BYTES = 200


@dataclass(frozen=True, slots=True)
class TableSizes:
    rounds: int = 0
    organizations: int = 0
    round_history: int = 0
    acquisitions: int = 0


async def fetch_table_sizes(db: Executor) -> TableSizes:
    records = await db.fetch(
        """
        select c.relname,
               greatest(c.reltuples, pg_relation_size(c.oid) / $2::float8)::bigint as n
        from pg_class c
        where c.relname = any($1::text[]) and c.relkind = 'r'
          and c.relnamespace = to_regnamespace(current_schema())
        """,
        ["rounds", "organizations", "round_history", "acquisitions"],
        _MIN_ROW_BYTES,
    )
    found = {r["relname"]: int(r["n"]) for r in records}
    return TableSizes(**found)

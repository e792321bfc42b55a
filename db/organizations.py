"""Organizations: companies and investing firms, with their aliases."""

import uuid

from db.batch import one_per_key
from db.rows import Organization
from db.types import Executor

_SELECT = """
    select o.id, o.slug, o.name, o.description, o.website, o.country_code, o.city,
           o.founded_on, o.founded_precision, o.categories, o.investor_types::text[],
           coalesce(
               (select array_agg(a.alias order by a.alias)
                from organization_aliases a where a.organization_id = o.id),
               '{}') as aliases
    from organizations o
"""


async def list_organizations_by_ids(
    db: Executor, ids: list[uuid.UUID]
) -> list[Organization | None]:
    records = await db.fetch(f"{_SELECT} where o.id = any($1::uuid[])", ids)
    return one_per_key(ids, ((r["id"], Organization.from_record(r)) for r in records))


async def list_organizations_by_slugs(db: Executor, slugs: list[str]) -> list[Organization | None]:
    records = await db.fetch(f"{_SELECT} where o.slug = any($1::text[])", slugs)
    return one_per_key(slugs, ((r["slug"], Organization.from_record(r)) for r in records))

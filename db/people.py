"""People: angels and deal-makers, with their roles at organizations."""

import uuid

from db.infra.batch import one_per_key
from db.infra.types import Executor
from db.rows import Person


async def list_people_by_ids(db: Executor, ids: list[uuid.UUID]) -> list[Person | None]:
    records = await db.fetch(
        """
        select p.id, p.slug, p.name,
               coalesce(
                   (select array_agg(row(r.organization_id, r.title::text) order by r.title)
                    from person_roles r where r.person_id = p.id),
                   '{}') as roles
        from people p
        where p.id = any($1::uuid[])
        """,
        ids,
    )
    return one_per_key(ids, ((r["id"], Person.from_record(r)) for r in records))

"""Organizations: companies and investing firms, with their aliases."""

import hashlib
import uuid
from dataclasses import dataclass
from typing import Literal

import orjson

from db.infra.batch import one_per_key
from db.infra.ids import InvalidId, Kind, decode_any_id, decode_id
from db.infra.pagination import Keyset, Page, PageRequest, build_page
from db.infra.types import Executor
from db.rows import Organization

_COLUMNS = """
    o.id, o.slug, o.name, o.description, o.website, o.country_code, o.city,
           o.founded_on, o.founded_precision, o.categories, o.investor_types::text[],
           coalesce(
               (select array_agg(a.alias order by a.alias)
                from organization_aliases a where a.organization_id = o.id),
               '{}') as aliases
"""


async def list_organizations_by_ids(
    db: Executor, ids: list[uuid.UUID]
) -> list[Organization | None]:
    records = await db.fetch(
        f"select {_COLUMNS} from organizations o where o.id = any($1::uuid[])", ids
    )
    return one_per_key(ids, ((r["id"], Organization.from_record(r)) for r in records))


async def list_organizations_by_slugs(db: Executor, slugs: list[str]) -> list[Organization | None]:
    records = await db.fetch(
        f"select {_COLUMNS} from organizations o where o.slug = any($1::text[])", slugs
    )
    return one_per_key(slugs, ((r["slug"], Organization.from_record(r)) for r in records))


@dataclass(frozen=True, slots=True)
class OrganizationFilter:
    search: str | None = None
    country_code: str | None = None
    investor_types: list[str] | None = None
    role: Literal["RAISED", "INVESTED"] | None = None

    def fingerprint(self) -> str:
        return hashlib.sha256(orjson.dumps(self)).hexdigest()


# $1..$3 are the filter's other conditions, on `o`.
_ORG_FILTER = """
    ($1::text is null or o.country_code = $1)
    and ($2::investor_type[] is null or o.investor_types && $2)
    and ($3::text is null
         or ($3 = 'RAISED' and exists (select 1 from rounds r where r.company_id = o.id))
         or ($3 = 'INVESTED' and exists (
             select 1 from participations p where p.investor_organization_id = o.id)))
"""
# A search's matches and their ranks (organization_search, migration 0050), the other
# conditions read only when there are any: a search alone never reads organizations
# beyond the page.
_MATCHES = f"""
    organization_search($4) m
    where ($1::text is null and $2::investor_type[] is null and $3::text is null
           or exists (select 1 from organizations o where o.id = m.organization_id
                      and {_ORG_FILTER}))
"""


def organizations_scope(f: OrganizationFilter) -> str:
    return f"organizations:{f.fingerprint()}"


def _org_filter_args(f: OrganizationFilter) -> tuple[object, ...]:
    return (f.country_code, f.investor_types, f.role)


async def list_organizations(
    db: Executor, *, filter: OrganizationFilter, page: PageRequest
) -> Page[Organization]:
    """By name; with a search, the best match first (see organization_search)."""
    direction, comparison = page.order_sql(descending=False)
    if filter.search is None:
        key = "lower(o.name)"
        statement = f"""
            select {_COLUMNS}, {key} as sort_key
            from organizations o
            where {_ORG_FILTER}
              and ($4::text is null or ({key}, o.id) {comparison} ($4::text, $5::uuid))
            order by {key} {direction}, o.id {direction}
            limit $6
        """
        args: tuple[object, ...] = (*_org_filter_args(filter), *page.cursor_args)
    else:
        # The page of matches first, then their columns. The rank is an integer: its
        # text form in the cursor compares exactly.
        statement = f"""
            select {_COLUMNS}, p.rank::text as sort_key
            from (select m.organization_id, m.rank from {_MATCHES}
                    and ($5::text is null
                         or (m.rank, m.organization_id) {comparison} ($5::bigint, $6::uuid))
                  order by m.rank {direction}, m.organization_id {direction}
                  limit $7) p
            join organizations o on o.id = p.organization_id
            order by p.rank {direction}, o.id {direction}
        """
        args = (*_org_filter_args(filter), filter.search, *page.cursor_args)
    records = await db.fetch(statement, *args, page.fetch_limit)
    rows = [(Organization.from_record(r), Keyset(r["sort_key"], r["id"])) for r in records]
    return build_page(organizations_scope(filter), page, rows)


async def count_organizations(db: Executor, *, filter: OrganizationFilter) -> int:
    """As many as list_organizations pages through: with a search, its bounded matches."""
    if filter.search is None:
        count = await db.fetchval(
            f"select count(*) from organizations o where {_ORG_FILTER}", *_org_filter_args(filter)
        )
    else:
        count = await db.fetchval(
            f"select count(*) from {_MATCHES}", *_org_filter_args(filter), filter.search
        )
    return int(count)


async def fetch_organization(db: Executor, id_or_slug: str) -> Organization | None:
    """The organization with this public id, or else with this slug."""
    try:
        org_id = decode_id(Kind.ORGANIZATION, id_or_slug)
    except InvalidId:
        [found] = await list_organizations_by_slugs(db, [id_or_slug])
    else:
        [found] = await list_organizations_by_ids(db, [org_id])
    return found


async def fetch_investor_id(db: Executor, id_or_slug: str) -> uuid.UUID | None:
    """The organization or person with this public id, or else with this slug."""
    try:
        kind, value = decode_any_id(id_or_slug)
    except InvalidId:
        found: uuid.UUID | None = await db.fetchval(
            """
            select id from organizations where slug = $1
            union all select id from people where slug = $1
            limit 1
            """,
            id_or_slug,
        )
        return found
    table = {Kind.ORGANIZATION: "organizations", Kind.PERSON: "people"}.get(kind)
    if table is None:
        return None
    exists: bool = await db.fetchval(f"select exists (select 1 from {table} where id = $1)", value)
    return value if exists else None

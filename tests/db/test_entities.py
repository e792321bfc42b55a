"""Who a name is: the one resolution rule (db/entities.py), step by step."""

import uuid

import pytest

from db import entities
from db.entities import Mention, create, resolve
from db.infra.types import Pool


@pytest.fixture(scope="module", autouse=True)
async def known(pool: Pool) -> None:
    await pool.execute(
        """
        insert into organizations (slug, name) values
            ('newyorktimes', 'New York Times'),
            ('emergent', 'Emergent Game Technologies'),
            ('getjar-networks', 'GetJar, Inc.'),
            ('idealists', 'Idealists'),
            ('societe-generale', 'Société Générale S.A.'),
            ('andreessen-horowitz', 'Andreessen Horowitz'),
            ('alterg', 'AlterG'),
            ('alterg-2', 'AlterG Inc');
        insert into organization_aliases (organization_id, alias)
        select id, 'a16z' from organizations where slug = 'andreessen-horowitz';
        insert into people (slug, name) values ('peter-thiel', 'Peter Thiel');
        """
    )


async def _resolve(pool: Pool, *mentions: Mention) -> list[tuple[str, str | None]]:
    async with pool.acquire() as conn, conn.transaction():
        found = await resolve(conn, mentions)
        slugs = []
        for r in found:
            slug = None
            if r.entity_id is not None:
                table = "people" if r.kind == entities.PERSON else "organizations"
                slug = await conn.fetchval(f"select slug from {table} where id = $1", r.entity_id)
            slugs.append((r.step, slug or (",".join(r.candidates) or None)))
        return slugs


async def test_each_step_in_order(pool: Pool) -> None:
    assert await _resolve(
        pool,
        Mention("GetJar Inc", slug="getjar-networks"),  # slug, and the names agree
        Mention("New York Times", slug="new-york-times"),  # no such slug: by name
        Mention("GetJar Inc."),  # punctuation and a legal suffix
        Mention("The Idealists"),  # a leading "the"
        Mention("SOCIETE GENERALE"),  # case, accents, S.A.
        Mention("A16Z"),  # a known alias
        Mention("Andreesen Horowitz"),  # a typo: one candidate clears the threshold
        Mention("Peter Thiel"),  # a person
        Mention("Sequoia Capital"),  # nobody: new
    ) == [
        ("slug", "getjar-networks"),
        ("name", "newyorktimes"),
        ("name", "getjar-networks"),
        ("name", "idealists"),
        ("name", "societe-generale"),
        ("alias", "andreessen-horowitz"),
        ("fuzzy", "andreessen-horowitz"),
        ("name", "peter-thiel"),
        ("new", None),
    ]


async def test_a_slug_whose_name_differs_is_not_taken_for_identity(pool: Pool) -> None:
    # The investor "Emergent" is not "Emergent Game Technologies", whose slug is emergent.
    assert await _resolve(pool, Mention("Emergent", slug="emergent")) == [("new", None)]


async def test_two_candidates_are_never_merged_silently(pool: Pool) -> None:
    assert await _resolve(pool, Mention("AlterG")) == [("ambiguous", "alterg,alterg-2")]


async def test_what_the_source_tells_of_the_kind_is_kept(pool: Pool) -> None:
    assert await _resolve(pool, Mention("Peter Thiel", kind=entities.ORGANIZATION)) == [
        ("new", None)
    ]


async def test_a_slug_is_always_found(pool: Pool) -> None:
    # A thousand organizations hold "acme" and "acme-2" to "acme-1000".
    await pool.execute(
        """
        insert into organizations (slug, name)
        select case when n = 1 then 'acme' else 'acme-' || n end, 'Acme holding ' || n
        from generate_series(1, 1000) n
        """
    )
    async with pool.acquire() as conn, conn.transaction():
        [made] = await create(conn, ["Acme"])
        slug = await conn.fetchval("select slug from organizations where id = $1", made)
    assert isinstance(made, uuid.UUID)
    assert slug.startswith("acme-")
    assert slug not in {f"acme-{n}" for n in range(2, 1001)}

"""Migration 0011 merges the organizations that one name key names twice, as earlier
imports made them, and loses no participation."""

import asyncpg

from db.infra.migrate import load_migrations, migrate


async def test_duplicates_merge_into_the_company(fresh_db_url: str) -> None:
    conn = await asyncpg.connect(fresh_db_url)
    try:
        # The template has every migration; replay 0011 on rows made as before it.
        await conn.execute(
            """
            insert into organizations (slug, name) values
                ('newyorktimes', 'New York Times'), ('new-york-times', 'New York Times'),
                ('bb-t-fund', 'BB&T Fund'), ('bbt-fund', 'BBT Fund'),
                ('alterg', 'AlterG'), ('alterg-2', 'AlterG Inc'), ('blogly', 'Blogly');
            insert into rounds (id, company_id, round_type, status, stage)
            select gen_random_uuid(), id, 'SEED', 'REPORTED', 'CLOSED' from organizations
            where slug in ('newyorktimes', 'blogly', 'alterg', 'alterg-2');
            -- Both New York Times invest in Blogly's round; the investor one elsewhere too.
            insert into participations (round_id, investor_organization_id, status, stage)
            select r.id, o.id, 'REPORTED', 'CLOSED'
            from rounds r join organizations c on c.id = r.company_id, organizations o
            where (c.slug = 'blogly' and o.slug in ('newyorktimes', 'new-york-times',
                                                   'bbt-fund', 'bb-t-fund'))
               or (c.slug = 'alterg' and o.slug = 'new-york-times');
            """
        )
        [merge] = [m for m in load_migrations() if m.version == 11]
        await conn.execute("delete from schema_migrations where version = 11")
        await conn.execute("drop function merge_organization(uuid, uuid)")
        await migrate(conn, [merge])
        rows = await conn.fetch(
            """
            select c.slug as company, o.slug as investor
            from participations p join rounds r on r.id = p.round_id
            join organizations c on c.id = r.company_id
            join organizations o on o.id = p.investor_organization_id
            order by 1, 2
            """
        )
        slugs = await conn.fetch("select slug from organizations order by slug")
        aliases = await conn.fetch("select alias from organization_aliases order by alias")
    finally:
        await conn.close()
    assert [tuple(r) for r in rows] == [
        ("alterg", "newyorktimes"),
        ("blogly", "bb-t-fund"),
        ("blogly", "newyorktimes"),
    ]
    # Two companies with rounds of their own stay apart.
    assert [s["slug"] for s in slugs] == [
        "alterg",
        "alterg-2",
        "bb-t-fund",
        "blogly",
        "newyorktimes",
    ]
    assert [a["alias"] for a in aliases] == ["BBT Fund"]

"""API writes find companies and investors by the one resolution rule (db/entities.py)."""

import httpx

from db.infra.types import Pool

SOURCE = {"publisher": "Wire", "kind": "PRESS_ON_RECORD", "published_at": "2013-06-01T00:00:00Z"}


def _report(company: str, *investors: str) -> dict[str, object]:
    return {
        "company": {"name": company},
        "round_type": "SEED",
        "stage": "ANNOUNCED",
        "source": SOURCE,
        "participations": [{"investor": {"name": name}} for name in investors],
    }


async def test_a_known_name_spelled_otherwise_is_that_organization(
    client: httpx.AsyncClient, pool: Pool
) -> None:
    await pool.execute(
        "insert into organizations (slug, name) values ('getjar-networks', 'GetJar, Inc.'),"
        " ('newyorktimes', 'New York Times')"
    )
    answer = await client.post("/v1/reports", json=_report("GetJar Inc", "The New York Times"))
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["company"]["slug"] == "getjar-networks"
    assert [p["investor"]["slug"] for p in body["participations"]] == ["newyorktimes"]
    aliases = await pool.fetch(
        "select alias from organization_aliases a join organizations o"
        " on o.id = a.organization_id where o.slug in ('getjar-networks', 'newyorktimes')"
        " order by alias"
    )
    assert [a["alias"] for a in aliases] == ["GetJar Inc", "The New York Times"]


async def test_a_name_of_two_organizations_is_refused_naming_them(
    client: httpx.AsyncClient, pool: Pool
) -> None:
    await pool.execute(
        "insert into organizations (slug, name) values ('alterg', 'AlterG'),"
        " ('alter-g', 'AlterG Inc')"
    )
    answer = await client.post("/v1/reports", json=_report("Tiny Co", "AlterG, Inc."))
    assert answer.status_code == 400
    problem = answer.json()
    assert problem["code"] == "AMBIGUOUS"
    assert problem["parameter"] == "participations.0.investor.name"
    assert "alter-g, alterg" in problem["detail"]

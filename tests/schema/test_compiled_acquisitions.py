"""Acquisitions compile to one statement (db/json/entities.py) and answer as the
resolvers do: every field, every filter, both orders and directions, cursors,
totalCount, as-of reads, node, and an organization's two sides of a deal."""

import datetime
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from api.app import create_app
from db.imports.crunchbase import import_crunchbase
from db.infra.types import Pool
from db.json.select import statement
from db.seed import seed
from schema.fastpath import plan
from schema.limits import parse_document, select_operation
from tests.conftest import bearer, create_key
from tests.graphql import graphql_data, points_aside

FIXTURES = Path(__file__).parent.parent / "fixtures" / "crunchbase"

MONEY = "qualifier low { amount currency } high { amount currency } usd"
ACQUISITION = f"""
  __typename id status stage closedOn terms percentAcquired
  announced {{ date precision text }}
  price {{ {MONEY} }}
  target {{ id slug name acquiredBy {{ id stage }} }}
  leadAcquirer {{ slug }}
  acquirers {{ slug acquiredBy {{ id claims {{ id }} }} }}
  claims {{
    id quote attribution recordedAt status stage closedOn terms percentAcquired
    amount {{ {MONEY} }} announced {{ date precision }} participation {{ id }}
    source {{ id publisher kind url publishedAt }}
  }}
  history {{ at status stage source {{ publisher }} }}
"""
CONNECTION = f"""
  totalCount
  pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
  edges {{ cursor node {{ {ACQUISITION} }} }}
"""
LIST = f"""
query ($first: Int, $after: String, $last: Int, $before: String,
       $filter: AcquisitionFilter, $orderBy: AcquisitionOrder, $asOf: DateTime) {{
  acquisitions(first: $first, after: $after, last: $last, before: $before,
               filter: $filter, orderBy: $orderBy, asOf: $asOf) {{ {CONNECTION} }}
}}
"""
ONE = f"""
query ($id: ID!, $asOf: DateTime) {{
  acquisition(id: $id, asOf: $asOf) {{ {ACQUISITION} }}
  node(id: $id) {{ __typename id ... on Acquisition {{ stage price {{ usd }} }} }}
}}
"""
ORGANIZATION = f"""
query ($slug: String!, $first: Int, $last: Int) {{
  organization(slug: $slug) {{
    slug
    acquisitions(first: $first, last: $last) {{ {CONNECTION} }}
    acquiredBy {{ acquirers {{ acquisitions(first: 2) {{ totalCount edges {{ node {{ id }} }} }} }}
    }}
    acquiredBy {{ {ACQUISITION} }}
  }}
}}
"""
REPORT = """
mutation ($input: AcquisitionReportInput!) {
  acquisitionReport(input: $input) { acquisition { id } userErrors { message } }
}
"""
CONFIRM = """
mutation ($input: AcquisitionStatusInput!) {
  acquisitionConfirm(input: $input) { acquisition { id } userErrors { message } }
}
"""


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat()


def _source(publisher: str, kind: str, day: str) -> dict[str, Any]:
    return {"publisher": publisher, "kind": kind, "publishedAt": f"{day}T08:00:00Z"}


@pytest.fixture(scope="module")
async def clients(db_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    keys = [bearer(await create_key(db_url)) for _ in range(2)]
    compiled = create_app(db_url, pool_min_size=1)
    resolved = create_app(db_url, pool_min_size=1, compiled_queries=False)
    async with LifespanManager(compiled) as c, LifespanManager(resolved) as r:
        made = [
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=m.app), base_url="http://test", headers=key
            )
            for m, key in zip((c, r), keys, strict=True)
        ]
        async with made[0] as a, made[1] as b:
            yield a, b


@pytest.fixture(scope="module")
async def moments(pool: Pool, clients: tuple[httpx.AsyncClient, httpx.AsyncClient]) -> list[str]:
    """The demo set, a CrunchBase slice, and a story written step by step (a report, a
    second report adding an acquirer, the target's confirmation, the closing): the
    moments between the steps."""
    async with pool.acquire() as conn:
        await seed(conn)
        await import_crunchbase(conn, FIXTURES)
    client = clients[1]
    steps = [_now()]
    report: dict[str, Any] = {
        "target": {"name": "Gadget Works"},
        "leadAcquirer": {"name": "Acme Holdings"},
        "stage": "IN_TALKS",
        "price": {"qualifier": "UP_TO", "high": {"amount": "900000000", "currency": "EUR"}},
        "source": _source("Reuters", "PRESS_ANONYMOUS", "2025-03-01"),
        "quote": "Acme is said to be in talks to buy Gadget Works",
    }
    made = await graphql_data(client, REPORT, {"input": report})
    acquisition_id = made["acquisitionReport"]["acquisition"]["id"]
    steps.append(_now())
    second = {
        **report,
        "otherAcquirers": [{"name": "Beta Partners"}],
        "source": _source("FT", "PRESS_ANONYMOUS", "2025-03-05"),
        "quote": "Beta Partners joins Acme's bid",
    }
    await graphql_data(client, REPORT, {"input": second})
    steps.append(_now())
    for stage, day, extra in (
        (
            "ANNOUNCED",
            "2025-04-01",
            {"price": {"qualifier": "EXACT", "low": {"amount": "850000000", "currency": "EUR"}}},
        ),
        ("CLOSED", "2025-06-30", {"closedOn": "2025-06-30"}),
    ):
        statement_input = {
            "acquisitionId": acquisition_id,
            "stage": stage,
            "source": _source("Gadget Works", "COMPANY_STATEMENT", day),
            **extra,
        }
        answer = await graphql_data(client, CONFIRM, {"input": statement_input})
        assert answer["acquisitionConfirm"]["userErrors"] == []
        steps.append(_now())
    return steps


async def _same(
    pool: Pool,
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient],
    query: str,
    variables: dict[str, Any],
) -> dict[str, Any]:
    """The compiled answer, once it is the resolvers' byte for byte and came from one
    statement."""
    document = parse_document(query)
    operation = select_operation(document, None)
    assert operation is not None
    # Planned and compiled: no part left to the resolvers.
    statement(await plan(pool, document, operation, variables))
    compiled, resolved = [
        await c.post("/graphql", json={"query": query, "variables": variables}) for c in clients
    ]
    assert compiled.status_code == resolved.status_code == 200, compiled.content
    assert points_aside(compiled.content) == points_aside(resolved.content), f"{variables}"
    answer: dict[str, Any] = compiled.json()
    assert "errors" not in answer, answer
    data: dict[str, Any] = answer["data"]
    return data


@pytest.mark.parametrize(
    "variables",
    [
        {},
        {"first": 3},
        {"last": 4},
        {"first": 5, "orderBy": {"field": "PRICE_USD", "direction": "DESC"}},
        {"last": 2, "orderBy": {"field": "PRICE_USD", "direction": "ASC"}},
        {"first": 20, "orderBy": {"field": "ANNOUNCED_ON", "direction": "ASC"}},
        {"filter": {"status": ["CONFIRMED"], "stage": ["CLOSED", "ANNOUNCED"]}},
        {"filter": {"status": ["REPORTED", "DENIED"]}},
        {"filter": {"announcedFrom": "2000-01-01", "announcedTo": "2012-12-31"}},
        {"filter": {"minPriceUsd": "100000000"}, "first": 10},
        {"filter": {"minPriceUsd": "0"}},
    ],
)
async def test_the_list_compiles_and_answers_as_the_resolvers_do(
    pool: Pool,
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient],
    moments: list[str],
    variables: dict[str, Any],
) -> None:
    data = await _same(pool, clients, LIST, variables)
    assert data["acquisitions"]["totalCount"] > 0


async def test_pages_walked_both_ways_compile_and_agree(
    pool: Pool, clients: tuple[httpx.AsyncClient, httpx.AsyncClient], moments: list[str]
) -> None:
    order = {"field": "PRICE_USD", "direction": "DESC"}
    seen: list[str] = []
    after = None
    while True:
        page = (await _same(pool, clients, LIST, {"first": 2, "after": after, "orderBy": order}))[
            "acquisitions"
        ]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    back: list[str] = []
    before = None
    while True:
        page = (await _same(pool, clients, LIST, {"last": 3, "before": before, "orderBy": order}))[
            "acquisitions"
        ]
        back = [e["node"]["id"] for e in page["edges"]] + back
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert seen == back
    assert len(seen) == page["totalCount"] >= 4


async def test_filters_by_party_compile_and_agree(
    pool: Pool, clients: tuple[httpx.AsyncClient, httpx.AsyncClient], moments: list[str]
) -> None:
    ids = await pool.fetch(
        "select public_id('org', organization_id) as acquirer,"
        " (select public_id('org', target_id) from acquisitions where id = acquisition_id)"
        " as target from acquirers order by added_at desc limit 4"
    )
    for row in ids:
        for name in ("acquirerId", "targetId"):
            field = "acquirer" if name == "acquirerId" else "target"
            data = await _same(pool, clients, LIST, {"filter": {name: row[field]}})
            assert data["acquisitions"]["totalCount"] >= 1


async def test_as_of_reads_compile_and_differ_between_the_steps(
    pool: Pool, clients: tuple[httpx.AsyncClient, httpx.AsyncClient], moments: list[str]
) -> None:
    [acquisition_id] = [
        r["id"]
        for r in await pool.fetch(
            "select public_id('acq', a.id) as id from acquisitions a"
            " join organizations o on o.id = a.target_id where o.name = 'Gadget Works'"
        )
    ]
    seen = []
    for moment in moments:
        one = await _same(pool, clients, ONE, {"id": acquisition_id, "asOf": moment})
        listed = await _same(
            pool,
            clients,
            LIST,
            {"asOf": moment, "filter": {"stage": ["IN_TALKS", "ANNOUNCED", "CLOSED"]}},
        )
        a = one["acquisition"]
        seen.append(
            None
            if a is None
            else (a["stage"], [x["slug"] for x in a["acquirers"]], len(a["claims"]))
        )
        assert (a is None) == (
            acquisition_id not in [e["node"]["id"] for e in listed["acquisitions"]["edges"]]
            and listed["acquisitions"]["totalCount"] < 50
        )
    assert seen == [
        None,
        ("IN_TALKS", ["acme-holdings"], 1),
        ("IN_TALKS", ["acme-holdings", "beta-partners"], 2),
        ("ANNOUNCED", ["acme-holdings", "beta-partners"], 3),
        ("CLOSED", ["acme-holdings", "beta-partners"], 4),
    ]
    now = await _same(pool, clients, ONE, {"id": acquisition_id})
    assert now["node"]["__typename"] == "Acquisition"
    assert now["acquisition"]["closedOn"] == "2025-06-30"


@pytest.mark.parametrize("slug", ["acme-holdings", "beta-partners", "gadget-works"])
async def test_an_organizations_acquisitions_compile_and_agree(
    pool: Pool,
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient],
    moments: list[str],
    slug: str,
) -> None:
    for variables in ({"first": 1}, {"last": 3}, {"first": 5}):
        await _same(pool, clients, ORGANIZATION, {"slug": slug, **variables})


async def test_crunchbase_acquirers_compile_and_agree(
    pool: Pool, clients: tuple[httpx.AsyncClient, httpx.AsyncClient], moments: list[str]
) -> None:
    slugs = [
        r["slug"]
        for r in await pool.fetch(
            "select distinct o.slug from organizations o"
            " where exists (select 1 from acquirers q where q.organization_id = o.id)"
            " or exists (select 1 from acquisitions a where a.target_id = o.id)"
            " order by o.slug limit 12"
        )
    ]
    assert len(slugs) >= 6
    for slug in slugs:
        await _same(pool, clients, ORGANIZATION, {"slug": slug, "first": 2})

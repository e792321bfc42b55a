"""Every list field is batched: the number of SQL statements does not grow with `first`."""

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager

from api.app import create_app
from db.infra.types import Pool
from db.seed import seed
from tests.conftest import bearer, create_key
from tests.graphql import graphql_data

_ASYNCPG_OWN = ("RESET ALL", "typeinfo", "set_config('jit'")
# The key's charges: how many a request makes depends on its key's lease (api/guard/
# leases.py) and on the clock, not on what it asks.
_CHARGES = "insert into rate_limit_buckets"


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    async def attach(self, conn: "asyncpg.Connection[asyncpg.Record]") -> None:
        conn.add_query_logger(self._log)

    def _log(self, logged: "asyncpg.connection.LoggedQuery") -> None:
        # asyncpg's own statements (resetting a connection returned to the pool,
        # looking up types on a new connection) are not the app's queries.
        if not any(mark in logged.query for mark in (*_ASYNCPG_OWN, _CHARGES)):
            self.statements.append(logged.query)


@pytest.fixture(scope="module")
def counter() -> StatementCounter:
    return StatementCounter()


@pytest.fixture(scope="module")
async def counted(db_url: str, counter: StatementCounter) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(db_url, pool_min_size=1, pool_max_size=2, on_connect=counter.attach)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", headers=bearer(await create_key(db_url))
        ) as http:
            yield http


@pytest.fixture(scope="module", autouse=True)
async def data(pool: Pool) -> None:
    async with pool.acquire() as conn:
        await seed(conn)
    # Thirty companies, each with three rounds, each with two investors from the seed.
    await pool.execute(
        """
        with companies as (
            insert into organizations (slug, name)
            select 'company-' || i, 'Company ' || i from generate_series(1, 30) as i
            returning id
        ), new_rounds as (
            insert into rounds (company_id, round_type, status, stage, announced_on,
                                announced_precision)
            select c.id, 'SEED', 'CONFIRMED', 'CLOSED', date '2020-01-01' + j, 'DAY'
            from companies c, generate_series(1, 3) as j
            returning id
        )
        insert into participations (round_id, investor_organization_id, status, stage)
        select r.id, o.id, 'CONFIRMED', 'CLOSED'
        from new_rounds r, organizations o where o.slug in ('nvidia', 'softbank')
        """
    )
    # Each company acquired by Nvidia with SoftBank, with a claim and a status event.
    await pool.execute(
        """
        with source as (
            insert into sources (publisher, kind, published_at)
            values ('Fixture Wire', 'PRESS_ON_RECORD', '2021-01-01') returning id
        ), new_acquisitions as (
            insert into acquisitions (target_id, status, stage, announced_on,
                                      announced_precision)
            select o.id, 'REPORTED', 'IN_TALKS', date '2021-01-01', 'DAY'
            from organizations o where o.slug like 'company-%'
            returning id
        ), new_acquirers as (
            insert into acquirers (acquisition_id, organization_id, is_lead)
            select a.id, o.id, o.slug = 'nvidia'
            from new_acquisitions a, organizations o where o.slug in ('nvidia', 'softbank')
        ), new_claims as (
            insert into claims (source_id, acquisition_id, status, stage, quote)
            select s.id, a.id, 'REPORTED', 'IN_TALKS', 'in talks'
            from new_acquisitions a, source s
            returning id, acquisition_id, source_id
        )
        insert into status_events (acquisition_id, at, status, stage, source_id, claim_id)
        select acquisition_id, '2021-01-01', 'REPORTED', 'IN_TALKS', source_id, id
        from new_claims
        """
    )


async def _count(
    client: httpx.AsyncClient, counter: StatementCounter, query: str, first: int
) -> int:
    counter.statements.clear()
    await graphql_data(client, query, {"first": first})
    return len(counter.statements)


SHAPES = {
    "rounds with company, participations, investors, claims, sources, history": """
        query ($first: Int) { rounds(first: $first) { totalCount edges { node {
          company { name }
          participations { investor { name } amount { usd } claims { source { publisher } } }
          negotiators { person { name } onBehalfOf { name } }
          claims { quote source { publisher } participation { investor { name } } }
          history { status source { publisher } }
        } } } }
    """,
    "organizations with their rounds and investments": """
        query ($first: Int) { organizations(first: $first) { totalCount edges { node {
          name
          rounds(first: 5) { totalCount edges { node { stage participations { isLead } } } }
          investments(first: 5) { totalCount edges { node { round { company { name } } } } }
        } } } }
    """,
    "acquisitions with target, acquirers, claims, sources, history": """
        query ($first: Int) { acquisitions(first: $first) { totalCount edges { node {
          target { name acquiredBy { id } }
          acquirers { name } leadAcquirer { name } price { usd }
          claims { quote source { publisher } }
          history { status source { publisher } }
        } } } }
    """,
    "organizations with their acquisitions, as acquirer and as target": """
        query ($first: Int) { organizations(first: $first) { totalCount edges { node {
          acquisitions(first: 5) { totalCount edges { node { target { name } } } }
          acquiredBy { id }
        } } } }
    """,
    "an acquirer's acquisitions, their targets and who acquired them": """
        query ($first: Int) { organization(slug: "nvidia") {
          acquisitions(first: $first) { totalCount edges { node {
            target { name acquiredBy { leadAcquirer { name } acquirers { slug } } }
          } } }
        } }
    """,
    "an investor's investments with their rounds and companies": """
        query ($first: Int) { organization(slug: "nvidia") {
          investments(first: $first) { totalCount edges { node {
            round { company { name rounds(first: 2) { edges { node { id } } } } }
          } } }
        } }
    """,
    "organizations with their summaries": """
        query ($first: Int) { organizations(first: $first) { edges { node {
          fundingSummary { roundsCount totalUsd firstRound { id } lastRound { id } }
          investmentSummary {
            investmentsCount byRoundType { roundType count } firstInvestment { isLead }
          }
        } } } }
    """,
    "organizations with their co-investors": """
        query ($first: Int) { organizations(first: $first) { edges { node {
          coInvestors(first: 3) { totalCount edges { sharedRounds node { name } } }
        } } } }
    """,
    "an investor's co-investors with their own co-investors": """
        query ($first: Int) { organization(slug: "nvidia") {
          coInvestors(first: $first) { totalCount edges { sharedRounds node {
            name ... on Organization { coInvestors(first: 2) { edges { node { name } } } }
          } } }
        } }
    """,
}


@pytest.mark.parametrize("shape", SHAPES)
async def test_statement_count_does_not_grow_with_page_size(
    counted: httpx.AsyncClient, counter: StatementCounter, shape: str
) -> None:
    query = SHAPES[shape]
    # A new connection first asks PostgreSQL about the types it meets; keep that out.
    await _count(counted, counter, query, 30)
    small = await _count(counted, counter, query, 2)
    large = await _count(counted, counter, query, 30)
    assert large == small, (shape, small, large, counter.statements)
    # The largest shape above needs a dozen statements at most, whatever the page size.
    assert large <= 12, counter.statements

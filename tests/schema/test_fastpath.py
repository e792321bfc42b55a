"""The fast path and the resolvers give the same answer, to the byte, for every query in
the corpus; queries the fast path does not know go to the resolvers untouched."""

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from api.app import create_app
from db.infra.types import Pool
from db.seed import seed
from schema.fastpath import compiled_answer
from schema.limits import parse_document, select_operation
from tests.conftest import bearer, create_key
from tests.graphql import points_aside

MONEY = "qualifier low { amount currency } high { currency amount __typename } usd __typename"
ROUND = f"""
  __typename id roundType reportedLabel status stage announcedOn closedOn
  amount {{ {MONEY} }} postMoneyValuation {{ usd qualifier }} preMoneyValuation {{ {MONEY} }}
  targetAmount {{ qualifier }}
  announced {{ date precision text __typename }} expectedClose {{ text date precision }}
  company {{
    id slug name description website countryCode city __typename
    founded {{ text precision date }} categories investorTypes aliases
  }}
  participations {{
    __typename id isLead status stage amount {{ {MONEY} }}
    investor {{ __typename id slug name }}
  }}
"""

# (query, variables): each must be answered by the fast path.
FAST = [
    (
        f"{{ rounds {{ totalCount edges {{ cursor node {{ {ROUND} }} }} "
        "pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }",
        {},
    ),
    (
        "query ($n: Int) { rounds(first: $n) { edges { node { id company { name } "
        "participations { investor { name } } } } } }",
        {"n": 50},
    ),
    (
        "{ latest: rounds(first: 7, orderBy: {field: AMOUNT_USD, direction: DESC}) { "
        "pageInfo { endCursor hasNextPage } edges { node { theId: id amount { usd } } cursor } } }",
        {},
    ),
    (
        "{ rounds(first: 5, orderBy: {field: ANNOUNCED_ON, direction: ASC}, "
        "filter: {status: [CONFIRMED], stage: [CLOSED, ANNOUNCED]}) { totalCount __typename "
        "edges { __typename node { id status stage announcedOn } } } }",
        {},
    ),
    (
        "query ($s: [DealStatus!]) { rounds(first: 100, filter: {status: $s}) { totalCount "
        "edges { node { id } } } }",
        {"s": ["REPORTED"]},
    ),
    (
        f'{{ organization(slug: "openai") {{ __typename id slug name description website '
        f"countryCode city aliases investorTypes founded {{ text }} "
        f"rounds(first: 3) {{ totalCount edges {{ node {{ {ROUND} }} }} "
        "pageInfo { hasNextPage } } } }",
        {},
    ),
    (
        '{ o: organization(slug: "company-1") { name rounds(first: 2) { edges { node { '
        "participations { investor { name } } } } pageInfo { hasNextPage hasPreviousPage } } } }",
        {},
    ),
    ('{ organization(slug: "no-such-company") { name } }', {}),
    (
        "{ roundStats(groupBy: [PERIOD, ROUND_TYPE]) { __typename key { __typename "
        "period { date precision text __typename } roundType status stage countryCode } "
        "count disclosedCount amountUsd { sum median p25 p75 min max __typename } "
        "boundedCount { upTo atLeast range about __typename } } }",
        {},
    ),
    (
        "query ($g: [RoundDimension!]!, $p: Period, $f: RoundFilter) { s: roundStats("
        "groupBy: $g, period: $p, filter: $f) { k: key { status stage period { text } } "
        "n: count amountUsd { median m: max } } }",
        {"g": ["STATUS", "PERIOD", "STAGE"], "p": "MONTH", "f": {"status": ["CONFIRMED"]}},
    ),
    (
        '{ roundStats(groupBy: [COUNTRY], asOf: "2030-01-01T00:00:00Z") { ...B } } '
        "fragment B on RoundStatsBucket { count key { countryCode } }",
        {},
    ),
    ("{ roundStats(groupBy: []) { count amountUsd { sum } boundedCount { range } } }", {}),
    (
        "{ roundStats(groupBy: [INVESTOR]) { key { investor { ... on Organization { website"
        " fundingSummary { totalUsd firstRound { id } } } } } count } }",
        {},
    ),
    (
        "{ roundStats(groupBy: [INVESTOR, STATUS]) { key { status investor { __typename id "
        "name ... on Organization { slug } ... on Person { s: slug name } } } count } }",
        {},
    ),
    # Fragments, directives and repeated fields, as frontends send them: collected as the
    # executor collects them, fields of one name merged.
    ("{ rounds { edges { node { ...R } } } } fragment R on Round { id }", {}),
    (
        "query ($b: Boolean = true) { rounds(first: 2) { edges { node { id "
        "stage @skip(if: true) @include(if: $b) } } } }",
        {"b": None},
    ),
    # Each fragment spreads the next twice: 2^30 spreads, one answer.
    (
        "{ rounds(first: 2) { edges { node { ...F0 } } } } "
        + " ".join(f"fragment F{i} on Round {{ ...F{i + 1} ...F{i + 1} }}" for i in range(30))
        + " fragment F30 on Round { id status }",
        {},
    ),
    # An investor's portfolio, and a participation's round.
    (
        '{ organization(slug: "nvidia") { name investments(first: 5) { __typename totalCount '
        "edges { __typename node { id isLead amount { usd } round { id announced { text } "
        "company { name } participations { investor { name } } } } } "
        "pageInfo { hasNextPage hasPreviousPage __typename } } } }",
        {},
    ),
    (
        '{ organization(slug: "softbank") { investments { totalCount edges { node { '
        "status round { status } } } } } }",
        {},
    ),
    (
        '{ organization(slug: "company-3") { investments { totalCount edges { node { id } } '
        "pageInfo { hasNextPage } } } }",
        {},
    ),
    (
        "{ rounds(first: 3) { edges { node { id participations { round { id company { name } } "
        "} } } } }",
        {},
    ),
    (
        "query ($full: Boolean!) { ...Q } fragment Q on Query { rounds(first: 6) { "
        "...C totalCount } } fragment C on RoundConnection { edges { node { id ... on Node "
        "{ id } ...Co @include(if: $full) company { name } } } pageInfo { ... { endCursor } } }"
        " fragment Co on Round { company { slug } status }",
        {"full": True},
    ),
    (
        "query ($full: Boolean!) { rounds(first: 6) { edges { node { id ...Co @include(if: $full)"
        " participations { investor { name ... on Investor { slug } } } } } } }"
        " fragment Co on Round { company { slug } status }",
        {"full": False},
    ),
    (
        "{ rounds(first: 4) { edges { node { id id company { name } company { id name } "
        "status @skip(if: true) stage @skip(if: false) } } } }",
        {},
    ),
    (
        '{ organization(slug: "company-2") { ... on Organization { name } ... on Investor '
        "{ slug } rounds(first: 3) { edges { node { amount { ... on MoneyEstimate { usd } "
        "low { amount } low { currency } } } } } } }",
        {},
    ),
    # Shapes that once went to the resolvers.
    (
        "{ rounds(last: 3) { edges { cursor node { id } } pageInfo { hasNextPage "
        "hasPreviousPage startCursor endCursor } } }",
        {},
    ),
    (
        "{ rounds(first: 3) { edges { node { claims { quote source { publisher kind } "
        "recordedAt usdRate participation { id investor { name } } } history { at status "
        "source { title publishedAt } } negotiators { person { name roles { title "
        "organization { slug } } } onBehalfOf { name } claim { id } } } } } }",
        {},
    ),
    (
        "{ rounds(first: 3) { edges { node { participations { investor { "
        "... on Organization { city } ... on Person { roles { title } } __typename } } } } } }",
        {},
    ),
    (
        "{ a: rounds { totalCount } b: rounds(orderBy: {field: AMOUNT_USD, direction: ASC}) "
        "{ totalCount edges { node { amount { usd } } } } }",
        {},
    ),
    ('{ organization(slug: "openai") { rounds(first: 2) { edges { cursor } } } }', {}),
    (
        '{ organization(slug: "nvidia") { investments(last: 2) { edges { cursor node { id } } '
        "pageInfo { hasPreviousPage hasNextPage startCursor } } } }",
        {},
    ),
    (
        '{ organizations(filter: {search: "open ai"}) { totalCount edges { cursor node { name } } '
        "pageInfo { hasNextPage endCursor } } }",
        {},
    ),
    ("{ organizations(last: 3) { edges { node { slug rounds { totalCount } } } } }", {}),
]

# Each goes to the resolvers: an argument they refuse (they answer with their error), or
# a shape the compiler leaves to them.
# Arguments the resolvers refuse: answered with the resolvers' errors, in their places.
REFUSED = [
    '{ rounds(filter: {companyId: "org_00000000000000000000000000000000"}) { totalCount } }',
    "{ rounds(first: 101) { totalCount }}",
    '{ organization(slug: "openai") { rounds(first: 2, after: "abc") { edges { cursor } } } }',
    '{ organization(slug: "openai", id: "org_00000000000000000000000000000000") { name } }',
    '{ node(id: "nope") { id } }',
    "{ roundStats(groupBy: [ROUND_TYPE, ROUND_TYPE]) { count } }",
    '{ roundStats(groupBy: [PERIOD], period: MONTH, filter: {announcedFrom: "1000-01-01"})'
    " { count } }",
    '{ a: organization(slug: "openai") { name } b: organization(slug: "x", id: "y") { name }'
    " c: rounds(first: 101) { totalCount } }",
    '{ organizations(first: 3) { edges { node { slug coInvestors(first: 2, before: "x")'
    " { totalCount } } } } }",
]


# Each goes to the resolvers, which answer the null the executor would not take.
NULL_WHERE_NEEDED: list[tuple[str, dict[str, Any]]] = [
    (
        "query ($b: Boolean) { rounds(first: 2) { edges { node { id stage @include(if: $b) } } } }",
        {"b": None},
    ),
    (
        "query ($f: RoundOrderField = AMOUNT_USD) { rounds(first: 2, "
        "orderBy: {field: $f, direction: DESC}) { totalCount } }",
        {"f": None},
    ),
]


@pytest.fixture(scope="module", autouse=True)
async def data(pool: Pool) -> None:
    async with pool.acquire() as conn:
        await seed(conn)
    await pool.execute(
        """
        with companies as (
            insert into organizations (slug, name, city, founded_on, founded_precision,
                                       categories)
            select 'company-' || i, 'Company ' || i, 'Paris',
                   (array[null, '2011-01-01', '2012-04-01', '2013-03-01'])[1 + i % 4]::date,
                   (array[null, 'YEAR', 'QUARTER', 'MONTH'])[1 + i % 4]::date_precision,
                   case when i % 2 = 1 then array['fintech', 'ai'] else '{}' end
            from generate_series(1, 12) as i
            returning id
        ), new_rounds as (
            insert into rounds (company_id, round_type, status, stage, announced_on,
                                announced_precision, amount)
            select c.id, 'SERIES_A', (array['REPORTED','CONFIRMED']::deal_status[])[1 + j % 2],
                   (array['ANNOUNCED','CLOSED']::deal_stage[])[1 + j % 2],
                   case when j = 3 then null else date '2021-03-01' + j * 11 end,
                   case when j = 3 then null else 'DAY'::date_precision end,
                   case when j = 2 then null else
                   row('RANGE', 'EUR', 1000.5 * j, 2000.25 * j, 1500 * j)::money_estimate_fields
                   end
            from companies c, generate_series(1, 4) as j
            returning id
        )
        insert into participations (round_id, investor_organization_id, status, stage, is_lead)
        select r.id, o.id, 'CONFIRMED', 'CLOSED', o.slug = 'nvidia'
        from new_rounds r, organizations o where o.slug in ('nvidia', 'softbank')
        """
    )
    await pool.execute(
        "insert into participations (round_id, investor_person_id, status, stage)"
        " select r.id, p.id, 'REPORTED', 'IN_TALKS' from rounds r, people p"
        " where r.reported_label = 'tour de table' and p.slug = 'sam-altman'"
    )
    await pool.execute(
        "insert into organization_aliases (organization_id, alias)"
        " select id, a from organizations, unnest(array['Zeta One', 'Alpha One']) as a"
        " where slug = 'company-1'"
    )


@pytest.fixture(scope="module")
async def both(db_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    key = bearer(await create_key(db_url))
    fast, slow = create_app(db_url, pool_min_size=1), create_app(db_url, compiled_queries=False)
    async with LifespanManager(fast) as f, LifespanManager(slow) as s:
        clients = [
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=m.app), base_url="http://test", headers=key
            )
            for m in (f, s)
        ]
        async with clients[0] as a, clients[1] as b:
            yield a, b


async def _raw(client: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> Any:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    # Keys in order: a client sees the order, so the two paths must agree on it.
    return json.loads(points_aside(response.content), object_pairs_hook=list)


@pytest.mark.parametrize(("query", "variables"), FAST)
async def test_both_paths_answer_alike(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient],
    pool: Pool,
    query: str,
    variables: dict[str, Any],
) -> None:
    document = parse_document(query)
    operation = select_operation(document, None)
    assert operation is not None
    assert await compiled_answer(pool, document, operation, variables) is not None
    answers = [
        await c.post("/graphql", json={"query": query, "variables": variables}) for c in both
    ]
    # The same bytes: one JSON spelling on both paths (no `"key" : value` from PostgreSQL);
    # but for the points left, which each process tells as far as it knows (the other
    # holds a lease of the key's points: api/guard/leases.py).
    assert points_aside(answers[0].content) == points_aside(answers[1].content)
    assert b'" :' not in answers[0].content


async def test_the_fast_path_walks_pages_like_the_resolvers(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    query = (
        "query ($after: String) { rounds(first: 4, after: $after) { "
        "edges { cursor node { id } } pageInfo { endCursor hasNextPage } } }"
    )
    fast, slow = both
    cursor = None
    pages = 0
    while True:
        answers = [await _raw(c, query, {"after": cursor}) for c in (fast, slow)]
        assert answers[0] == answers[1]
        info = dict(dict(dict(answers[0])["data"])["rounds"])["pageInfo"]
        info = dict(info)
        pages += 1
        if not info["hasNextPage"]:
            break
        cursor = info["endCursor"]
    assert pages == 13  # 50 rounds, four a page


@pytest.mark.parametrize("query", REFUSED)
async def test_refused_arguments_are_answered_with_the_resolvers_errors(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient], pool: Pool, query: str
) -> None:
    document = parse_document(query)
    operation = select_operation(document, None)
    assert operation is not None
    compiled = await compiled_answer(pool, document, operation, {})
    assert compiled is not None
    assert compiled.startswith(b'"errors":')
    answers = [await c.post("/graphql", json={"query": query}) for c in both]
    assert answers[0].status_code == answers[1].status_code == 200
    assert points_aside(answers[0].content) == points_aside(answers[1].content)


async def test_a_cursor_under_an_object_pages_that_object_only(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient], pool: Pool
) -> None:
    fast, _ = both
    first = (
        "{ organizations(first: 6) { edges { node { rounds(first: 1) { pageInfo { endCursor } }"
        " } } } }"
    )
    answer = (await fast.post("/graphql", json={"query": first})).json()
    cursors = [
        e["node"]["rounds"]["pageInfo"]["endCursor"]
        for e in answer["data"]["organizations"]["edges"]
    ]
    cursor = next(c for c in cursors if c is not None)
    # The next page under the organization that made it; an error under the others.
    query = (
        "query ($c: String) { organizations(first: 6) { edges { node { slug"
        " rounds(first: 1, after: $c) { edges { cursor node { id } } pageInfo"
        " { hasPreviousPage startCursor } } } } } }"
    )
    for variables in ({"c": cursor}, {"c": None}):
        answers = [
            await c.post("/graphql", json={"query": query, "variables": variables}) for c in both
        ]
        assert points_aside(answers[0].content) == points_aside(answers[1].content)
    document = parse_document(query)
    operation = select_operation(document, None)
    assert operation is not None
    assert await compiled_answer(pool, document, operation, {"c": cursor}) is not None
    backward = query.replace("first: 1, after", "last: 1, before")
    answers = [
        await c.post("/graphql", json={"query": backward, "variables": {"c": cursor}}) for c in both
    ]
    assert points_aside(answers[0].content) == points_aside(answers[1].content)
    assert b"made for another ordering" in answers[0].content


async def test_a_cursor_of_another_key_type_under_an_object_is_refused_compiled(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient], pool: Pool
) -> None:
    # A page of rounds by amount: its cursor's key is a number, where an organization's
    # rounds are keyed by date. PostgreSQL would refuse the cast before the statement
    # could say the cursor is another list's.
    fast, _ = both
    by_amount = (
        "{ rounds(first: 1, orderBy: {field: AMOUNT_USD, direction: DESC})"
        " { pageInfo { endCursor } } }"
    )
    cursor = (await fast.post("/graphql", json={"query": by_amount})).json()["data"]["rounds"][
        "pageInfo"
    ]["endCursor"]
    query = (
        "query ($c: String) { organizations(first: 2) { edges { node { slug"
        " rounds(first: 1, after: $c) { edges { node { id } } } } } } }"
    )
    document = parse_document(query)
    operation = select_operation(document, None)
    assert operation is not None
    assert await compiled_answer(pool, document, operation, {"c": cursor}) is not None
    answers = [
        await c.post("/graphql", json={"query": query, "variables": {"c": cursor}}) for c in both
    ]
    assert points_aside(answers[0].content) == points_aside(answers[1].content)
    assert b"made for another ordering" in answers[0].content


@pytest.mark.parametrize(("query", "variables"), NULL_WHERE_NEEDED)
async def test_other_queries_go_to_the_resolvers(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient],
    pool: Pool,
    query: str,
    variables: dict[str, Any],
) -> None:
    document = parse_document(query)
    operation = select_operation(document, None)
    assert operation is not None
    assert await compiled_answer(pool, document, operation, variables) is None
    fast, slow = both
    answers = [
        await c.post("/graphql", json={"query": query, "variables": variables})
        for c in (fast, slow)
    ]
    assert answers[0].status_code == answers[1].status_code < 500
    assert points_aside(answers[0].content) == points_aside(answers[1].content)


async def test_a_kept_plan_answers_each_time_as_the_database_is_then(pool: Pool) -> None:
    # Kept plans (schema/fastpath.py): the same document asked again answers from the
    # rows as they are now, with its variables of this time.
    query = "query ($s: [DealStatus!]) { rounds(first: 100, filter: {status: $s}) { totalCount } }"
    document = parse_document(query)
    operation = select_operation(document, None)
    assert operation is not None

    async def total(statuses: list[str]) -> int:
        body = await compiled_answer(pool, document, operation, {"s": statuses})
        assert body is not None
        count: int = json.loads(b"{" + body + b"}")["data"]["rounds"]["totalCount"]
        return count

    reported, confirmed = await total(["REPORTED"]), await total(["CONFIRMED"])
    assert await total(["REPORTED"]) == reported
    assert await total(["REPORTED", "CONFIRMED"]) == reported + confirmed
    company = await pool.fetchval(
        "insert into organizations (slug, name) values ('kept-plan-co', 'Kept Plan Co')"
        " returning id"
    )
    await pool.execute(
        "insert into rounds (company_id, round_type, status, stage)"
        " values ($1, 'SEED', 'REPORTED', 'ANNOUNCED')",
        company,
    )
    assert await total(["REPORTED"]) == reported + 1


async def test_a_plan_that_read_the_database_is_made_again(pool: Pool) -> None:
    # A filter by company looks the company up while planning: a company that did not
    # exist is refused, and once it exists the same document with the same variables
    # answers.
    query = "query ($c: ID!) { rounds(filter: {companyId: $c}) { totalCount } }"
    document = parse_document(query)
    operation = select_operation(document, None)
    assert operation is not None
    company = "00000000-0000-4000-8000-00000000c0de"
    variables = {"c": f"org_{company.replace('-', '')}"}
    refused = await compiled_answer(pool, document, operation, variables)
    assert refused is not None
    assert b"NOT_FOUND" in refused
    await pool.execute(
        "insert into organizations (id, slug, name) values ($1, 'made-later', 'Made Later')",
        company,
    )
    answered = await compiled_answer(pool, document, operation, variables)
    assert answered == b'"data":{"rounds":{"totalCount":0}}'

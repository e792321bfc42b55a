"""Depth, alias, token and cost limits, each refused with its own code."""

import httpx
import pytest
from graphql import get_introspection_query

from db.infra.ids import Kind, encode_id
from db.infra.types import Pool
from schema.limits import (
    ALL_ROUNDS,
    AS_OF_FACTOR,
    MAX_ALIASES,
    MAX_COST,
    MAX_DEPTH,
    MAX_TOKENS,
    ONE_PARTYS_ROUNDS,
    ROWS_PER_POINT,
)
from tests.graphql import error_codes, graphql


def _nested(depth: int) -> tuple[str, int]:
    # organization > investments > edges > node > round > company > investments > ...
    inner = "id"
    levels = 0
    while levels + 4 < depth:
        inner = (
            f"investments(first: 1) {{ edges {{ node {{ round {{ company {{ {inner} }} }} }} }} }}"
        )
        levels += 5
    return f'{{ organization(slug: "amazon") {{ {inner} }} }}', levels + 2


async def test_too_deep(client: httpx.AsyncClient) -> None:
    query, depth = _nested(MAX_DEPTH + 5)
    assert depth > MAX_DEPTH
    answer = await graphql(client, query)
    assert error_codes(answer) == ["QUERY_TOO_DEEP"]
    assert f"at most {MAX_DEPTH}" in answer["errors"][0]["message"]


async def test_too_many_aliases(client: httpx.AsyncClient) -> None:
    fields = " ".join(f"a{i}: __typename" for i in range(MAX_ALIASES + 1))
    answer = await graphql(client, f"{{ {fields} }}")
    assert error_codes(answer) == ["TOO_MANY_ALIASES"]


async def test_only_a_connections_edges_may_be_called_edges(client: httpx.AsyncClient) -> None:
    # Objects under `edges` are counted as their nodes when an answer is priced by its size:
    # a list of rounds aliased so would have half its objects go unpaid.
    sneaky = """{ rounds(first: 2) {
        edges { node { edges: participations { investor { name } } } } } }"""
    answer = await graphql(client, sneaky)
    assert error_codes(answer) == ["RESERVED_ALIAS"]
    assert "field participations (2:24)" in answer["errors"][0]["message"]
    assert "data" not in answer

    honest = await graphql(client, "{ rounds(first: 2) { edges: edges { node { id } } } }")
    assert "errors" not in honest
    assert honest["data"]["rounds"]["edges"] == []


async def test_too_many_tokens(client: httpx.AsyncClient) -> None:
    fields = " ".join("__typename" for _ in range(MAX_TOKENS + 1))
    answer = await graphql(client, f"{{ {fields} }}")
    assert error_codes(answer) == ["TOO_MANY_TOKENS"]


async def test_connections_multiply_cost(client: httpx.AsyncClient) -> None:
    query = """
      query ($n: Int) { rounds(first: $n) { edges { node {
        company { rounds(first: 100) { edges { node { participations { investor { name } } } } } }
      } } } }
    """
    answer = await graphql(client, query, {"n": 100})
    assert error_codes(answer) == ["QUERY_TOO_COSTLY"]
    assert f"limit of {MAX_COST}" in answer["errors"][0]["message"]
    cheap = await graphql(client, query, {"n": 1})
    assert "errors" not in cheap
    # rounds: 1 + 1 × [the round 1 + its company 1 + company.rounds (1 + 100 ×
    # (the round 1 + 5 participations × (1 + its investor 1)))]
    expected = 1 + 1 * (1 + 1 + (1 + 100 * (1 + 5 * (1 + 1))))
    cost = cheap["extensions"]["cost"]
    assert (cost["requested"], cost["limit"], cost["charged"]) == (expected, MAX_COST, expected)


async def test_every_answer_reports_its_cost(client: httpx.AsyncClient) -> None:
    answer = await graphql(client, "{ rounds(first: 10) { totalCount edges { node { id } } } }")
    # The connection, ten rounds, and the count (summed from the kept counts).
    assert answer["extensions"]["cost"]["requested"] == 1 + 10 + 1


@pytest.mark.parametrize("fragment", [True, False])
async def test_fragments_are_priced_like_inline_fields(
    client: httpx.AsyncClient, fragment: bool
) -> None:
    body = "company { name } participations { isLead }"
    if fragment:
        query = (
            "{ rounds(first: 7) { edges { node { ...R } } } }"
            f" fragment R on Round {{ {body} }}"
        )
    else:
        query = f"{{ rounds(first: 7) {{ edges {{ node {{ {body} }} }} }} }}"
    answer = await graphql(client, query)
    # The connection, and seven rounds each with its company and five participations.
    assert answer["extensions"]["cost"]["requested"] == 1 + 7 * (1 + 1 + 5)


def _objects(value: object) -> int:
    if isinstance(value, dict):
        return 1 + sum(_objects(v) for v in value.values())
    if isinstance(value, list):
        return sum(_objects(v) for v in value)
    return 0


async def test_graphiql_introspection_passes_priced_by_what_it_returns(
    client: httpx.AsyncClient,
) -> None:
    answer = await graphql(client, get_introspection_query(descriptions=True))
    assert "errors" not in answer
    assert answer["data"]["__schema"]["queryType"]["name"] == "Query"
    # Every object of the answer but the `data` object itself. (Was 1, whatever asked.)
    assert answer["extensions"]["cost"]["requested"] == _objects(answer["data"]) - 1 > 500


async def test_introspection_is_walked_like_any_selection(client: httpx.AsyncClient) -> None:
    # Issue 14, item 1: 30 aliased __schema queries (2 MB, 0.4-0.9 s of the event loop)
    # were priced 1 point; 100 aliases inside __schema passed although the limit is 30.
    whole = " ".join(f"a{i}: __schema {{ types {{ name fields {{ name }} }} }}" for i in range(30))
    assert error_codes(await graphql(client, f"{{ {whole} }}")) == ["QUERY_TOO_COSTLY"]
    inside = " ".join(f"a{i}: types {{ name }}" for i in range(100))
    assert error_codes(await graphql(client, f"{{ __schema {{ {inside} }} }}")) == [
        "TOO_MANY_ALIASES"
    ]
    deep = "name"
    for _ in range(7):
        deep = f"fields {{ type {{ {deep} }} }}"
    answer = await graphql(client, f"{{ __schema {{ types {{ {deep} }} }} }}")
    assert error_codes(answer) == ["QUERY_TOO_DEEP"]
    one = await graphql(client, '{ __type(name: "Round") { fields { name } } }')
    assert one["extensions"]["cost"]["requested"] == 1 + len(one["data"]["__type"]["fields"])


@pytest.mark.parametrize(
    ("declared", "variables"),
    [
        ("$n: Int = 100", {}),  # the variable's default
        ("$n: Int", {"n": 100.0}),  # a float GraphQL coerces to the Int 100
        ("$n: Int = 1", {"n": 100.0}),
    ],
)
async def test_page_sizes_are_priced_as_they_run(
    client: httpx.AsyncClient, declared: str, variables: dict[str, object]
) -> None:
    # Issue 14, item 3: both ran 100 rounds a page and were priced as the default 20.
    query = f"query({declared}) {{ rounds(first: $n) {{ edges {{ node {{ id }} }} }} }}"
    answer = await graphql(client, query, variables)
    assert "errors" not in answer, answer
    assert answer["extensions"]["cost"]["requested"] == 1 + 100 * 1


async def test_round_stats_is_priced_by_the_rows_it_reads(
    client: httpx.AsyncClient, pool: Pool
) -> None:
    company = encode_id(
        Kind.ORGANIZATION,
        await pool.fetchval(
            "insert into organizations (slug, name) values ('c', 'C') returning id"
        ),
    )
    query = """
      query ($filter: RoundFilter, $asOf: DateTime, $groupBy: [RoundDimension!]!) {
        roundStats(filter: $filter, groupBy: $groupBy, asOf: $asOf) { BUCKET } }
    """

    async def cost(bucket: str, **variables: object) -> int:
        answer = await graphql(
            client, query.replace("BUCKET", bucket), {"groupBy": ["ROUND_TYPE"], **variables}
        )
        assert "errors" not in answer, answer
        charged: int = answer["extensions"]["cost"]["charged"]
        return charged

    everything = await cost("count")
    # Every round read, whatever the buckets: not a price of five buckets.
    assert everything == ALL_ROUNDS // ROWS_PER_POINT
    # What is selected under a bucket is added once, not per bucket.
    assert await cost("count key { investor { name } }") == everything + 2
    narrow = await cost("count", filter={"companyId": company})
    assert narrow == ONE_PARTYS_ROUNDS // ROWS_PER_POINT
    assert await cost("count", asOf="2026-01-01T00:00:00Z") == everything * AS_OF_FACTOR

"""roundStats (GraphQL) and GET /v1/stats/rounds (REST) against GROUP BY written by hand,
over the whole CrunchBase 2013 set (31,616 rounds; its import takes about 80 s), for
every dimension: counts, disclosed counts, sums, medians and quartiles, minimums and
maximums agree, bucket for bucket.
"""

from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from db.imports.crunchbase import import_crunchbase
from db.infra.ids import Kind, encode_id
from db.infra.types import Pool
from tests.graphql import graphql_data

SHARED_SET = Path(__file__).parents[3] / "shared" / "data" / "crunchbase-2013"

QUERY = """
query ($groupBy: [RoundDimension!]!, $period: Period, $filter: RoundFilter) {
  roundStats(groupBy: $groupBy, period: $period, filter: $filter) {
    key { period { date } roundType status stage countryCode investor { id } }
    count disclosedCount amountUsd { sum median p25 p75 min max }
  }
}
"""

# The reference: the aggregates as anyone would write them, over the key `{key}`.
REFERENCE = """
    select {key} as key, count(*) as count, count(r.amount_usd) as disclosed,
           coalesce(sum(r.amount_usd), 0) as sum,
           percentile_cont(0.5) within group (order by r.amount_usd) as median,
           percentile_cont(0.25) within group (order by r.amount_usd) as p25,
           percentile_cont(0.75) within group (order by r.amount_usd) as p75,
           min(r.amount_usd) as min, max(r.amount_usd) as max
    from rounds r {join}
    where {where}
    group by 1
"""

Figures = tuple[Any, ...]


@pytest.fixture(scope="module", autouse=True)
async def shared_set(pool: Pool) -> None:
    if not SHARED_SET.is_dir():
        pytest.skip(f"the shared CrunchBase set is not at {SHARED_SET}")
    async with pool.acquire() as conn:
        await import_crunchbase(conn, SHARED_SET)


def _number(value: Any) -> Decimal | None:
    """A figure of either side as an exact decimal: the reference's percentiles are
    doubles, whose shortest text is what roundStats gives."""
    return None if value is None else Decimal(repr(value) if isinstance(value, float) else value)


async def _reference(
    pool: Pool, key: str, *, join: str = "", where: str = "true"
) -> dict[Any, Figures]:
    records = await pool.fetch(REFERENCE.format(key=key, join=join, where=where))
    return {
        r["key"]: (
            r["count"],
            r["disclosed"],
            *(_number(r[name]) for name in ("sum", "median", "p25", "p75", "min", "max")),
        )
        for r in records
    }


def _graphql_figures(bucket: dict[str, Any]) -> Figures:
    a = bucket["amountUsd"]
    return (
        bucket["count"],
        bucket["disclosedCount"],
        *(_number(a[name]) for name in ("sum", "median", "p25", "p75", "min", "max")),
    )


def _rest_figures(bucket: dict[str, Any]) -> Figures:
    a = bucket["amount_usd"]
    return (
        bucket["count"],
        bucket["disclosed_count"],
        *(_number(a[name]) for name in ("sum", "median", "p25", "p75", "min", "max")),
    )


async def _both_faces(
    client: httpx.AsyncClient,
    dimension: str,
    rest_word: str,
    key_of: tuple[Any, Any],
    graphql_filter: dict[str, Any] | None = None,
    rest_filter: str = "",
) -> tuple[dict[Any, Figures], dict[Any, Figures]]:
    """Each face's non-empty buckets, by key."""
    data = await graphql_data(
        client, QUERY, {"groupBy": [dimension], "filter": graphql_filter or {}}
    )
    response = await client.get(f"/v1/stats/rounds?group_by={rest_word}{rest_filter}")
    assert response.status_code == 200, response.text
    graphql_key, rest_key = key_of
    over_graphql = {
        graphql_key(b["key"]): _graphql_figures(b) for b in data["roundStats"] if b["count"]
    }
    over_rest = {
        rest_key(b["key"]): _rest_figures(b) for b in response.json()["data"] if b["count"]
    }
    return over_graphql, over_rest


def _date(period: dict[str, Any] | None) -> str | None:
    return None if period is None else str(period["date"])


@pytest.mark.parametrize(
    ("dimension", "rest_word", "reference_key", "graphql_key", "rest_key"),
    [
        (
            "PERIOD",
            "quarter",
            "date_trunc('quarter', r.announced_on)::date::text",
            lambda k: _date(k["period"]),
            lambda k: _date(k["period"]),
        ),
        (
            "ROUND_TYPE",
            "round_type",
            "r.round_type::text",
            lambda k: k["roundType"],
            lambda k: k["round_type"],
        ),
        ("STATUS", "status", "r.status::text", lambda k: k["status"], lambda k: k["status"]),
        ("STAGE", "stage", "r.stage::text", lambda k: k["stage"], lambda k: k["stage"]),
    ],
)
async def test_every_round_by_dimension(
    client: httpx.AsyncClient,
    pool: Pool,
    dimension: str,
    rest_word: str,
    reference_key: str,
    graphql_key: Any,
    rest_key: Any,
) -> None:
    reference = await _reference(pool, reference_key)
    over_graphql, over_rest = await _both_faces(
        client, dimension, rest_word, (graphql_key, rest_key)
    )
    assert over_graphql == reference
    assert over_rest == reference
    assert sum(figures[0] for figures in reference.values()) == 31_616


async def test_country_of_the_company(client: httpx.AsyncClient, pool: Pool) -> None:
    # The October export is of US companies; the demo-set slugs it shares have none.
    reference = await _reference(
        pool, "o.country_code", join="join organizations o on o.id = r.company_id"
    )
    over_graphql, over_rest = await _both_faces(
        client, "COUNTRY", "country", (lambda k: k["countryCode"], lambda k: k["country_code"])
    )
    assert over_graphql == over_rest == reference


async def test_investor_within_a_filter(client: httpx.AsyncClient, pool: Pool) -> None:
    # Every investor of the set would make 10,286 buckets, over the limit of an answer.
    where = "r.announced_on >= '2012-01-01' and r.round_type in ('SERIES_A', 'SERIES_B')"
    records = await _reference(
        pool,
        "coalesce(p.investor_organization_id, p.investor_person_id)",
        join="left join participations p on p.round_id = r.id",
        where=where,
    )
    reference = {
        None if key is None else encode_id(Kind.ORGANIZATION, key): figures
        for key, figures in records.items()
    }
    over_graphql, over_rest = await _both_faces(
        client,
        "INVESTOR",
        "investor",
        (
            lambda k: k["investor"] and k["investor"]["id"],
            lambda k: k["investor"] and k["investor"]["id"],
        ),
        {"announcedFrom": "2012-01-01", "roundType": ["SERIES_A", "SERIES_B"]},
        "&announced_from=2012-01-01&round_type=SERIES_A,SERIES_B",
    )
    assert len(reference) > 1_000
    assert over_graphql == over_rest == reference


async def test_quarters_by_type_under_a_filter_with_every_quarter_present(
    client: httpx.AsyncClient, pool: Pool
) -> None:
    reference = await _reference(
        pool,
        "date_trunc('quarter', r.announced_on)::date::text || ' ' || r.round_type::text",
        where="r.amount_usd >= 1000000 and r.announced_on between '2005-01-01' and '2012-12-31'",
    )
    data = await graphql_data(
        client,
        QUERY,
        {
            "groupBy": ["PERIOD", "ROUND_TYPE"],
            "filter": {
                "minAmountUsd": "1000000",
                "announcedFrom": "2005-01-01",
                "announcedTo": "2012-12-31",
            },
        },
    )
    buckets = data["roundStats"]
    keyed = {f"{b['key']['period']['date']} {b['key']['roundType']}": b for b in buckets}
    assert len(keyed) == len(buckets)
    assert {k: _graphql_figures(b) for k, b in keyed.items() if b["count"]} == reference
    # 32 quarters, each with a bucket for every type that has rounds in the range.
    types = {b["key"]["roundType"] for b in buckets}
    assert len(buckets) == 32 * len(types)
    assert [b["key"]["period"]["date"] for b in buckets[:: len(types)]][:5] == [
        "2005-01-01",
        "2005-04-01",
        "2005-07-01",
        "2005-10-01",
        "2006-01-01",
    ]
    response = await client.get(
        "/v1/stats/rounds?group_by=quarter,round_type&min_amount_usd=1000000"
        "&announced_from=2005-01-01&announced_to=2012-12-31"
    )
    assert [_rest_figures(b) for b in response.json()["data"]] == [
        _graphql_figures(b) for b in buckets
    ]

"""roundStats as of a time equals the same figures computed over rounds(asOf:) at that
time, on both faces; and later writes (a new round, a confirmation, a new amount) show in
the present but not in the past."""

import statistics
from collections import defaultdict
from decimal import Decimal
from typing import Any

import httpx
import pytest

from db.infra.types import Pool
from db.seed import seed
from tests.graphql import graphql_data

STATS = """
query ($groupBy: [RoundDimension!]!, $asOf: DateTime, $filter: RoundFilter) {
  roundStats(groupBy: $groupBy, asOf: $asOf, filter: $filter) {
    key { roundType status period { date } }
    count disclosedCount amountUsd { sum median min max }
    boundedCount { upTo atLeast range about }
  }
}
"""
ROUNDS = """
query ($asOf: DateTime, $after: String, $filter: RoundFilter) {
  rounds(asOf: $asOf, first: 100, after: $after, filter: $filter) {
    edges { node { roundType status announced { date } amount { qualifier usd } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
PRESS = {
    "publisher": "Le Monde",
    "kind": "PRESS_ON_RECORD",
    "published_at": "2026-03-02T08:00:00Z",
}
COMPANY = {
    "publisher": "OpenAI",
    "kind": "COMPANY_STATEMENT",
    "published_at": "2026-03-03T08:00:00Z",
}


def _money(qualifier: str, low: int | None, high: int | None) -> dict[str, Any]:
    def usd(amount: int | None) -> dict[str, str] | None:
        return None if amount is None else {"amount": str(amount), "currency": "USD"}

    return {"qualifier": qualifier, "low": usd(low), "high": usd(high)}


@pytest.fixture(scope="module")
async def moments(pool: Pool, client: httpx.AsyncClient) -> tuple[str, str]:
    """Two times: after the demo set, and after the writes below."""
    async with pool.acquire() as conn:
        await seed(conn)
    then = (await pool.fetchval("select now()")).isoformat()
    for company, round_type, money in (
        ("Mistral AI", "SERIES_B", _money("RANGE", 400_000_000, 600_000_000)),
        ("Helsing", "SERIES_C", _money("AT_LEAST", 450_000_000, None)),
        ("Pennylane", "SERIES_B", None),
    ):
        answer = await client.post(
            "/v1/reports",
            json={
                "company": {"name": company},
                "round_type": round_type,
                "stage": "ANNOUNCED",
                "announced_on": "2026-03-01",
                "source": PRESS,
                **({} if money is None else {"amount": money}),
            },
        )
        assert answer.status_code == 201, answer.text
    # OpenAI's round, reported until now.
    openai = await graphql_data(
        client,
        '{ organization(slug: "openai") { rounds(first: 1) { edges { node { id status } } } } }',
    )
    [edge] = openai["organization"]["rounds"]["edges"]
    assert edge["node"]["status"] == "REPORTED"
    confirmed = await client.post(
        f"/v1/rounds/{edge['node']['id']}/confirmations", json={"source": COMPANY}
    )
    assert confirmed.json()["status"] == "CONFIRMED", confirmed.text
    now = (await pool.fetchval("select now()")).isoformat()
    return then, now


async def _listed(
    client: httpx.AsyncClient, as_of: str, flt: dict[str, Any]
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after = None
    while True:
        data = await graphql_data(client, ROUNDS, {"asOf": as_of, "after": after, "filter": flt})
        found += [e["node"] for e in data["rounds"]["edges"]]
        if not data["rounds"]["pageInfo"]["hasNextPage"]:
            return found
        after = data["rounds"]["pageInfo"]["endCursor"]


def _by_hand(rounds: list[dict[str, Any]], key: str) -> dict[Any, tuple[Any, ...]]:
    """count, disclosed, sum, median, min, max and the qualifiers, from the list."""
    groups: defaultdict[Any, list[dict[str, Any]]] = defaultdict(list)
    for r in rounds:
        groups[r[key]].append(r)
    figures = {}
    for value, members in groups.items():
        amounts = [r["amount"] for r in members if r["amount"] and r["amount"]["usd"]]
        usd = sorted(Decimal(a["usd"]) for a in amounts)
        qualifiers = [a["qualifier"] for a in amounts]
        figures[value] = (
            len(members),
            len(usd),
            sum(usd, Decimal(0)),
            statistics.median(usd) if usd else None,
            min(usd, default=None),
            max(usd, default=None),
            tuple(qualifiers.count(q) for q in ("UP_TO", "AT_LEAST", "RANGE", "ABOUT")),
        )
    return figures


def _from_stats(buckets: list[dict[str, Any]], key: str) -> dict[Any, tuple[Any, ...]]:
    def number(value: str | None) -> Decimal | None:
        return None if value is None else Decimal(value)

    return {
        b["key"][key]: (
            b["count"],
            b["disclosedCount"],
            Decimal(b["amountUsd"]["sum"]),
            number(b["amountUsd"]["median"]),
            number(b["amountUsd"]["min"]),
            number(b["amountUsd"]["max"]),
            tuple(b["boundedCount"][q] for q in ("upTo", "atLeast", "range", "about")),
        )
        for b in buckets
    }


@pytest.mark.parametrize("key", ["roundType", "status"])
@pytest.mark.parametrize("flt", [{}, {"status": ["REPORTED"]}, {"minAmountUsd": "1000000000"}])
async def test_as_of_stats_are_the_stats_of_the_as_of_rounds(
    client: httpx.AsyncClient, moments: tuple[str, str], key: str, flt: dict[str, Any]
) -> None:
    dimension = {"roundType": "ROUND_TYPE", "status": "STATUS"}[key]
    for moment in moments:
        data = await graphql_data(
            client, STATS, {"groupBy": [dimension], "asOf": moment, "filter": flt}
        )
        listed = await _listed(client, moment, flt)
        assert _from_stats(data["roundStats"], key) == _by_hand(listed, key)


async def test_the_past_does_not_see_later_writes(
    client: httpx.AsyncClient, moments: tuple[str, str]
) -> None:
    then, now = moments

    async def by_type(as_of: str | None) -> dict[Any, tuple[Any, ...]]:
        data = await graphql_data(client, STATS, {"groupBy": ["ROUND_TYPE"], "asOf": as_of})
        return _from_stats(data["roundStats"], "roundType")

    past, present = await by_type(then), await by_type(None)
    assert await by_type(now) == present
    assert "SERIES_B" not in past
    assert "SERIES_C" not in past
    # Two SERIES_B rounds, one a range entered as its middle, one undisclosed.
    assert present["SERIES_B"] == (
        2,
        1,
        Decimal(500_000_000),
        Decimal(500_000_000),
        Decimal(500_000_000),
        Decimal(500_000_000),
        (0, 0, 1, 0),
    )
    # A lower bound, entered as itself.
    assert present["SERIES_C"][2] == Decimal(450_000_000)
    assert present["SERIES_C"][6] == (0, 1, 0, 0)
    statuses = await graphql_data(client, STATS, {"groupBy": ["STATUS"], "asOf": then})
    confirmed_then = _from_stats(statuses["roundStats"], "status").get("CONFIRMED", (0,))[0]
    statuses = await graphql_data(client, STATS, {"groupBy": ["STATUS"]})
    assert _from_stats(statuses["roundStats"], "status")["CONFIRMED"][0] == confirmed_then + 1


async def test_rest_as_of_is_the_graphql_answer(
    client: httpx.AsyncClient, moments: tuple[str, str]
) -> None:
    then, _ = moments
    data = await graphql_data(client, STATS, {"groupBy": ["PERIOD", "STATUS"], "asOf": then})
    response = await client.get(
        "/v1/stats/rounds", params={"group_by": "quarter,status", "as_of": then}
    )
    assert response.status_code == 200, response.text

    def figures(key: dict[str, Any], count: int, amount: dict[str, Any]) -> tuple[Any, ...]:
        return (key["period"] and key["period"]["date"], key["status"], count, amount["sum"])

    rest = [figures(b["key"], b["count"], b["amount_usd"]) for b in response.json()["data"]]
    assert rest == [figures(b["key"], b["count"], b["amountUsd"]) for b in data["roundStats"]]
    assert sum(count for _, _, count, _ in rest) > 0

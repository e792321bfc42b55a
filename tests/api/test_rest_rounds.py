"""GET /v1/rounds and /v1/rounds/{id}: filters, sorting, paging, errors, caching."""

from typing import Any

import httpx
import pytest

from db.infra.ids import Kind, encode_id
from db.infra.types import Pool
from db.seed import ANTHROPIC_ROUND, OPENAI_ROUND, seed
from tests.graphql import graphql_data


@pytest.fixture(scope="module", autouse=True)
async def data(pool: Pool) -> None:
    async with pool.acquire() as conn:
        await seed(conn)
    await pool.execute(
        """
        with company as (
            insert into organizations (slug, name) values ('restco', 'Rest Co') returning id
        )
        insert into rounds (company_id, round_type, status, stage, announced_on,
                            announced_precision, amount)
        select company.id, (array['SEED', 'SERIES_A']::round_type[])[1 + i % 2],
               'CONFIRMED', 'CLOSED', date '2019-01-01' + i * 3, 'DAY',
               case when i % 4 = 0 then null
                    else row('EXACT', 'USD', i * 1000, i * 1000, i * 1000)::money_estimate_fields
               end
        from company, generate_series(1, 45) as i
        """
    )


async def _get(client: httpx.AsyncClient, url: str, **params: Any) -> httpx.Response:
    return await client.get(url, params=params)


async def test_walk_matches_graphql_total_count(client: httpx.AsyncClient) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 7, **({"cursor": cursor} if cursor else {})}
        body = (await _get(client, "/v1/rounds", **params)).json()
        seen += [r["id"] for r in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    total = (await graphql_data(client, "{ rounds { totalCount } }"))["rounds"]["totalCount"]
    assert len(seen) == len(set(seen)) == total == 47


async def test_the_openai_round_as_a_partner_sees_it(client: httpx.AsyncClient) -> None:
    response = await _get(client, f"/v1/rounds/{encode_id(Kind.ROUND, OPENAI_ROUND)}")
    assert response.status_code == 200
    body = response.json()
    assert body["company"]["slug"] == "openai"
    assert (body["status"], body["stage"]) == ("REPORTED", "IN_TALKS")
    assert body["amount"] == {
        "qualifier": "UP_TO",
        "currency": "USD",
        "low": None,
        "high": "100000000000",
        "usd": "100000000000",
    }
    assert body["expected_close"]["text"] == "2026-Q1"
    amazon = next(p for p in body["participations"] if p["investor"]["slug"] == "amazon")
    assert amazon["investor"]["kind"] == "organization"
    assert amazon["amount"]["high"] == "50000000000"
    assert {n["person"]["name"] for n in body["negotiators"]} == {"Andy Jassy", "Sam Altman"}
    assert any("jusqu’à 100 milliards" in (c["quote"] or "") for c in body["claims"])
    assert body["history"][0]["source"]["language"] == "fr"


async def test_ids_are_the_graphql_ids(client: httpx.AsyncClient) -> None:
    rest = (await _get(client, f"/v1/rounds/{encode_id(Kind.ROUND, ANTHROPIC_ROUND)}")).json()
    data = await graphql_data(
        client, "query ($id: ID!) { round(id: $id) { id company { id } } }", {"id": rest["id"]}
    )
    assert data["round"] == {"id": rest["id"], "company": {"id": rest["company"]["id"]}}


async def test_filters_match_graphql(client: httpx.AsyncClient) -> None:
    rest = (
        await _get(
            client,
            "/v1/rounds",
            round_type="SERIES_A",
            min_amount_usd="20000",
            announced_from="2019-02-01",
            limit=100,
        )
    ).json()
    gql = await graphql_data(
        client,
        """{ rounds(first: 100, filter: {roundType: [SERIES_A], minAmountUsd: "20000",
             announcedFrom: "2019-02-01"}) { edges { node { id } } } }""",
    )
    assert [r["id"] for r in rest["data"]] == [e["node"]["id"] for e in gql["rounds"]["edges"]]
    assert rest["data"]
    assert all(
        r["round_type"] == "SERIES_A" and int(r["amount"]["usd"]) >= 20000 for r in rest["data"]
    )


async def test_company_and_investor_filters_take_slugs(client: httpx.AsyncClient) -> None:
    by_company = (await _get(client, "/v1/rounds", company="anthropic")).json()
    assert [r["company"]["slug"] for r in by_company["data"]] == ["anthropic"]
    by_investor = (await _get(client, "/v1/rounds", investor="amazon")).json()
    assert {r["company"]["slug"] for r in by_investor["data"]} == {"openai", "anthropic"}


@pytest.mark.parametrize("sort", ["amount_usd", "-amount_usd", "announced_on", "-announced_on"])
async def test_sorting_puts_nulls_last(client: httpx.AsyncClient, sort: str) -> None:
    body = (await _get(client, "/v1/rounds", sort=sort, limit=100)).json()
    field = sort.lstrip("-")
    keys = [
        (int(r["amount"]["usd"]) if r["amount"] else None)
        if field == "amount_usd"
        else r["announced_on"]
        for r in body["data"]
    ]
    present = [k for k in keys if k is not None]
    assert present == sorted(present, reverse=sort.startswith("-"))
    assert all(k is None for k in keys[len(present) :])


@pytest.mark.parametrize(
    ("params", "parameter", "needle"),
    [
        ({"status": "RUMOURED"}, "status", "'RUMOURED' is not one of"),
        ({"stage": "IN_TALKS,done"}, "stage", "'done' is not one of"),
        ({"limit": "0"}, "limit", "from 1 to 100"),
        ({"limit": "101"}, "limit", "from 1 to 100"),
        ({"limit": "ten"}, "limit", "from 1 to 100"),
        ({"limit": "²"}, "limit", "from 1 to 100"),
        ({"sort": "name"}, "sort", "'name' is not one of"),
        ({"announced_from": "2020-13-01"}, "announced_from", "is not a date"),
        ({"min_amount_usd": "NaN"}, "min_amount_usd", "not a non-negative decimal"),
        ({"min_amount_usd": "-5"}, "min_amount_usd", "not a non-negative decimal"),
        ({"company": "no-such-co"}, "company", "no organization has the id or slug"),
        ({"investor": "rnd_" + "0" * 32}, "investor", "no investor"),
        ({"cursor": "xyz"}, "cursor", "not a valid cursor"),
        ({"colour": "red"}, "colour", "unknown query parameter"),
    ],
)
async def test_bad_parameters_are_400_problems(
    client: httpx.AsyncClient, params: dict[str, str], parameter: str, needle: str
) -> None:
    response = await _get(client, "/v1/rounds", **params)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["parameter"] == parameter
    assert needle in problem["detail"]
    assert problem["status"] == 400


async def test_repeated_parameter_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/rounds?limit=2&limit=3")
    assert response.status_code == 400
    assert "more than once" in response.json()["detail"]


async def test_a_cursor_from_another_sort_is_refused(client: httpx.AsyncClient) -> None:
    cursor = (await _get(client, "/v1/rounds", limit=2)).json()["next_cursor"]
    response = await _get(client, "/v1/rounds", limit=2, cursor=cursor, sort="amount_usd")
    assert response.status_code == 400
    assert "another ordering or filter" in response.json()["detail"]


@pytest.mark.parametrize(
    "round_id", ["rnd_" + "0" * 32, "nonsense", encode_id(Kind.ORGANIZATION, OPENAI_ROUND)]
)
async def test_unknown_round_is_404(client: httpx.AsyncClient, round_id: str) -> None:
    response = await _get(client, f"/v1/rounds/{round_id}")
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"


async def test_etag_and_304(client: httpx.AsyncClient) -> None:
    first = await _get(client, "/v1/rounds", limit=3)
    etag = first.headers["etag"]
    assert etag.startswith('"')  # strong: no W/ prefix
    assert first.headers["cache-control"] == "private, no-cache"
    again = await client.get("/v1/rounds", params={"limit": 3}, headers={"if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other = await client.get("/v1/rounds", params={"limit": 4}, headers={"if-none-match": etag})
    assert other.status_code == 200
    assert other.headers["etag"] != etag


async def test_writes_to_read_routes_are_405(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/rounds", json={})
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"


async def test_unacceptable_accept_is_406(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/rounds", headers={"accept": "text/csv"})
    assert response.status_code == 406

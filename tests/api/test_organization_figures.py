"""Organization.fundingSummary, investmentSummary and coInvestors, and REST's
/v1/organizations/{id_or_slug}/co-investors and /v1/stats/rounds parameters, on a small
set whose figures are counted by hand:

- Rounds of Acme: 2021-03-01 SEED 1,000,000 REPORTED; 2022-06-01 SERIES_A 5,000,000
  CONFIRMED; undated SERIES_B undisclosed DENIED.
- Rounds of Bolt: 2023-01-01 SEED 2,000,000 CONFIRMED.
- Investors: Fund One in Acme's SEED (lead) and SERIES_A and Bolt's SEED; Fund Two in
  Acme's SEED and SERIES_A; Ann Angel (a person) in Acme's SEED and Bolt's SEED; Fund
  Three in Bolt's SEED.

So Fund One shares two rounds with Fund Two, two with Ann Angel, one with Fund Three.
"""

from typing import Any

import httpx
import pytest

from db.infra.types import Pool
from tests.graphql import error_codes, graphql, graphql_data

FIGURES = """
query ($slug: String, $first: Int, $after: String) { organization(slug: $slug) {
  fundingSummary {
    roundsCount disclosedCount totalUsd latestStatus
    firstRound { roundType } lastRound { roundType }
  }
  investmentSummary {
    investmentsCount leadsCount byRoundType { roundType count }
    firstInvestment { round { roundType company { slug } } }
    lastInvestment { round { roundType company { slug } } }
  }
  coInvestors(first: $first, after: $after) {
    totalCount
    edges { sharedRounds cursor node { __typename slug } }
    pageInfo { hasNextPage endCursor }
  }
} }
"""


@pytest.fixture(scope="module", autouse=True)
async def data(pool: Pool) -> None:
    await pool.execute(
        """
        insert into organizations (slug, name) values
            ('acme', 'Acme'), ('bolt', 'Bolt'),
            ('fund-one', 'Fund One'), ('fund-two', 'Fund Two'), ('fund-three', 'Fund Three');
        insert into people (slug, name) values ('ann-angel', 'Ann Angel');
        insert into rounds (id, company_id, round_type, status, stage, announced_on,
                            announced_precision, amount)
        select r.id::uuid, o.id, r.type::round_type, r.status::deal_status, 'CLOSED',
               r.day::date, case when r.day is null then null else 'DAY' end::date_precision,
               case when r.usd is null then null
                    else row('EXACT', 'USD', r.usd, r.usd, r.usd)::money_estimate end
        from (values
            ('00000000-0000-0000-0000-0000000000a1', 'acme', 'SEED', 'REPORTED', '2021-03-01',
             1000000),
            ('00000000-0000-0000-0000-0000000000a2', 'acme', 'SERIES_A', 'CONFIRMED',
             '2022-06-01', 5000000),
            ('00000000-0000-0000-0000-0000000000a3', 'acme', 'SERIES_B', 'DENIED', null, null),
            ('00000000-0000-0000-0000-0000000000b1', 'bolt', 'SEED', 'CONFIRMED', '2023-01-01',
             2000000)
        ) as r (id, company, type, status, day, usd)
        join organizations o on o.slug = r.company;
        insert into participations (round_id, investor_organization_id, investor_person_id,
                                    is_lead, status, stage)
        select i.round::uuid, o.id, p.id, i.lead, 'CONFIRMED', 'CLOSED'
        from (values
            ('00000000-0000-0000-0000-0000000000a1', 'fund-one', true),
            ('00000000-0000-0000-0000-0000000000a2', 'fund-one', false),
            ('00000000-0000-0000-0000-0000000000b1', 'fund-one', false),
            ('00000000-0000-0000-0000-0000000000a1', 'fund-two', false),
            ('00000000-0000-0000-0000-0000000000a2', 'fund-two', false),
            ('00000000-0000-0000-0000-0000000000a1', 'ann-angel', false),
            ('00000000-0000-0000-0000-0000000000b1', 'ann-angel', false),
            ('00000000-0000-0000-0000-0000000000b1', 'fund-three', false)
        ) as i (round, slug, lead)
        left join organizations o on o.slug = i.slug
        left join people p on p.slug = i.slug;
        """
    )


async def _figures(client: httpx.AsyncClient, slug: str, **variables: Any) -> dict[str, Any]:
    data = await graphql_data(client, FIGURES, {"slug": slug, **variables})
    found: dict[str, Any] = data["organization"]
    return found


async def test_funding_summary(client: httpx.AsyncClient) -> None:
    acme = await _figures(client, "acme")
    assert acme["fundingSummary"] == {
        "roundsCount": 3,
        "disclosedCount": 2,
        "totalUsd": "6000000",
        # The last announced round's; the undated one comes after the dated ones.
        "latestStatus": "CONFIRMED",
        "firstRound": {"roundType": "SEED"},
        "lastRound": {"roundType": "SERIES_A"},
    }
    investor = await _figures(client, "fund-three")
    assert investor["fundingSummary"] == {
        "roundsCount": 0,
        "disclosedCount": 0,
        "totalUsd": "0",
        "latestStatus": None,
        "firstRound": None,
        "lastRound": None,
    }


async def test_investment_summary(client: httpx.AsyncClient) -> None:
    fund_one = await _figures(client, "fund-one")
    assert fund_one["investmentSummary"] == {
        "investmentsCount": 3,
        "leadsCount": 1,
        "byRoundType": [{"roundType": "SEED", "count": 2}, {"roundType": "SERIES_A", "count": 1}],
        "firstInvestment": {"round": {"roundType": "SEED", "company": {"slug": "acme"}}},
        "lastInvestment": {"round": {"roundType": "SEED", "company": {"slug": "bolt"}}},
    }
    acme = await _figures(client, "acme")
    assert acme["investmentSummary"] == {
        "investmentsCount": 0,
        "leadsCount": 0,
        "byRoundType": [],
        "firstInvestment": None,
        "lastInvestment": None,
    }


async def test_co_investors_most_shared_first_paged(client: httpx.AsyncClient) -> None:
    everyone = (await _figures(client, "fund-one", first=10))["coInvestors"]
    assert everyone["totalCount"] == 3
    shared = [(e["node"]["slug"], e["sharedRounds"]) for e in everyone["edges"]]
    assert sorted(shared[:2]) == [("ann-angel", 2), ("fund-two", 2)]
    assert shared[2] == ("fund-three", 1)
    assert {e["node"]["__typename"] for e in everyone["edges"]} == {"Organization", "Person"}
    first = (await _figures(client, "fund-one", first=2))["coInvestors"]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = (await _figures(client, "fund-one", first=2, after=first["pageInfo"]["endCursor"]))[
        "coInvestors"
    ]
    assert [e["node"]["slug"] for e in first["edges"] + rest["edges"]] == [s for s, _ in shared]
    assert rest["pageInfo"]["hasNextPage"] is False
    # A cursor is for one investor's list only.
    answer = await graphql(
        client, FIGURES, {"slug": "fund-two", "after": first["pageInfo"]["endCursor"]}
    )
    assert error_codes(answer) == ["BAD_USER_INPUT"]


async def test_co_investors_over_rest(client: httpx.AsyncClient) -> None:
    first = await client.get("/v1/organizations/fund-one/co-investors?limit=2")
    assert first.status_code == 200, first.text
    page = first.json()
    assert [d["shared_rounds"] for d in page["data"]] == [2, 2]
    assert {d["investor"]["kind"] for d in page["data"]} == {"organization", "person"}
    rest = await client.get(
        "/v1/organizations/fund-one/co-investors", params={"cursor": page["next_cursor"]}
    )
    assert rest.json() == {
        "data": [
            {
                "investor": {
                    "kind": "organization",
                    "id": rest.json()["data"][0]["investor"]["id"],
                    "slug": "fund-three",
                    "name": "Fund Three",
                },
                "shared_rounds": 1,
            }
        ],
        "next_cursor": None,
    }
    missing = await client.get("/v1/organizations/nobody/co-investors")
    assert missing.status_code == 404
    assert missing.json()["parameter"] == "id_or_slug"


async def test_rest_stats_group_by_and_filters(client: httpx.AsyncClient) -> None:
    answer = await client.get(
        "/v1/stats/rounds?group_by=year,investor&company=acme&status=REPORTED,CONFIRMED"
    )
    assert answer.status_code == 200, answer.text
    buckets = answer.json()["data"]
    assert [
        (b["key"]["period"]["text"], b["key"]["investor"]["slug"], b["count"]) for b in buckets
    ] == [
        ("2021", "ann-angel", 1),
        ("2021", "fund-one", 1),
        ("2021", "fund-two", 1),
        ("2022", "ann-angel", 0),
        ("2022", "fund-one", 1),
        ("2022", "fund-two", 1),
    ]
    [total] = (await client.get("/v1/stats/rounds")).json()["data"]
    assert (total["count"], total["amount_usd"]["sum"], total["amount_usd"]["median"]) == (
        4,
        "8000000",
        "2000000",
    )


@pytest.mark.parametrize(
    "query",
    [
        "group_by=quarter,month",
        "group_by=round_type,round_type",
        "group_by=period",
        "group_by=",
        "group_by=country&sort=amount_usd",
        "group_by=quarter&announced_from=2024-01-01&announced_to=2023-01-01",
    ],
)
async def test_rest_stats_refusals_name_the_parameter(
    client: httpx.AsyncClient, query: str
) -> None:
    answer = await client.get(f"/v1/stats/rounds?{query}")
    assert answer.status_code == 400, answer.text
    named = answer.json()["parameter"]
    assert named in query


async def test_a_person_has_the_investor_figures_too(client: httpx.AsyncClient) -> None:
    data = await graphql_data(
        client,
        """{ organization(slug: "fund-one") { coInvestors(first: 10) { edges { node {
              ... on Person { slug investmentSummary { investmentsCount leadsCount }
                              coInvestors { totalCount edges { sharedRounds node { slug } } } }
        } } } } }""",
    )
    [ann] = [e["node"] for e in data["organization"]["coInvestors"]["edges"] if e["node"]]
    assert ann["investmentSummary"] == {"investmentsCount": 2, "leadsCount": 0}
    # Ann is in Acme's SEED (with Fund One and Two) and Bolt's SEED (with One and Three).
    assert ann["coInvestors"]["totalCount"] == 3
    first = ann["coInvestors"]["edges"][0]
    assert (first["node"]["slug"], first["sharedRounds"]) == ("fund-one", 2)

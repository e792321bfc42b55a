"""The article's facts, read back through GraphQL as a frontend would."""

from typing import Any

import httpx
import pytest

from db.infra.ids import Kind, encode_id
from db.infra.types import Pool
from db.seed import ANTHROPIC_ROUND, OPENAI_ROUND, seed
from tests.graphql import error_codes, graphql, graphql_data

MONEY = "qualifier low { amount currency } high { amount currency } usd"
ROUND_QUERY = f"""
query ($id: ID!) {{
  round(id: $id) {{
    id roundType reportedLabel status stage announcedOn
    company {{ slug name }}
    amount {{ {MONEY} }}
    preMoneyValuation {{ {MONEY} }}
    postMoneyValuation {{ {MONEY} }}
    expectedClose {{ date precision text }}
    participations {{
      investor {{ __typename slug name }}
      amount {{ {MONEY} }}
      isLead status stage
      claims {{ quote source {{ publisher }} }}
    }}
    negotiators {{
      person {{ name roles {{ title organization {{ slug }} }} }}
      onBehalfOf {{ slug }}
    }}
    claims {{
      quote attribution status stage recordedAt
      amount {{ qualifier }}
      participation {{ investor {{ slug }} }}
      source {{ id publisher title language publishedAt kind url }}
    }}
    history {{ at status stage source {{ publisher }} }}
  }}
}}
"""


@pytest.fixture(scope="module", autouse=True)
async def demo(pool: Pool) -> None:
    async with pool.acquire() as conn:
        await seed(conn)


async def _round(client: httpx.AsyncClient, round_id: Any) -> dict[str, Any]:
    data = await graphql_data(client, ROUND_QUERY, {"id": encode_id(Kind.ROUND, round_id)})
    found: dict[str, Any] = data["round"]
    return found


def _billions(n: int) -> str:
    return str(n * 1_000_000_000)


async def test_openai_raise_is_reported_up_to_100b_in_talks(client: httpx.AsyncClient) -> None:
    r = await _round(client, OPENAI_ROUND)
    assert r["company"] == {"slug": "openai", "name": "OpenAI"}
    assert (r["status"], r["stage"]) == ("REPORTED", "IN_TALKS")
    assert r["announcedOn"] is None  # in talks: nothing announced yet
    assert r["amount"] == {
        "qualifier": "UP_TO",
        "low": None,
        "high": {"amount": _billions(100), "currency": "USD"},
        "usd": _billions(100),
    }
    about_500 = {"amount": _billions(500), "currency": "USD"}
    assert r["preMoneyValuation"] == {
        "qualifier": "ABOUT",
        "low": about_500,
        "high": about_500,
        "usd": _billions(500),
    }
    assert r["postMoneyValuation"]["qualifier"] == "ABOUT"
    assert r["postMoneyValuation"]["low"]["amount"] == _billions(830)
    assert r["expectedClose"] == {"date": "2026-01-01", "precision": "QUARTER", "text": "2026-Q1"}


async def test_amazon_part_is_up_to_50b_and_others_undisclosed(client: httpx.AsyncClient) -> None:
    r = await _round(client, OPENAI_ROUND)
    by_slug = {p["investor"]["slug"]: p for p in r["participations"]}
    assert set(by_slug) == {
        "amazon",
        "nvidia",
        "microsoft",
        "softbank",
        "middle-east-sovereign-wealth-funds",
    }
    amazon = by_slug["amazon"]
    assert amazon["investor"]["__typename"] == "Organization"
    assert amazon["amount"]["qualifier"] == "UP_TO"
    assert amazon["amount"]["high"] == {"amount": _billions(50), "currency": "USD"}
    assert (amazon["status"], amazon["stage"], amazon["isLead"]) == ("REPORTED", "IN_TALKS", False)
    assert {c["source"]["publisher"] for c in amazon["claims"]} == {
        "Business Tech (French tech news)",
        "The Wall Street Journal",
    }
    for slug in ("nvidia", "microsoft", "softbank", "middle-east-sovereign-wealth-funds"):
        assert by_slug[slug]["amount"] is None, slug
        assert (by_slug[slug]["status"], by_slug[slug]["stage"]) == ("REPORTED", "IN_TALKS")


async def test_negotiators_are_the_two_ceos(client: httpx.AsyncClient) -> None:
    r = await _round(client, OPENAI_ROUND)
    negotiators = {n["person"]["name"]: n for n in r["negotiators"]}
    assert set(negotiators) == {"Andy Jassy", "Sam Altman"}
    assert negotiators["Andy Jassy"]["onBehalfOf"] == {"slug": "amazon"}
    assert negotiators["Andy Jassy"]["person"]["roles"] == [
        {"title": "CEO", "organization": {"slug": "amazon"}}
    ]
    assert negotiators["Sam Altman"]["onBehalfOf"] == {"slug": "openai"}


async def test_claims_keep_french_quotes_and_their_sources(client: httpx.AsyncClient) -> None:
    r = await _round(client, OPENAI_ROUND)
    quotes = [c["quote"] for c in r["claims"]]
    assert any("jusqu’à 100 milliards" in q for q in quotes)
    assert any("jusqu’à 50 milliards" in q for q in quotes)
    assert any("Andy Jassy" in q for q in quotes)
    wsj = [c for c in r["claims"] if c["source"]["publisher"] == "The Wall Street Journal"]
    assert wsj, "the WSJ is cited by the article"
    assert all(c["source"]["kind"] == "PRESS_ANONYMOUS" for c in wsj)
    article = next(c["source"] for c in r["claims"] if c["source"]["language"] == "fr")
    assert article["publishedAt"] == "2026-01-30T11:05:00+00:00"
    assert article["title"].startswith("Amazon serait en négociations")
    amazon_claims = [
        c for c in r["claims"] if c["participation"] == {"investor": {"slug": "amazon"}}
    ]
    assert {c["amount"]["qualifier"] for c in amazon_claims if c["amount"]} == {"UP_TO"}
    assert r["history"] == [
        {
            "at": "2026-01-30T11:05:00+00:00",
            "status": "REPORTED",
            "stage": "IN_TALKS",
            "source": {"publisher": "Business Tech (French tech news)"},
        }
    ]


async def test_amazon_in_anthropic_is_confirmed_more_than_8b(client: httpx.AsyncClient) -> None:
    r = await _round(client, ANTHROPIC_ROUND)
    assert r["company"]["slug"] == "anthropic"
    assert (r["status"], r["stage"]) == ("CONFIRMED", "CLOSED")
    assert r["amount"] == {
        "qualifier": "AT_LEAST",
        "low": {"amount": _billions(8), "currency": "USD"},
        "high": None,
        "usd": _billions(8),
    }
    [amazon] = r["participations"]
    assert amazon["investor"]["slug"] == "amazon"
    assert (amazon["status"], amazon["stage"]) == ("CONFIRMED", "CLOSED")
    assert "plus de 8 milliards" in r["claims"][0]["quote"]


async def test_organization_by_slug_lists_raises_and_investments(
    client: httpx.AsyncClient,
) -> None:
    data = await graphql_data(
        client,
        """
        {
          amazon: organization(slug: "amazon") {
            name aliases investorTypes
            rounds(first: 5) { totalCount }
            investments(first: 5) { totalCount edges { node { round { company { slug } } } } }
          }
          openai: organization(slug: "openai") {
            rounds(first: 5) { totalCount edges { node { stage } } }
          }
          missing: organization(slug: "no-such-company") { id }
        }
        """,
    )
    amazon = data["amazon"]
    assert amazon["name"] == "Amazon"
    assert "AWS" in amazon["aliases"]
    assert amazon["investorTypes"] == ["CORPORATE"]
    assert amazon["rounds"]["totalCount"] == 0
    assert amazon["investments"]["totalCount"] == 2
    companies = {e["node"]["round"]["company"]["slug"] for e in amazon["investments"]["edges"]}
    assert companies == {"openai", "anthropic"}
    assert data["openai"]["rounds"]["totalCount"] == 1
    assert data["missing"] is None


async def test_node_refetches_every_kind(client: httpx.AsyncClient) -> None:
    data = await graphql_data(
        client,
        """
        query ($id: ID!) {
          round(id: $id) {
            id company { id }
            participations { id investor { id } }
            claims { id source { id } }
          }
        }
        """,
        {"id": encode_id(Kind.ROUND, OPENAI_ROUND)},
    )
    r = data["round"]
    ids = [
        r["id"],
        r["company"]["id"],
        r["participations"][0]["id"],
        r["participations"][0]["investor"]["id"],
        r["claims"][0]["id"],
        r["claims"][0]["source"]["id"],
    ]
    for node_id in ids:
        found = await graphql_data(
            client, "query ($id: ID!) { node(id: $id) { id } }", {"id": node_id}
        )
        assert found["node"] == {"id": node_id}


async def test_bad_ids_are_coded_errors(client: httpx.AsyncClient) -> None:
    answer = await graphql(client, '{ round(id: "not-an-id") { id } }')
    assert error_codes(answer) == ["BAD_USER_INPUT"]
    assert "not a dealgraph id" in answer["errors"][0]["message"]
    org_id = encode_id(Kind.ORGANIZATION, OPENAI_ROUND)
    answer = await graphql(client, "query ($id: ID!) { round(id: $id) { id } }", {"id": org_id})
    assert error_codes(answer) == ["BAD_USER_INPUT"]
    assert "not of a round" in answer["errors"][0]["message"]

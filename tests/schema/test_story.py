"""The article's story, walked forward through the mutations, with reads as of each step."""

import datetime
from typing import Any

import httpx
import pytest

from tests.graphql import graphql, graphql_data

ROUND = """
  id status stage
  company { slug }
  amount { qualifier low { amount currency } high { amount currency } usd }
  postMoneyValuation { qualifier usd }
  participations {
    investor { slug } status stage amount { qualifier low { amount } high { amount } }
  }
  claims {
    status quote amount { qualifier } source { publisher kind }
    participation { investor { slug } }
  }
  history { status stage source { publisher } }
"""
REPORT = f"""
mutation ($input: RoundReportInput!) {{
  roundReport(input: $input) {{ round {{ {ROUND} }} userErrors {{ message field code }} }}
}}
"""
CONFIRM = f"""
mutation ($input: RoundStatusInput!) {{
  roundConfirm(input: $input) {{ round {{ {ROUND} }} userErrors {{ message field code }} }}
}}
"""
DENY = CONFIRM.replace("roundConfirm", "roundDeny")
AS_OF = f"query ($id: ID!, $asOf: DateTime) {{ round(id: $id, asOf: $asOf) {{ {ROUND} }} }}"

WSJ = {
    "publisher": "The Wall Street Journal",
    "kind": "PRESS_ANONYMOUS",
    "language": "en",
    "publishedAt": "2026-01-29T22:00:00Z",
    "url": "https://www.wsj.com/tech/ai/amazon-openai",
}
ARTICLE = {
    "publisher": "Business Tech",
    "kind": "PRESS_ANONYMOUS",
    "language": "fr",
    "publishedAt": "2026-01-30T12:05:00+01:00",
}
OPENAI_STATEMENT = {
    "publisher": "OpenAI",
    "kind": "COMPANY_STATEMENT",
    "language": "en",
    "publishedAt": "2026-02-15T16:00:00Z",
    "url": "https://openai.com/news/amazon",
}
NVIDIA_STATEMENT = {
    "publisher": "Nvidia",
    "kind": "INVESTOR_STATEMENT",
    "language": "en",
    "publishedAt": "2026-02-20T14:00:00Z",
}


def _usd(qualifier: str, billions: int, side: str = "high") -> dict[str, Any]:
    return {
        "qualifier": qualifier,
        side: {"amount": str(billions * 1_000_000_000), "currency": "USD"},
    }


def _by_investor(round_: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["investor"]["slug"]: p for p in round_["participations"]}


async def _now(client: httpx.AsyncClient) -> str:
    # A moment between two writes (the database and the tests share this machine's clock).
    return datetime.datetime.now(datetime.UTC).isoformat()


@pytest.fixture(scope="module")
async def story(client: httpx.AsyncClient) -> dict[str, Any]:
    """Run the story once; each test reads a part of it."""
    steps: dict[str, Any] = {"before": await _now(client)}

    wsj = await graphql_data(
        client,
        REPORT,
        {
            "input": {
                "company": {"name": "OpenAI"},
                "roundType": "SERIES_UNKNOWN",
                "stage": "IN_TALKS",
                "reportedLabel": "funding round",
                "amount": _usd("UP_TO", 100),
                "postMoneyValuation": {
                    "qualifier": "ABOUT",
                    "low": {"amount": "830000000000", "currency": "USD"},
                },
                "participations": [
                    {"investor": {"name": "Amazon"}, "amount": _usd("UP_TO", 50)},
                    {"investor": {"name": "Nvidia"}},
                    {"investor": {"name": "Microsoft"}},
                ],
                "source": WSJ,
                "quote": "Amazon is in talks to invest as much as $50 billion in OpenAI",
            }
        },
    )
    steps["wsj"] = wsj["roundReport"]
    steps["after_wsj"] = await _now(client)

    article = await graphql_data(
        client,
        REPORT,
        {
            "input": {
                "company": {"name": "openai"},
                "roundType": "SERIES_UNKNOWN",
                "stage": "IN_TALKS",
                "reportedLabel": "tour de table",
                "amount": _usd("UP_TO", 100),
                "participations": [{"investor": {"name": "Amazon"}, "amount": _usd("UP_TO", 50)}],
                "source": ARTICLE,
                "quote": "Amazon serait en discussions avancées pour injecter jusqu’à 50 milliards",
            }
        },
    )
    steps["article"] = article["roundReport"]
    round_id = steps["wsj"]["round"]["id"]

    steps["before_confirm"] = await _now(client)
    confirmed = await graphql_data(
        client,
        CONFIRM,
        {
            "input": {
                "roundId": round_id,
                "investor": {"slug": "amazon"},
                "amount": _usd("EXACT", 40, "low"),
                "source": OPENAI_STATEMENT,
                "quote": "Amazon will invest $40 billion in OpenAI.",
            }
        },
    )
    steps["confirmed"] = confirmed["roundConfirm"]
    steps["after_confirm"] = await _now(client)

    denied = await graphql_data(
        client,
        DENY,
        {
            "input": {
                "roundId": round_id,
                "investor": {"slug": "nvidia"},
                "source": NVIDIA_STATEMENT,
                "quote": "Nvidia is not taking part in this round.",
            }
        },
    )
    steps["denied"] = denied["roundDeny"]
    steps["after_deny"] = await _now(client)
    return steps


async def test_the_wsj_report_creates_a_reported_round(story: dict[str, Any]) -> None:
    payload = story["wsj"]
    assert payload["userErrors"] == []
    r = payload["round"]
    assert (r["status"], r["stage"]) == ("REPORTED", "IN_TALKS")
    assert r["company"]["slug"] == "openai"
    assert r["amount"]["qualifier"] == "UP_TO"
    assert r["amount"]["usd"] == "100000000000"
    amazon = _by_investor(r)["amazon"]
    assert (amazon["status"], amazon["amount"]["high"]["amount"]) == ("REPORTED", "50000000000")
    assert [(h["status"], h["stage"]) for h in r["history"]] == [("REPORTED", "IN_TALKS")]


async def test_the_article_adds_a_claim_to_the_same_round(story: dict[str, Any]) -> None:
    r = story["article"]["round"]
    assert r["id"] == story["wsj"]["round"]["id"]
    publishers = {c["source"]["publisher"] for c in r["claims"]}
    assert publishers == {"The Wall Street Journal", "Business Tech"}
    assert (r["status"], r["stage"]) == ("REPORTED", "IN_TALKS")


async def test_a_statement_confirms_amazon_and_both_amounts_stay_visible(
    story: dict[str, Any],
) -> None:
    r = story["confirmed"]["round"]
    amazon = _by_investor(r)["amazon"]
    assert amazon["status"] == "CONFIRMED"
    assert amazon["amount"] == {
        "qualifier": "EXACT",
        "low": {"amount": "40000000000"},
        "high": {"amount": "40000000000"},
    }
    amazon_claims = [
        c for c in r["claims"] if c["participation"] == {"investor": {"slug": "amazon"}}
    ]
    assert {c["amount"]["qualifier"] for c in amazon_claims if c["amount"]} == {"UP_TO", "EXACT"}
    assert {c["source"]["kind"] for c in amazon_claims} >= {"PRESS_ANONYMOUS", "COMPANY_STATEMENT"}
    # The round as a whole is still only reported: OpenAI confirmed Amazon's part.
    assert r["status"] == "REPORTED"


async def test_a_denial_ends_nvidias_reported_part(story: dict[str, Any]) -> None:
    r = story["denied"]["round"]
    by_investor = _by_investor(r)
    assert by_investor["nvidia"]["status"] == "DENIED"
    assert by_investor["microsoft"]["status"] == "REPORTED"
    assert by_investor["amazon"]["status"] == "CONFIRMED"


async def test_reads_as_of_each_step_differ(
    client: httpx.AsyncClient, story: dict[str, Any]
) -> None:
    round_id = story["wsj"]["round"]["id"]

    async def as_of(moment: str) -> dict[str, Any] | None:
        data = await graphql_data(client, AS_OF, {"id": round_id, "asOf": moment})
        found: dict[str, Any] | None = data["round"]
        return found

    assert await as_of(story["before"]) is None
    after_wsj = await as_of(story["after_wsj"])
    assert after_wsj is not None
    assert {c["source"]["publisher"] for c in after_wsj["claims"]} == {"The Wall Street Journal"}
    before_confirm = await as_of(story["before_confirm"])
    assert before_confirm is not None
    amazon_then = _by_investor(before_confirm)["amazon"]
    assert (amazon_then["status"], amazon_then["amount"]["qualifier"]) == ("REPORTED", "UP_TO")
    after_confirm = await as_of(story["after_confirm"])
    assert after_confirm is not None
    assert _by_investor(after_confirm)["amazon"]["status"] == "CONFIRMED"
    assert _by_investor(after_confirm)["nvidia"]["status"] == "REPORTED"
    after_deny = await as_of(story["after_deny"])
    assert after_deny is not None
    assert _by_investor(after_deny)["nvidia"]["status"] == "DENIED"
    now = (await graphql_data(client, AS_OF, {"id": round_id}))["round"]
    assert now == after_deny


async def test_rounds_as_of_lists_what_was_known(
    client: httpx.AsyncClient, story: dict[str, Any]
) -> None:
    query = "query ($asOf: DateTime) { rounds(asOf: $asOf) { totalCount } }"
    assert (await graphql_data(client, query, {"asOf": story["before"]}))["rounds"][
        "totalCount"
    ] == 0
    assert (await graphql_data(client, query, {"asOf": story["after_wsj"]}))["rounds"][
        "totalCount"
    ] == 1


async def test_a_party_confirming_the_round_outranks_the_press(
    client: httpx.AsyncClient, story: dict[str, Any]
) -> None:
    round_id = story["wsj"]["round"]["id"]
    confirmed = await graphql_data(
        client,
        CONFIRM,
        {
            "input": {
                "roundId": round_id,
                "source": {**OPENAI_STATEMENT, "url": None, "publishedAt": "2026-03-01T09:00:00Z"},
                "quote": "OpenAI confirms it is raising new funding.",
            }
        },
    )
    r = confirmed["roundConfirm"]["round"]
    assert r["status"] == "CONFIRMED"
    # A later press report cannot take that back: a party outranks the press.
    later_press = await graphql_data(
        client,
        REPORT,
        {
            "input": {
                "company": {"slug": "openai"},
                "roundType": "SERIES_UNKNOWN",
                "stage": "IN_TALKS",
                "source": {**ARTICLE, "publishedAt": "2026-03-05T09:00:00Z"},
            }
        },
    )
    assert later_press["roundReport"]["round"]["id"] == round_id
    assert later_press["roundReport"]["round"]["status"] == "CONFIRMED"
    assert [h["status"] for h in later_press["roundReport"]["round"]["history"]] == [
        "REPORTED",
        "CONFIRMED",
    ]


async def test_money_in_euros_is_kept_and_converted(client: httpx.AsyncClient) -> None:
    data = await graphql_data(
        client,
        REPORT.replace("claims {", "claims { usdRate usdRateDate "),
        {
            "input": {
                "company": {"name": "Mistral AI"},
                "roundType": "SERIES_C",
                "stage": "CLOSED",
                "announcedOn": "2025-09-09",
                "amount": {
                    "qualifier": "EXACT",
                    "low": {"amount": "1700000000", "currency": "EUR"},
                },
                "source": {
                    "publisher": "Mistral AI",
                    "kind": "COMPANY_STATEMENT",
                    "publishedAt": "2025-09-09T08:00:00Z",
                },
            }
        },
    )
    r = data["roundReport"]["round"]
    assert r["amount"]["low"] == {"amount": "1700000000", "currency": "EUR"}
    assert r["status"] == "CONFIRMED"
    claim = r["claims"][0]
    assert claim["usdRateDate"] == "2025-09-09"
    rate = float(claim["usdRate"])
    assert 1.0 < rate < 1.3
    assert int(r["amount"]["usd"]) == round(1_700_000_000 * float(claim["usdRate"]))


@pytest.mark.parametrize(
    ("change", "field", "needle"),
    [
        ({"company": {"slug": "no-such-company"}}, ["input", "company", "slug"], "no organization"),
        ({"company": {}}, ["input", "company"], "give a slug or a name"),
        (
            {"amount": {"qualifier": "UP_TO", "low": {"amount": "5", "currency": "USD"}}},
            ["input", "amount", "low"],
            "UP_TO takes no low amount",
        ),
        (
            {"amount": {"qualifier": "EXACT", "low": {"amount": "5", "currency": "XYZ"}}},
            ["input", "amount", "low", "currency"],
            "XYZ has no reference rate",
        ),
        (
            {
                "amount": {
                    "qualifier": "RANGE",
                    "low": {"amount": "9", "currency": "USD"},
                    "high": {"amount": "5", "currency": "USD"},
                }
            },
            ["input", "amount", "high"],
            "RANGE",
        ),
        ({"source": {**WSJ, "url": "ftp://x"}}, ["input", "source", "url"], "http(s) URL"),
        (
            {"source": {**WSJ, "publishedAt": "2099-01-01T00:00:00Z"}},
            ["input", "source", "publishedAt"],
            "future",
        ),
    ],
)
async def test_bad_reports_are_user_errors_and_write_nothing(
    client: httpx.AsyncClient, change: dict[str, Any], field: list[str], needle: str
) -> None:
    count = "{ rounds { totalCount } organizations { totalCount } }"
    before = await graphql_data(client, count)
    base = {
        "company": {"name": "Brand New Co"},
        "roundType": "SEED",
        "stage": "ANNOUNCED",
        "source": WSJ,
    }
    data = await graphql_data(client, REPORT, {"input": {**base, **change}})
    payload = data["roundReport"]
    assert payload["round"] is None
    [error] = payload["userErrors"]
    assert error["field"] == field
    assert needle in error["message"]
    assert await graphql_data(client, count) == before


async def test_confirming_an_unknown_round_is_a_user_error(client: httpx.AsyncClient) -> None:
    data = await graphql_data(
        client, CONFIRM, {"input": {"roundId": "rnd_" + "0" * 32, "source": OPENAI_STATEMENT}}
    )
    assert data["roundConfirm"]["userErrors"][0]["code"] == "NOT_FOUND"
    bad = await graphql(client, CONFIRM, {"input": {"roundId": "nope", "source": OPENAI_STATEMENT}})
    assert bad["data"]["roundConfirm"]["userErrors"][0]["field"] == ["input", "roundId"]


async def test_an_investor_filter_as_of_sees_only_parts_known_then(
    client: httpx.AsyncClient,
) -> None:
    base = {"company": {"name": "AsOf Co"}, "roundType": "SEED", "stage": "IN_TALKS", "source": WSJ}
    await graphql_data(
        client,
        REPORT,
        {"input": {**base, "participations": [{"investor": {"name": "Early Fund"}}]}},
    )
    between = await _now(client)
    await graphql_data(
        client, REPORT, {"input": {**base, "participations": [{"investor": {"name": "Late Fund"}}]}}
    )
    ids = await graphql_data(
        client,
        '{ early: organization(slug: "early-fund") { id } '
        'late: organization(slug: "late-fund") { id } }',
    )
    query = (
        "query ($t: DateTime, $i: ID) { rounds(asOf: $t, filter: {investorId: $i}) { totalCount } }"
    )

    async def count(moment: str | None, investor: str) -> int:
        data = await graphql_data(client, query, {"t": moment, "i": ids[investor]["id"]})
        total: int = data["rounds"]["totalCount"]
        return total

    assert await count(between, "early") == 1
    assert await count(between, "late") == 0
    assert await count(None, "late") == 1

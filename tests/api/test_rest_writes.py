"""POST /v1/reports, confirmations and denials: the story over REST, idempotency,
and writers racing each other."""

import asyncio
import datetime
from typing import Any

import httpx
import pytest

from db.access.principal import Scope
from tests.conftest import bearer, create_key

WSJ = {
    "publisher": "The Wall Street Journal",
    "kind": "PRESS_ANONYMOUS",
    "language": "en",
    "published_at": "2026-01-29T22:00:00Z",
}
STATEMENT = {
    "publisher": "OpenAI",
    "kind": "COMPANY_STATEMENT",
    "published_at": "2026-02-15T16:00:00Z",
}


def _up_to(billions: int) -> dict[str, Any]:
    return {"qualifier": "UP_TO", "high": {"amount": str(billions * 10**9), "currency": "USD"}}


def _report(company: str, **extra: Any) -> dict[str, Any]:
    return {
        "company": {"name": company},
        "round_type": "SERIES_UNKNOWN",
        "stage": "IN_TALKS",
        "source": WSJ,
        **extra,
    }


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat()


async def test_the_story_over_rest(client: httpx.AsyncClient) -> None:
    before = _now()
    created = await client.post(
        "/v1/reports",
        json=_report(
            "OpenAI",
            amount=_up_to(100),
            participations=[
                {"investor": {"name": "Amazon"}, "amount": _up_to(50)},
                {"investor": {"name": "Nvidia"}},
            ],
            quote="Amazon is in talks to invest as much as $50 billion",
        ),
    )
    assert created.status_code == 201, created.text
    round_ = created.json()
    assert created.headers["location"] == f"/v1/rounds/{round_['id']}"
    assert (round_["status"], round_["stage"]) == ("REPORTED", "IN_TALKS")
    after_report = _now()

    confirmed = await client.post(
        f"/v1/rounds/{round_['id']}/confirmations",
        json={
            "source": STATEMENT,
            "investor": {"name": "amazon"},
            "amount": {"qualifier": "EXACT", "low": {"amount": "40000000000", "currency": "USD"}},
        },
    )
    assert confirmed.status_code == 200, confirmed.text
    amazon = next(
        p for p in confirmed.json()["participations"] if p["investor"]["slug"] == "amazon"
    )
    assert (amazon["status"], amazon["amount"]["qualifier"]) == ("CONFIRMED", "EXACT")
    qualifiers = {
        c["amount"]["qualifier"]
        for c in confirmed.json()["claims"]
        if c["participation_id"] == amazon["id"] and c["amount"]
    }
    assert qualifiers == {"UP_TO", "EXACT"}

    denied = await client.post(
        f"/v1/rounds/{round_['id']}/denials",
        json={
            "source": {**STATEMENT, "publisher": "Nvidia", "kind": "INVESTOR_STATEMENT"},
            "investor": {"slug": "nvidia"},
        },
    )
    nvidia = next(p for p in denied.json()["participations"] if p["investor"]["slug"] == "nvidia")
    assert nvidia["status"] == "DENIED"

    # REST's as-of reads tell the story step by step...
    async def amazon_as_of(moment: str) -> Any:
        response = await client.get(f"/v1/rounds/{round_['id']}", params={"as_of": moment})
        if response.status_code == 404:
            return None
        found = response.json()
        return next(
            p["status"] for p in found["participations"] if p["investor"]["slug"] == "amazon"
        )

    assert await amazon_as_of(before) is None
    assert await amazon_as_of(after_report) == "REPORTED"
    assert await amazon_as_of(_now()) == "CONFIRMED"
    listed = (await client.get("/v1/rounds", params={"as_of": before})).json()
    assert round_["id"] not in {r["id"] for r in listed["data"]}
    bad = await client.get("/v1/rounds", params={"as_of": "2026-01-30"})
    assert bad.status_code == 400

    # ...and GraphQL's as-of reads see the same history.
    query = (
        "query ($id: ID!, $t: DateTime) { round(id: $id, asOf: $t) { participations { status } } }"
    )
    for moment, expected in ((before, None), (after_report, ["REPORTED", "REPORTED"])):
        data = (
            await client.post(
                "/graphql", json={"query": query, "variables": {"id": round_["id"], "t": moment}}
            )
        ).json()["data"]
        found = data["round"]
        assert (
            None if found is None else sorted(p["status"] for p in found["participations"])
        ) == expected


@pytest.mark.parametrize(
    ("body", "parameter", "needle"),
    [
        ({"round_type": "SEED"}, "company", "Field required"),
        ({**_report("X"), "colour": "red"}, "colour", "Extra inputs are not permitted"),
        (
            {
                **_report("X"),
                "amount": {"qualifier": "UP_TO", "high": {"amount": 5, "currency": "USD"}},
            },
            "amount.high.amount",
            "string",
        ),
        (
            {
                **_report("X"),
                "amount": {"qualifier": "UP_TO", "high": {"amount": "NaN", "currency": "USD"}},
            },
            "amount.high.amount",
            "pattern",
        ),
        (
            {**_report("X"), "source": {**WSJ, "published_at": "2026-01-29T22:00:00"}},
            "source.published_at",
            "timezone",
        ),
        (
            {
                **_report("X"),
                "amount": {"qualifier": "AT_LEAST", "high": {"amount": "5", "currency": "USD"}},
            },
            "amount.low",
            "AT_LEAST needs low amount",
        ),
        ({**_report("X"), "company": {"slug": "missing-co"}}, "company.slug", "no organization"),
    ],
)
async def test_bad_bodies_are_400_problems_and_write_nothing(
    client: httpx.AsyncClient, body: dict[str, Any], parameter: str, needle: str
) -> None:
    before = (await client.get("/v1/changes", params={"limit": 100})).json()
    response = await client.post("/v1/reports", json=body)
    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["parameter"] == parameter
    assert needle in problem["detail"]
    after = (await client.get("/v1/changes", params={"limit": 100})).json()
    assert after["next_cursor"] == before["next_cursor"]


async def test_confirming_an_unknown_round_is_404(client: httpx.AsyncClient) -> None:
    for round_id in ("rnd_" + "0" * 32, "nonsense"):
        response = await client.post(
            f"/v1/rounds/{round_id}/confirmations", json={"source": STATEMENT}
        )
        assert response.status_code == 404
        assert response.json()["parameter"] == "id"


async def test_a_body_that_is_not_json_is_415(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/reports",
        content=b"company=x",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415


async def test_a_read_key_may_not_write(client: httpx.AsyncClient, db_url: str) -> None:
    reader = bearer(await create_key(db_url, scope=Scope.READ))
    response = await client.post("/v1/reports", json=_report("Read Only Co"), headers=reader)
    assert response.status_code == 403


async def test_an_idempotent_retry_gets_the_first_answer(client: httpx.AsyncClient) -> None:
    headers = {"idempotency-key": "report-stripe-1"}
    body = _report("Stripe", stage="ANNOUNCED", announced_on="2026-02-01")
    first = await client.post("/v1/reports", json=body, headers=headers)
    assert first.status_code == 201
    changes = (await client.get("/v1/changes", params={"limit": 100})).json()
    while changes["has_more"]:
        changes = (
            await client.get("/v1/changes", params={"cursor": changes["next_cursor"], "limit": 100})
        ).json()
    replay = await client.post("/v1/reports", json=body, headers=headers)
    assert replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == first.json()
    assert (
        replay.headers["location"]
        == first.headers["location"]
        == f"/v1/rounds/{first.json()['id']}"
    )
    later = (await client.get("/v1/changes", params={"cursor": changes["next_cursor"]})).json()
    assert later["data"] == []  # the replay changed nothing
    other = await client.post("/v1/reports", json=_report("Stripe"), headers=headers)
    assert other.status_code == 422
    assert other.json()["code"] == "IDEMPOTENCY_KEY_REUSED"


async def test_simultaneous_idempotent_retries_write_once(client: httpx.AsyncClient) -> None:
    headers = {"idempotency-key": "race-1"}
    body = _report("Racing Co", stage="ANNOUNCED", announced_on="2026-03-01")
    answers = await asyncio.gather(
        *(client.post("/v1/reports", json=body, headers=headers) for _ in range(4))
    )
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1


async def test_two_simultaneous_reports_of_one_deal_make_one_round(
    client: httpx.AsyncClient,
) -> None:
    bodies = [
        _report("Twin Deal Co", amount=_up_to(n), source={**WSJ, "publisher": f"Paper {n}"})
        for n in range(1, 7)
    ]
    answers = await asyncio.gather(*(client.post("/v1/reports", json=b) for b in bodies))
    assert sorted(a.status_code for a in answers) == [200] * 5 + [201]
    assert len({a.json()["id"] for a in answers}) == 1
    rounds = (await client.get("/v1/rounds", params={"company": "twin-deal-co"})).json()
    assert len(rounds["data"]) == 1
    detail = (await client.get(f"/v1/rounds/{rounds['data'][0]['id']}")).json()
    assert len(detail["claims"]) == 6


async def test_simultaneous_confirmations_tell_one_consistent_story(
    client: httpx.AsyncClient,
) -> None:
    created = (await client.post("/v1/reports", json=_report("Confirmed Co"))).json()
    statements = [
        {
            "source": {
                **STATEMENT,
                "publisher": f"Confirmed Co {n}",
                "published_at": f"2026-02-{10 + n:02d}T10:00:00Z",
            }
        }
        for n in range(5)
    ]
    answers = await asyncio.gather(
        *(client.post(f"/v1/rounds/{created['id']}/confirmations", json=s) for s in statements)
    )
    assert {a.status_code for a in answers} == {200}
    detail = (await client.get(f"/v1/rounds/{created['id']}")).json()
    assert detail["status"] == "CONFIRMED"
    # One change from REPORTED to CONFIRMED, however many confirmations raced.
    assert [h["status"] for h in detail["history"]] == ["REPORTED", "CONFIRMED"]
    assert len(detail["claims"]) == 6

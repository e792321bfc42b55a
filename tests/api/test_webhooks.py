"""Webhooks end to end: endpoints over REST, the article's story delivered signed to a
real receiver on loopback, retries while it is down, failures, and the safety rules."""

import datetime
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import standardwebhooks

from api.push.options import PushOptions
from api.push.worker import running_webhooks
from db.access.principal import Scope
from tests.api.receiver import Receiver, receiving, until
from tests.conftest import bearer, create_key

# Retries in tenths of seconds, so the tests need no long waits.
FAST = PushOptions(allow_private=True, retry_base=0.05, retry_cap=0.2, poll_interval=0.1)

WSJ = {
    "publisher": "The Wall Street Journal",
    "kind": "PRESS_ANONYMOUS",
    "language": "en",
    "published_at": "2026-01-29T22:00:00Z",
}
OPENAI = {
    "publisher": "OpenAI",
    "kind": "COMPANY_STATEMENT",
    "published_at": "2026-02-15T16:00:00Z",
    "url": "https://openai.com/news/amazon",
}
ALL_EVENTS = [
    "round.created",
    "round.updated",
    "round.status_changed",
    "participation.created",
    "participation.updated",
    "participation.status_changed",
    "organization.created",
    "organization.updated",
]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving() as r:
        yield r


async def _endpoint(client: httpx.AsyncClient, url: str, **body: Any) -> dict[str, Any]:
    created = await client.post("/v1/webhooks", json={"url": url, **body})
    assert created.status_code == 201, created.text
    endpoint: dict[str, Any] = created.json()
    return endpoint


async def _report(client: httpx.AsyncClient, company: str, **extra: Any) -> dict[str, Any]:
    reported = await client.post(
        "/v1/reports",
        json={
            "company": {"name": company},
            "round_type": "SERIES_UNKNOWN",
            "stage": "IN_TALKS",
            "source": WSJ,
            **extra,
        },
    )
    assert reported.status_code == 201, reported.text
    round_: dict[str, Any] = reported.json()
    return round_


async def test_the_story_reaches_a_receiver_signed(
    client: httpx.AsyncClient, db_url: str, receiver: Receiver
) -> None:
    endpoint = await _endpoint(
        client,
        receiver.url,
        events=["round.status_changed", "participation.status_changed"],
        filter={"status": "CONFIRMED"},
    )
    secret = endpoint["secret"]
    assert secret.startswith("whsec_")
    async with running_webhooks(db_url, FAST):
        round_ = await _report(
            client,
            "OpenAI",
            participations=[{"investor": {"name": "Amazon"}}, {"investor": {"name": "Nvidia"}}],
        )
        confirmed = await client.post(
            f"/v1/rounds/{round_['id']}/confirmations", json={"source": OPENAI}
        )
        assert confirmed.status_code == 200, confirmed.text
        amazon = await client.post(
            f"/v1/rounds/{round_['id']}/confirmations",
            json={"source": OPENAI, "investor": {"slug": "amazon"}},
        )
        assert amazon.status_code == 200, amazon.text
        await receiver.wait_until(
            lambda: any(
                e["type"] == "participation.status_changed"
                and e["data"]["participation"]["investor"]["slug"] == "amazon"
                for e in receiver.events()
            ),
            what="Amazon's confirmation",
        )

        async def recorded() -> bool:
            log = await _deliveries(client, endpoint)
            return {d["status"] for d in log} == {"delivered"}

        # Stopped before it records an attempt, a worker leaves it to be sent again.
        await until(recorded, what="the attempts to be recorded")

    events = [r.verify(secret) for r in receiver.received]
    [round_event] = [e for e in events if e["type"] == "round.status_changed"]
    data = round_event["data"]
    assert (data["previous_status"], data["status"]) == ("REPORTED", "CONFIRMED")
    assert data["source"]["publisher"] == "OpenAI"
    assert data["claim_id"].startswith("clm_")
    assert data["round"]["id"] == round_["id"]
    assert data["round"]["status"] == "CONFIRMED"
    by_investor = {
        e["data"]["participation"]["investor"]["slug"]: e["data"]
        for e in events
        if e["type"] == "participation.status_changed"
    }
    # The round's confirmation does not confirm its participations; Amazon's own does.
    assert set(by_investor) == {"amazon"}
    assert (by_investor["amazon"]["previous_status"], by_investor["amazon"]["status"]) == (
        "REPORTED",
        "CONFIRMED",
    )
    assert by_investor["amazon"]["source"]["publisher"] == "OpenAI"

    # A receiver with another secret cannot be fooled.
    other = standardwebhooks.Webhook(
        (await _endpoint(client, receiver.url, events=["round.created"]))["secret"]
    )
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        other.verify(receiver.received[0].body, receiver.received[0].headers)

    log = await client.get(f"/v1/webhooks/{endpoint['id']}/deliveries")
    assert log.status_code == 200, log.text
    assert {d["status"] for d in log.json()["data"]} == {"delivered"}
    assert all(d["attempts"][-1]["status_code"] == 200 for d in log.json()["data"])


async def _deliveries(client: httpx.AsyncClient, endpoint: dict[str, Any]) -> list[Any]:
    log = await client.get(f"/v1/webhooks/{endpoint['id']}/deliveries", params={"limit": 100})
    assert log.status_code == 200, log.text
    deliveries: list[Any] = log.json()["data"]
    return deliveries


async def test_a_receiver_down_for_a_while_gets_every_event_in_order(
    client: httpx.AsyncClient, db_url: str, receiver: Receiver
) -> None:
    endpoint = await _endpoint(client, receiver.url, events=ALL_EVENTS)
    await receiver.stop()
    async with running_webhooks(db_url, FAST):
        rounds = []
        for company in ("Mistral", "Anthropic"):
            round_ = await _report(
                client, company, participations=[{"investor": {"name": "Lightspeed"}}]
            )
            rounds.append(round_["id"])
            for investor in (None, "lightspeed"):
                confirmed = await client.post(
                    f"/v1/rounds/{round_['id']}/confirmations",
                    json={
                        "source": {
                            **OPENAI,
                            "publisher": company,
                            "url": f"https://{company.lower()}.example/statement",
                        },
                        **({"investor": {"slug": investor}} if investor else {}),
                    },
                )
                assert confirmed.status_code == 200, confirmed.text

        async def failed_thrice() -> bool:
            return sum(len(d["attempts"]) for d in await _deliveries(client, endpoint)) >= 3

        await until(failed_thrice, what="failed attempts")
        await receiver.start()
        await receiver.wait_until(
            lambda: (
                sum(e["type"] == "participation.status_changed" for e in receiver.events())
                == len(rounds)
            ),
            what="every round's last event",
        )

        async def all_delivered() -> bool:
            return {d["status"] for d in await _deliveries(client, endpoint)} == {"delivered"}

        await until(all_delivered, what="every delivery")
        made = await _deliveries(client, endpoint)

    assert {r.id for r in receiver.received} == {d["id"] for d in made}
    assert any(d["attempts"][0]["error"] for d in await _deliveries(client, endpoint))
    for round_id in rounds:
        about = [
            e
            for e in receiver.events()
            if e["data"]["id"] == round_id
            or (e["data"].get("participation") or {}).get("round", {}).get("id") == round_id
        ]
        types = [e["type"] for e in about]
        assert types[0] == "round.created", types
        assert "round.status_changed" in types
        assert "participation.status_changed" in types
        moments = [e["timestamp"] for e in about]
        assert moments == sorted(moments), "events of one round arrived out of order"
        statuses = [e["data"]["status"] for e in about if e["type"].startswith("round.")]
        assert statuses[-1] == "CONFIRMED"
        assert "REPORTED" in statuses


async def test_an_endpoint_failing_too_long_is_disabled_and_says_why(
    client: httpx.AsyncClient, db_url: str, receiver: Receiver
) -> None:
    endpoint = await _endpoint(client, receiver.url, events=["round.created"])
    receiver.status = 500
    impatient = PushOptions(
        allow_private=True,
        retry_base=0.05,
        retry_cap=0.1,
        poll_interval=0.1,
        retry_window=datetime.timedelta(seconds=30),
        disable_after=datetime.timedelta(seconds=0.3),
    )
    async with running_webhooks(db_url, impatient):
        await _report(client, "Failing Co")

        async def shown() -> dict[str, Any]:
            answer = await client.get(f"/v1/webhooks/{endpoint['id']}")
            assert answer.status_code == 200, answer.text
            found: dict[str, Any] = answer.json()
            return found

        async def turned_off() -> bool:
            return not (await shown())["enabled"]

        await until(turned_off, what="the endpoint to be disabled")
    disabled = await shown()
    assert "HTTP 500" in disabled["disabled_reason"]
    assert disabled["failing_since"] is not None
    [delivery] = await _deliveries(client, endpoint)
    assert len(delivery["attempts"]) >= 2
    assert {a["status_code"] for a in delivery["attempts"]} == {500}
    assert receiver.received == []

    enabled = await client.patch(f"/v1/webhooks/{endpoint['id']}", json={"enabled": True})
    assert enabled.status_code == 200, enabled.text
    assert (enabled.json()["enabled"], enabled.json()["disabled_reason"]) == (True, None)


async def test_private_targets_are_refused_unless_allowed(
    client: httpx.AsyncClient, db_url: str, receiver: Receiver
) -> None:
    endpoint = await _endpoint(client, receiver.url, events=["round.created"])
    strict = PushOptions(retry_base=10, poll_interval=0.1)
    async with running_webhooks(db_url, strict):
        await _report(client, "Private Co")
        while (
            not (deliveries := await _deliveries(client, endpoint)) or not deliveries[0]["attempts"]
        ):
            await receiver.wait_until(lambda: True)
    error = deliveries[0]["attempts"][0]["error"]
    assert "127.0.0.1" in error
    assert "DEALGRAPH_WEBHOOK_ALLOW_PRIVATE" in error
    assert receiver.arrived == []


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ({"url": "ftp://example.com/x", "events": ["round.created"]}, "url"),
        (
            {"url": "https://example.com", "events": ["round.created", "round.exploded"]},
            "events.1",
        ),
        ({"url": "https://example.com", "events": []}, "events"),
        (
            {"url": "https://example.com", "events": ["round.created"], "filter": {"company": "x"}},
            "filter.company",
        ),
        ({"events": ["round.created"]}, "url"),
    ],
)
async def test_bad_endpoints_are_refused(
    client: httpx.AsyncClient, body: dict[str, Any], parameter: str
) -> None:
    refused = await client.post("/v1/webhooks", json=body)
    assert refused.status_code == 400, refused.text
    assert refused.json()["parameter"] == parameter


async def test_endpoints_belong_to_their_key(client: httpx.AsyncClient, db_url: str) -> None:
    mine = await _endpoint(
        client,
        "https://partner.example/hook",
        events=["round.created"],
        filter={"investor": "lightspeed"},
    )
    assert "secret" not in (await client.get(f"/v1/webhooks/{mine['id']}")).json()
    assert mine["filter"]["investor"].startswith("org_")
    other = bearer(await create_key(db_url))
    assert (await client.get(f"/v1/webhooks/{mine['id']}", headers=other)).status_code == 404
    assert (await client.delete(f"/v1/webhooks/{mine['id']}", headers=other)).status_code == 404
    listed = await client.get("/v1/webhooks", headers=other)
    assert mine["id"] not in {e["id"] for e in listed.json()["data"]}
    reader = bearer(await create_key(db_url, scope=Scope.READ))
    assert (await client.get("/v1/webhooks", headers=reader)).status_code == 403
    admin = bearer(await create_key(db_url, scope=Scope.ADMIN))
    seen: set[str] = set()
    cursor = None
    while True:
        page = await client.get(
            "/v1/webhooks",
            headers=admin,
            params={"limit": 2, **({"cursor": cursor} if cursor else {})},
        )
        assert page.status_code == 200, page.text
        seen |= {e["id"] for e in page.json()["data"]}
        if (cursor := page.json()["next_cursor"]) is None:
            break
    assert mine["id"] in seen

    changed = await client.patch(
        f"/v1/webhooks/{mine['id']}", json={"events": ["round.deleted", "round.created"]}
    )
    assert changed.json()["events"] == ["round.created", "round.deleted"]
    assert (await client.delete(f"/v1/webhooks/{mine['id']}")).status_code == 204
    assert (await client.get(f"/v1/webhooks/{mine['id']}")).status_code == 404


async def test_a_retried_registration_gets_the_first_endpoint_and_its_secret(
    client: httpx.AsyncClient, db_url: str
) -> None:
    # A key of its own: its list holds only what this test registers.
    key = {**bearer(await create_key(db_url)), "idempotency-key": "register-hook-1"}
    body = {"url": "https://partner.example/retried", "events": ["round.created"]}
    first = await client.post("/v1/webhooks", json=body, headers=key)
    again = await client.post("/v1/webhooks", json=body, headers=key)
    assert first.status_code == again.status_code == 201, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()  # the same id, and the secret shown that once
    assert first.headers["location"] == f"/v1/webhooks/{first.json()['id']}"
    listed = await client.get("/v1/webhooks", headers=key)
    assert [e["id"] for e in listed.json()["data"]] == [first.json()["id"]]

    other = await client.post(
        "/v1/webhooks", json={**body, "url": "https://partner.example/other"}, headers=key
    )
    assert other.status_code == 422, other.text
    assert other.json()["code"] == "IDEMPOTENCY_KEY_REUSED"


async def test_a_rotated_secret_overlaps_and_a_delivery_can_be_sent_again(
    client: httpx.AsyncClient, db_url: str, receiver: Receiver
) -> None:
    round_ = await _report(client, "Rotation Co")
    endpoint = await _endpoint(
        client, receiver.url, events=["round.status_changed"], filter={"company": "rotation-co"}
    )
    rotated = await client.post(
        f"/v1/webhooks/{endpoint['id']}/rotate-secret", json={"overlap_seconds": 3600}
    )
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["secret"] != endpoint["secret"]
    assert rotated.json()["previous_secret_expires_at"] is not None
    async with running_webhooks(db_url, FAST):
        await _report(client, "Rotation Two")
        confirmed = await client.post(
            f"/v1/rounds/{round_['id']}/confirmations", json={"source": OPENAI}
        )
        assert confirmed.status_code == 200, confirmed.text
        await receiver.wait_until(lambda: len(receiver.received) == 1, what="the delivery")
        # Both the old and the new secret verify it during the overlap.
        receiver.received[0].verify(endpoint["secret"])
        receiver.received[0].verify(rotated.json()["secret"])
        [delivery] = await _deliveries(client, endpoint)
        again = await client.post(
            f"/v1/webhooks/{endpoint['id']}/deliveries/{delivery['id']}/redeliver"
        )
        assert again.status_code == 202, again.text
        await receiver.wait_until(lambda: len(receiver.received) == 2, what="the redelivery")
    first, second = receiver.received
    assert first.id == second.id == delivery["id"]
    assert first.body == second.body
    missing = await client.post(
        f"/v1/webhooks/{endpoint['id']}/deliveries/msg_{'0' * 32}/redeliver"
    )
    assert missing.status_code == 404


async def test_a_delivery_retried_past_its_window_fails(
    client: httpx.AsyncClient, db_url: str, receiver: Receiver
) -> None:
    endpoint = await _endpoint(client, receiver.url, events=["round.created"])
    receiver.status = 503
    brief = PushOptions(
        allow_private=True,
        retry_base=0.05,
        retry_cap=0.1,
        poll_interval=0.1,
        retry_window=datetime.timedelta(seconds=0.5),
    )
    async with running_webhooks(db_url, brief):
        await _report(client, "Brief Co")

        async def failed() -> bool:
            found = await _deliveries(client, endpoint)
            return bool(found) and found[0]["status"] == "failed"

        await until(failed, what="the delivery to fail")
    [delivery] = await _deliveries(client, endpoint)
    assert len(delivery["attempts"]) >= 2
    assert delivery["next_attempt_at"] is None
    assert (await client.get(f"/v1/webhooks/{endpoint['id']}")).json()["enabled"]

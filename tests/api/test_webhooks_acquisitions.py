"""acquisition.* webhook events end to end: a press report, the target's confirmation,
the closing and a denial, delivered signed to a real receiver on loopback, each with
the acquisition as GET /v1/acquisitions/{id} shows it; endpoint filters apply."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from api.push.options import PushOptions
from api.push.worker import running_webhooks
from tests.api.receiver import Receiver, receiving

FAST = PushOptions(allow_private=True, retry_base=0.05, retry_cap=0.2, poll_interval=0.1)

PRESS = {
    "publisher": "Bloomberg",
    "kind": "PRESS_ANONYMOUS",
    "language": "en",
    "published_at": "2025-06-02T08:00:00Z",
}
TARGET = {
    "publisher": "Hooked Widgets",
    "kind": "COMPANY_STATEMENT",
    "published_at": "2025-06-20T12:00:00Z",
}
CLOSING = {
    "publisher": "Hook Industries",
    "kind": "COMPANY_STATEMENT",
    "published_at": "2025-09-30T12:00:00Z",
}
DENIAL = {
    "publisher": "Denied Gadgets",
    "kind": "COMPANY_STATEMENT",
    "published_at": "2025-07-01T12:00:00Z",
}
EVENTS = [
    "acquisition.created",
    "acquisition.updated",
    "acquisition.status_changed",
    "acquisition.deleted",
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


async def _post(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = await client.post(path, json=body)
    assert answer.status_code in (200, 201), answer.text
    written: dict[str, Any] = answer.json()
    return written


async def test_an_acquisitions_story_reaches_a_receiver_signed(
    client: httpx.AsyncClient, db_url: str, receiver: Receiver
) -> None:
    everything = await _endpoint(client, receiver.url, events=EVENTS)
    confirmations = await _endpoint(
        client,
        receiver.url,
        events=["acquisition.status_changed"],
        filter={"status": "CONFIRMED"},
    )
    # Rounds' events only: no acquisition reaches it.
    await _endpoint(client, receiver.url, events=["round.created", "round.status_changed"])
    async with running_webhooks(db_url, FAST):
        made = await _post(
            client,
            "/v1/acquisition-reports",
            {
                "target": {"name": "Hooked Widgets"},
                "lead_acquirer": {"name": "Hook Industries"},
                "stage": "IN_TALKS",
                "price": {"qualifier": "ABOUT", "low": {"amount": "2000000", "currency": "USD"}},
                "source": PRESS,
                "quote": "Hook Industries is in talks to buy Hooked Widgets",
            },
        )
        path = f"/v1/acquisitions/{made['id']}/confirmations"
        await _post(client, path, {"source": TARGET, "stage": "ANNOUNCED"})
        closed = await _post(
            client, path, {"source": CLOSING, "stage": "CLOSED", "closed_on": "2025-09-30"}
        )
        other = await _post(
            client,
            "/v1/acquisition-reports",
            {
                "target": {"name": "Denied Gadgets"},
                "lead_acquirer": {"name": "Hook Industries"},
                "stage": "IN_TALKS",
                "source": PRESS,
            },
        )
        await _post(client, f"/v1/acquisitions/{other['id']}/denials", {"source": DENIAL})
        await receiver.wait_until(
            lambda: any(
                e["type"] == "acquisition.status_changed" and e["data"]["status"] == "DENIED"
                for e in receiver.events()
            ),
            what="the denial",
        )
        await receiver.wait_until(
            lambda: sum(e["type"] == "acquisition.status_changed" for e in receiver.events()) >= 5,
            what="the confirmations' copies",
        )

    by_endpoint: dict[str, list[dict[str, Any]]] = {}
    for endpoint in (everything, confirmations):
        by_endpoint[endpoint["id"]] = []
        for delivery in receiver.received:
            try:
                by_endpoint[endpoint["id"]].append(delivery.verify(endpoint["secret"]))
            except Exception:  # signed for another endpoint
                continue
    assert all(e["type"].startswith("acquisition.") for e in receiver.events())

    story = [e for e in by_endpoint[everything["id"]] if e["data"]["id"] == made["id"]]
    assert story[0]["type"] == "acquisition.created"
    assert story[0]["data"]["status"] == "REPORTED"
    changes = [
        (
            d["previous_status"],
            d["previous_stage"],
            d["status"],
            d["stage"],
            d["source"]["publisher"],
        )
        for e in story
        if e["type"] == "acquisition.status_changed"
        for d in [e["data"]]
    ]
    assert changes == [
        ("REPORTED", "IN_TALKS", "CONFIRMED", "ANNOUNCED", "Hooked Widgets"),
        ("CONFIRMED", "ANNOUNCED", "CONFIRMED", "CLOSED", "Hook Industries"),
    ]
    last = story[-1]["data"]
    assert last["claim_id"].startswith("clm_")
    # The payload carries the acquisition as the API shows it: no second call needed.
    assert last["acquisition"]["id"] == made["id"]
    assert last["acquisition"]["target"]["slug"] == "hooked-widgets"
    assert last["acquisition"]["lead_acquirer"]["slug"] == "hook-industries"
    assert last["acquisition"]["closed_on"] == closed["closed_on"] == "2025-09-30"
    assert [h["stage"] for h in last["acquisition"]["history"]] == [
        "IN_TALKS",
        "ANNOUNCED",
        "CLOSED",
    ]
    [denied] = [
        e
        for e in by_endpoint[everything["id"]]
        if e["type"] == "acquisition.status_changed" and e["data"]["id"] == other["id"]
    ]
    assert (denied["data"]["previous_status"], denied["data"]["status"]) == ("REPORTED", "DENIED")

    # The filtered endpoint has the two changes that left it confirmed, nothing else.
    assert [(e["type"], e["data"]["stage"]) for e in by_endpoint[confirmations["id"]]] == [
        ("acquisition.status_changed", "ANNOUNCED"),
        ("acquisition.status_changed", "CLOSED"),
    ]


async def test_acquisition_events_follow_the_company_and_investor_filters(
    client: httpx.AsyncClient, db_url: str, receiver: Receiver
) -> None:
    """An acquisition's target is its company, its acquirers its investors."""
    first = await _post(
        client,
        "/v1/acquisition-reports",
        {
            "target": {"name": "Filter Target"},
            "lead_acquirer": {"name": "Filter Buyer"},
            "stage": "IN_TALKS",
            "source": PRESS,
        },
    )
    target, buyer = first["target"]["slug"], first["lead_acquirer"]["slug"]
    by_target = await _endpoint(
        client, receiver.url, events=["acquisition.status_changed"], filter={"company": target}
    )
    by_buyer = await _endpoint(
        client, receiver.url, events=["acquisition.status_changed"], filter={"investor": buyer}
    )
    by_other = await _endpoint(
        client,
        receiver.url,
        events=["acquisition.status_changed"],
        filter={"company": buyer},
    )
    async with running_webhooks(db_url, FAST):
        await _post(
            client,
            f"/v1/acquisitions/{first['id']}/confirmations",
            {"source": {**TARGET, "publisher": "Filter Target"}, "stage": "ANNOUNCED"},
        )
        await receiver.wait_until(lambda: len(receiver.received) >= 2, what="two deliveries")

    def got(endpoint: dict[str, Any]) -> int:
        n = 0
        for delivery in receiver.received:
            try:
                delivery.verify(endpoint["secret"])
            except Exception:  # signed for another endpoint
                continue
            n += 1
        return n

    assert (got(by_target), got(by_buyer), got(by_other)) == (1, 1, 0)

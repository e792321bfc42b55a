"""The acquisition routes: writes with their answers, lists with filters, sorts and
cursors, and refusals naming what is wrong."""

from typing import Any

import httpx
import pytest

PRESS = {
    "publisher": "Reuters",
    "kind": "PRESS_ON_RECORD",
    "published_at": "2024-05-01T09:00:00Z",
}
BUYER_STATEMENT = {
    "publisher": "Megacorp",
    "kind": "COMPANY_STATEMENT",
    "published_at": "2024-05-10T09:00:00Z",
}


def _usd(amount: int) -> dict[str, Any]:
    return {"qualifier": "EXACT", "low": {"amount": str(amount), "currency": "USD"}}


@pytest.fixture(scope="module")
async def written(client: httpx.AsyncClient) -> dict[str, Any]:
    """Three acquisitions by Megacorp, one with a partner, at three prices (one undisclosed)."""
    answers = {}
    for target, price, announced in (
        ("Alpha Soft", 300_000_000, "2024-03-01"),
        ("Beta Labs", 50_000_000, "2024-04-01"),
        ("Gamma AI", None, "2024-05-01"),
    ):
        body: dict[str, Any] = {
            "target": {"name": target},
            "lead_acquirer": {"name": "Megacorp"},
            "stage": "ANNOUNCED",
            "announced_on": announced,
            "source": PRESS,
        }
        if price is not None:
            body["price"] = _usd(price)
        if target == "Alpha Soft":
            body |= {"other_acquirers": [{"name": "Partner Capital"}], "terms": "MIXED"}
            body["percent_acquired"] = "75.5"
        answer = await client.post(
            "/v1/acquisition-reports", json=body, headers={"Idempotency-Key": f"k-{target}"}
        )
        assert answer.status_code == 201, answer.text
        answers[target] = answer
    return answers


async def test_a_report_answers_the_new_acquisition_where_it_lives(
    client: httpx.AsyncClient, written: dict[str, Any]
) -> None:
    answer = written["Alpha Soft"]
    body = answer.json()
    assert answer.headers["location"] == f"/v1/acquisitions/{body['id']}"
    assert answer.headers["write-position"]
    assert body["lead_acquirer"]["slug"] == "megacorp"
    assert [a["slug"] for a in body["acquirers"]] == ["megacorp", "partner-capital"]
    assert (body["terms"], body["percent_acquired"]) == ("MIXED", "75.5")
    assert (body["status"], body["stage"]) == ("REPORTED", "ANNOUNCED")
    again = await client.get(answer.headers["location"])
    assert again.status_code == 200
    assert again.json() == body


async def test_a_retry_with_the_same_key_is_answered_from_store(
    client: httpx.AsyncClient, written: dict[str, Any]
) -> None:
    before = (await client.get("/v1/acquisitions")).json()
    replay = await client.post(
        "/v1/acquisition-reports",
        json={
            "target": {"name": "Beta Labs"},
            "lead_acquirer": {"name": "Megacorp"},
            "stage": "ANNOUNCED",
            "announced_on": "2024-04-01",
            "source": PRESS,
            "price": _usd(50_000_000),
        },
        headers={"Idempotency-Key": "k-Beta Labs"},
    )
    assert replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    assert (await client.get("/v1/acquisitions")).json() == before


async def test_a_confirmation_with_a_price_and_a_closing(
    client: httpx.AsyncClient, written: dict[str, Any]
) -> None:
    acquisition_id = written["Beta Labs"].json()["id"]
    answer = await client.post(
        f"/v1/acquisitions/{acquisition_id}/confirmations",
        json={
            "source": BUYER_STATEMENT,
            "stage": "CLOSED",
            "closed_on": "2024-05-09",
            "price": _usd(55_000_000),
            "quote": "Megacorp has completed the acquisition of Beta Labs.",
        },
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["status"], body["stage"], body["closed_on"]) == (
        "CONFIRMED",
        "CLOSED",
        "2024-05-09",
    )
    assert body["price"]["usd"] == "55000000"
    assert [c["closed_on"] for c in body["claims"]] == [None, "2024-05-09"]
    assert [h["stage"] for h in body["history"]] == ["ANNOUNCED", "CLOSED"]


async def test_lists_sort_filter_and_page(
    client: httpx.AsyncClient, written: dict[str, Any]
) -> None:
    async def targets(**params: Any) -> list[str]:
        answer = await client.get("/v1/acquisitions", params=params)
        assert answer.status_code == 200, answer.text
        return [a["target"]["slug"] for a in answer.json()["data"]]

    assert await targets() == ["gamma-ai", "beta-labs", "alpha-soft"]
    assert await targets(sort="announced_on") == ["alpha-soft", "beta-labs", "gamma-ai"]
    # Undisclosed prices last in either direction.
    assert await targets(sort="-price_usd") == ["alpha-soft", "beta-labs", "gamma-ai"]
    assert await targets(sort="price_usd") == ["beta-labs", "alpha-soft", "gamma-ai"]
    assert await targets(min_price_usd="100000000") == ["alpha-soft"]
    assert await targets(acquirer="partner-capital") == ["alpha-soft"]
    assert await targets(target="gamma-ai", stage="ANNOUNCED") == ["gamma-ai"]
    assert await targets(announced_from="2024-03-15", announced_to="2024-04-15") == ["beta-labs"]
    assert await targets(status="CONFIRMED,DENIED") == ["beta-labs"]

    first = (await client.get("/v1/acquisitions", params={"limit": 2})).json()
    assert len(first["data"]) == 2
    rest = (
        await client.get("/v1/acquisitions", params={"limit": 2, "cursor": first["next_cursor"]})
    ).json()
    assert [a["target"]["slug"] for a in rest["data"]] == ["alpha-soft"]
    assert rest["next_cursor"] is None
    other_sort = await client.get(
        "/v1/acquisitions", params={"sort": "price_usd", "cursor": first["next_cursor"]}
    )
    assert (other_sort.status_code, other_sort.json()["parameter"]) == (400, "cursor")


@pytest.mark.parametrize(
    ("path", "params", "status", "parameter"),
    [
        ("/v1/acquisitions", {"acquirer": "nobody-at-all"}, 400, "acquirer"),
        ("/v1/acquisitions", {"target": "org_" + "0" * 32}, 400, "target"),
        ("/v1/acquisitions", {"status": "RUMOURED"}, 400, "status"),
        ("/v1/acquisitions", {"sort": "price"}, 400, "sort"),
        ("/v1/acquisitions", {"announced_from": "2024-05-01", "announced_to": "2024-01-01"}, 400,
         "announced_from"),
        ("/v1/acquisitions", {"company": "megacorp"}, 400, "company"),
        ("/v1/acquisitions/acq_" + "0" * 32, {}, 404, "id"),
        ("/v1/acquisitions/rnd_" + "0" * 32, {}, 404, "id"),
    ],
)  # fmt: skip
async def test_refusals_name_the_parameter(
    client: httpx.AsyncClient, path: str, params: dict[str, str], status: int, parameter: str
) -> None:
    answer = await client.get(path, params=params)
    assert answer.status_code == status, answer.text
    assert answer.json()["parameter"] == parameter


@pytest.mark.parametrize(
    ("body", "status", "parameter"),
    [
        ({"percent_acquired": "0"}, 400, "percent_acquired"),
        ({"percent_acquired": "150"}, 400, "percent_acquired"),
        ({"closed_on": "2024-01-01"}, 400, "closed_on"),
        ({"lead_acquirer": {"slug": "nobody-at-all"}}, 400, "lead_acquirer.slug"),
        ({"other_acquirers": [{"name": "Target Co"}]}, 400, "other_acquirers.0"),
        ({"terms": "BARTER"}, 400, "terms"),
    ],
)
async def test_bad_reports_are_refused_and_write_nothing(
    client: httpx.AsyncClient, body: dict[str, Any], status: int, parameter: str
) -> None:
    before = (await client.get("/v1/acquisitions", params={"limit": 100})).json()
    base = {
        "target": {"name": "Target Co"},
        "lead_acquirer": {"name": "Buyer Co"},
        "stage": "IN_TALKS",
        "source": PRESS,
    }
    answer = await client.post("/v1/acquisition-reports", json={**base, **body})
    assert answer.status_code == status, answer.text
    assert answer.json()["parameter"] == parameter
    assert (await client.get("/v1/acquisitions", params={"limit": 100})).json() == before


async def test_a_statement_on_an_unknown_acquisition_is_a_404(client: httpx.AsyncClient) -> None:
    for path in ("/v1/acquisitions/acq_" + "0" * 32, "/v1/acquisitions/rnd_" + "0" * 32):
        answer = await client.post(f"{path}/denials", json={"source": BUYER_STATEMENT})
        assert answer.status_code == 404, answer.text
        assert answer.json()["parameter"] == "id"

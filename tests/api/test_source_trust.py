"""Who may record which kind of source, and what a source is (issue 14, items 7 and 8).

Before: any write key could make a round CONFIRMED by posting a COMPANY_STATEMENT; a
source was known by its URL alone, so the first writer's kind, publisher and date held
for every later claim citing it; and a statement dated tomorrow outranked the company's
real denial, being "newer" (now refused: a publication time more than 5 minutes ahead).
"""

import datetime
from typing import Any

import httpx
import pytest

from db.access.keys import DEFAULT_SOURCE_KINDS
from db.infra.types import Pool
from db.seed import seed
from tests.conftest import bearer, create_key
from tests.graphql import graphql

REUTERS = "https://www.reuters.com/technology/trust-2026-11-30/"


def _source(kind: str, publisher: str, *, url: str | None = None, at: str | None = None) -> Any:
    published = at or (datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1))
    return {
        "kind": kind,
        "publisher": publisher,
        "published_at": published if isinstance(published, str) else published.isoformat(),
        **({"url": url} if url else {}),
    }


@pytest.fixture(scope="module", autouse=True)
async def data(pool: Pool) -> None:
    async with pool.acquire() as conn:
        await seed(conn)


@pytest.fixture(scope="module")
async def press(db_url: str) -> dict[str, str]:
    """A partner's key as `dealgraph keys create` makes it: press and vendor data."""
    return bearer(await create_key(db_url, source_kinds=DEFAULT_SOURCE_KINDS))


async def _round(client: httpx.AsyncClient, company: str) -> str:
    created = await client.post(
        "/v1/reports",
        json={
            "company": {"name": company},
            "round_type": "SERIES_A",
            "stage": "IN_TALKS",
            "source": _source("PRESS_ANONYMOUS", "The Paper"),
        },
    )
    assert created.status_code == 201, created.text
    round_id: str = created.json()["id"]
    return round_id


async def test_a_press_key_may_not_record_a_partys_statement(
    client: httpx.AsyncClient, press: dict[str, str]
) -> None:
    round_id = await _round(client, "Trust Co")
    confirmed = await client.post(
        f"/v1/rounds/{round_id}/confirmations",
        json={"source": _source("COMPANY_STATEMENT", "Trust Co")},
        headers=press,
    )
    assert confirmed.status_code == 403, confirmed.text
    problem = confirmed.json()
    assert (problem["code"], problem["parameter"]) == ("FORBIDDEN", "source.kind")
    assert "COMPANY_STATEMENT" in problem["detail"]
    answer = await graphql(
        client.__class__(transport=client._transport, base_url=client.base_url, headers=press),
        """mutation($id: ID!, $at: DateTime!) {
          roundConfirm(input: {roundId: $id, source: {publisher: "Trust Co",
                       publishedAt: $at, kind: INVESTOR_STATEMENT}}) {
            round { status } userErrors { field code message } } }""",
        {"id": round_id, "at": _source("X", "X")["published_at"]},
    )
    [error] = answer["data"]["roundConfirm"]["userErrors"]
    assert (error["code"], error["field"]) == ("FORBIDDEN", ["input", "source", "kind"])
    assert "INVESTOR_STATEMENT" in error["message"]
    # Nothing was recorded; the press may still report.
    current = await client.get(f"/v1/rounds/{round_id}")
    assert current.json()["status"] == "REPORTED"
    reported = await client.post(
        "/v1/reports",
        json={
            "company": {"name": "Trust Co"},
            "round_type": "SERIES_A",
            "stage": "IN_TALKS",
            "source": _source("PRESS_ON_RECORD", "Another Paper"),
        },
        headers=press,
    )
    assert reported.status_code in (200, 201), reported.text


async def test_a_source_is_one_document(client: httpx.AsyncClient, press: dict[str, str]) -> None:
    round_id = await _round(client, "Poison Co")
    # A writer registers Reuters' article as a company statement dated tomorrow.
    tomorrow = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
    poisoned = await client.post(
        f"/v1/rounds/{round_id}/confirmations",
        json={
            "source": _source("COMPANY_STATEMENT", "Reuters", url=REUTERS, at=tomorrow.isoformat())
        },
    )
    assert poisoned.status_code == 400, poisoned.text
    assert poisoned.json()["parameter"] == "source.published_at"
    # Recorded as what it is, it stays that: others cite it as it is, or not at all.
    first = await client.post(
        "/v1/reports",
        json={
            "company": {"name": "Poison Co"},
            "round_type": "SERIES_A",
            "stage": "IN_TALKS",
            "source": _source("PRESS_ON_RECORD", "Reuters", url=REUTERS),
        },
        headers=press,
    )
    assert first.status_code == 200, first.text
    for changed, field in (
        (_source("COMPANY_STATEMENT", "Reuters", url=REUTERS), "source.kind"),
        (_source("PRESS_ON_RECORD", "Poison Co", url=REUTERS), "source.publisher"),
        (
            _source("PRESS_ON_RECORD", "Reuters", url=REUTERS, at="2020-01-01T00:00:00Z"),
            "source.published_at",
        ),
    ):
        refused = await client.post(
            f"/v1/rounds/{round_id}/confirmations", json={"source": changed}
        )
        assert refused.status_code == 409, refused.text
        assert (refused.json()["code"], refused.json()["parameter"]) == ("SOURCE_MISMATCH", field)
    again = await client.post(
        "/v1/reports",
        json={
            "company": {"name": "Poison Co"},
            "round_type": "SERIES_A",
            "stage": "IN_TALKS",
            "source": _source("PRESS_ON_RECORD", "REUTERS", url=REUTERS),
        },
        headers=press,
    )
    assert again.status_code == 200, again.text

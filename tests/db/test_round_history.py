"""round_history (migration 0021) gives, at every moment, what derive() gives.

As-of lists read stored versions instead of deriving every round of the database again
(issue 14, item 2). This compares them, at every time a claim was recorded and just
before, with the rule of migration 0005 applied to every round, after a story of
writes through the HTTP app: reports, confirmations, denials, and a source whose date is
changed afterwards.
"""

import datetime
from typing import Any

import httpx
import pytest

from db.infra.types import Pool
from db.seed import seed

# Migration 0005's rounds_as_of(), the rule applied to every round: the reference.
DERIVED = """
    select r.id, coalesce(d.status, r.status) as status, coalesce(d.stage, r.stage) as stage,
           d.announced_on, d.amount, d.pre_money_valuation, d.post_money_valuation,
           d.expected_close_on, (d.amount).usd as amount_usd
    from rounds r cross join lateral derive(r.id, null, $1) d
    where d.known
"""
STORED = """
    select id, status, stage, announced_on, amount, pre_money_valuation, post_money_valuation,
           expected_close_on, amount_usd
    from rounds_as_of($1)
"""
SOURCE = {
    "publisher": "The Paper",
    "kind": "PRESS_ANONYMOUS",
    "published_at": "2026-01-29T22:00:00Z",
}


def _money(amount: int) -> dict[str, Any]:
    return {"qualifier": "EXACT", "low": {"amount": str(amount), "currency": "USD"}}


@pytest.fixture(scope="module", autouse=True)
async def story(pool: Pool, client: httpx.AsyncClient) -> None:
    async with pool.acquire() as conn:
        await seed(conn)
    ids = []
    for n in range(3):
        created = await client.post(
            "/v1/reports",
            json={
                "company": {"name": f"History Co {n}"},
                "round_type": "SEED",
                "stage": "IN_TALKS",
                "announced_on": f"2025-0{n + 1}-15",
                "amount": _money(1000 * (n + 1)),
                "source": {**SOURCE, "url": f"https://example.com/history/{n}"},
            },
        )
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    statement = {"publisher": "History Co", "published_at": "2026-02-01T00:00:00Z"}
    confirmed = await client.post(
        f"/v1/rounds/{ids[0]}/confirmations",
        json={"source": {**statement, "kind": "COMPANY_STATEMENT"}, "amount": _money(5000)},
    )
    assert confirmed.status_code == 200, confirmed.text
    denied = await client.post(
        f"/v1/rounds/{ids[1]}/denials", json={"source": {**statement, "kind": "COMPANY_STATEMENT"}}
    )
    assert denied.status_code == 200, denied.text
    # A later report on the first round, then its source dated before the statement.
    again = await client.post(
        "/v1/reports",
        json={
            "company": {"name": "History Co 0"},
            "round_type": "SEED",
            "stage": "CLOSED",
            "announced_on": "2025-01-15",
            "source": {**SOURCE, "url": "https://example.com/history/later"},
        },
    )
    assert again.status_code in (200, 201), again.text
    await pool.execute(
        "update sources set published_at = published_at - interval '1 year'"
        " where url = 'https://example.com/history/later'"
    )


async def test_stored_versions_agree_with_the_rule_at_every_moment(pool: Pool) -> None:
    times = await pool.fetch("select distinct recorded_at from claims order by 1")
    assert len(times) > 3
    moments: list[datetime.datetime] = []
    for t in times:
        moments += [t[0] - datetime.timedelta(microseconds=1), t[0]]
    moments.append(datetime.datetime.now(datetime.UTC))
    for moment in moments:
        derived = {tuple(r) for r in await pool.fetch(DERIVED, moment)}
        stored = {tuple(r) for r in await pool.fetch(STORED, moment)}
        assert stored == derived, moment


async def test_as_of_lists_read_the_versions_in_index_order(pool: Pool) -> None:
    # A page of an as-of list reads the sort key's index: it derives no round.
    plan = await pool.fetchval(
        "explain (format json) select id from rounds_as_of(now()) r"
        " order by coalesce(r.announced_on, '-infinity'::date) desc, r.id desc limit 2"
    )
    assert "derive" not in plan
    assert "round_history" in plan

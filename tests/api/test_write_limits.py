"""Writes a hostile partner could make expensive or break (issue 14, items 9 and 10)."""

import datetime
from typing import Any

import httpx

from db.infra.types import Pool
from db.reports import (
    MAX_PARTICIPATIONS,
    WRITE_DEADLINE_MS,
    EntityRef,
    RoundReport,
    SourceInput,
    report_round,
)
from tests.graphql import graphql_data

SOURCE = {
    "publisher": "Hostile Partner",
    "kind": "PRESS_ANONYMOUS",
    "publishedAt": "2026-01-29T22:00:00Z",
}
MUTATION = """
mutation ($input: RoundReportInput!) {
  roundReport(input: $input) {
    round { id company { slug } participations { isLead } }
    userErrors { message field code }
  }
}
"""


def _input(company: str, investors: int) -> dict[str, Any]:
    return {
        "company": {"name": company},
        "roundType": "SEED",
        "stage": "ANNOUNCED",
        "source": SOURCE,
        "participations": [
            {"investor": {"name": f"{company} backer {n}"}} for n in range(investors)
        ],
    }


async def test_graphql_caps_participations_as_rest_does(client: httpx.AsyncClient) -> None:
    data = await graphql_data(client, MUTATION, {"input": _input("Flood Co", 1000)})
    payload = data["roundReport"]
    assert payload["round"] is None
    assert payload["userErrors"] == [
        {
            "message": f"a report names at most {MAX_PARTICIPATIONS} participations",
            "field": ["input", "participations"],
            "code": "BAD_USER_INPUT",
        }
    ]
    rest = await client.post(
        "/v1/reports",
        json={
            "company": {"name": "Flood Co"},
            "round_type": "SEED",
            "stage": "ANNOUNCED",
            "source": {
                "publisher": SOURCE["publisher"],
                "kind": SOURCE["kind"],
                "published_at": SOURCE["publishedAt"],
            },
            "participations": [{"investor": {"name": f"b{n}"}} for n in range(101)],
        },
    )
    assert rest.status_code == 400
    assert "participations" in rest.text


async def test_a_full_report_is_taken_in_one_piece(client: httpx.AsyncClient) -> None:
    data = await graphql_data(client, MUTATION, {"input": _input("Full Co", MAX_PARTICIPATIONS)})
    payload = data["roundReport"]
    assert payload["userErrors"] == []
    assert len(payload["round"]["participations"]) == MAX_PARTICIPATIONS


async def test_a_write_runs_under_its_deadline(pool: Pool) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await report_round(
            conn,
            RoundReport(
                company=EntityRef(name="Deadline Co"),
                round_type="SEED",
                stage="ANNOUNCED",
                source=SourceInput(
                    publisher="X",
                    kind="PRESS_ANONYMOUS",
                    published_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
                ),
            ),
            api_key_id=None,
        )
        assert await conn.fetchval("show statement_timeout") == f"{WRITE_DEADLINE_MS // 1000}s"


async def test_a_slug_base_taken_a_thousand_times_is_no_500(
    client: httpx.AsyncClient, pool: Pool
) -> None:
    await pool.execute(
        """
        insert into organizations (slug, name)
        select case when n = 1 then 'squat' else 'squat-' || n end, 'Squatted name ' || n
        from generate_series(1, 1000) n
        """
    )
    data = await graphql_data(client, MUTATION, {"input": _input("Squat", 0)})
    payload = data["roundReport"]
    assert payload["userErrors"] == []
    slug = payload["round"]["company"]["slug"]
    assert slug.startswith("squat-")
    assert slug not in {f"squat-{n}" for n in range(2, 1001)}

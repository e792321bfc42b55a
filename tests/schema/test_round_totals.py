"""A list's totalCount stays the number of rounds it pages through while rounds are
added, change status, stage or type, and go: counts on status, stage and type alone are
read from the totals the rounds' triggers keep (migration 0130), the others from the
rounds themselves, and both must say the same."""

import datetime
from typing import Any

import httpx
import pytest

from db.infra.types import Pool
from db.rounds import RoundFilter, count_rounds
from tests.graphql import graphql_data

TOTAL = """
query ($filter: RoundFilter) { rounds(first: 1, filter: $filter) { totalCount } }
"""

FILTERS: list[dict[str, Any]] = [
    {},
    {"status": ["REPORTED", "CONFIRMED"]},
    {"status": ["DENIED"]},
    {"stage": ["CLOSED"]},
    {"roundType": ["SEED", "SERIES_A"]},
    {"status": ["CONFIRMED"], "stage": ["ANNOUNCED", "CLOSED"], "roundType": ["SERIES_A"]},
    {"status": ["REPORTED"], "announcedFrom": "2010-01-01"},
]


@pytest.fixture(scope="module", autouse=True)
async def company(pool: Pool) -> None:
    await pool.execute("insert into organizations (slug, name) values ('totals', 'Totals Co')")


async def _counted_in_rounds(pool: Pool, f: dict[str, Any]) -> int:
    count: int = await pool.fetchval(
        """
        select count(*) from rounds r
        where ($1::deal_status[] is null or r.status = any($1))
          and ($2::deal_stage[] is null or r.stage = any($2))
          and ($3::round_type[] is null or r.round_type = any($3))
          and ($4::date is null or r.announced_on >= $4::date)
        """,
        f.get("status"),
        f.get("stage"),
        f.get("roundType"),
        None if "announcedFrom" not in f else datetime.date.fromisoformat(f["announcedFrom"]),
    )
    return count


async def _assert_totals(client: httpx.AsyncClient, pool: Pool) -> None:
    for f in FILTERS:
        expected = await _counted_in_rounds(pool, f)
        answer = await graphql_data(client, TOTAL, {"filter": f})
        assert answer["rounds"]["totalCount"] == expected, f
    resolved = await count_rounds(
        pool, filter=RoundFilter(statuses=["REPORTED", "CONFIRMED"], stages=["CLOSED"])
    )
    assert resolved == await _counted_in_rounds(
        pool, {"status": ["REPORTED", "CONFIRMED"], "stage": ["CLOSED"]}
    )


async def test_totals_follow_inserts_updates_and_deletes(
    client: httpx.AsyncClient, pool: Pool
) -> None:
    await _assert_totals(client, pool)
    # Many rounds in one statement, of every status, stage and a few types.
    await pool.execute(
        """
        insert into rounds (company_id, round_type, status, stage, announced_on,
                            announced_precision)
        select (select id from organizations where slug = 'totals'),
               (array['SEED', 'SERIES_A', 'SERIES_B'])[1 + i % 3]::round_type,
               (array['REPORTED', 'CONFIRMED', 'DENIED', 'RETRACTED'])[1 + i % 4]::deal_status,
               (array['IN_TALKS', 'ANNOUNCED', 'CLOSED'])[1 + i % 5 % 3]::deal_stage,
               date '2008-01-01' + i * 7, 'DAY'
        from generate_series(1, 500) as i
        """
    )
    await _assert_totals(client, pool)
    # Some change status, some change only what is not counted (the amount of news).
    await pool.execute(
        "update rounds set status = 'CONFIRMED' where status = 'REPORTED' and round_type = 'SEED'"
    )
    await pool.execute("update rounds set reported_label = 'relabelled' where stage = 'CLOSED'")
    await pool.execute(
        "update rounds set stage = 'ABANDONED', round_type = 'SERIES_C'"
        " where status = 'DENIED' and announced_on < date '2012-01-01'"
    )
    await _assert_totals(client, pool)
    await pool.execute("delete from rounds where round_type = 'SERIES_B' and status = 'CONFIRMED'")
    await _assert_totals(client, pool)


async def test_a_rolled_back_write_leaves_the_totals(client: httpx.AsyncClient, pool: Pool) -> None:
    async with pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        await conn.execute("update rounds set status = 'RETRACTED'")
        await conn.execute("delete from rounds where stage = 'IN_TALKS'")
        await transaction.rollback()
    await _assert_totals(client, pool)

"""refresh_rounds (migration 0095): many rounds refreshed in one statement store what the
rule (derive(), migrations 0005 and 0080) gives for each, and write each status event
that refresh_round wrote for one round at a time."""

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from db.infra.types import Connection

# Three sources: a party's statement (dated before the press, yet it outranks it), the
# press, and a vendor without a date (its claims are said when recorded).
SOURCES = """
insert into sources (id, publisher, kind, published_at) values
    ($1, 'Acme', 'COMPANY_STATEMENT', '2025-12-01'),
    ($2, 'The Paper', 'PRESS_ANONYMOUS', '2026-01-10'),
    ($3, 'Vendor', 'DATA_VENDOR', null)
"""
# A value no claim gives stays as stored.
MISMATCHES = """
select
    (select count(*) from rounds r cross join lateral derive(r.id, null, null) d
     where d.known
       and (coalesce(d.status, r.status), coalesce(d.stage, r.stage),
            coalesce(d.amount, r.amount), coalesce(d.announced_on, r.announced_on))
           is distinct from (r.status, r.stage, r.amount, r.announced_on)),
    (select count(*) from participations p cross join lateral derive(p.round_id, p.id, null) d
     where d.known
       and (coalesce(d.status, p.status), coalesce(d.stage, p.stage),
            coalesce(d.amount, p.amount), coalesce(d.is_lead, p.is_lead))
           is distinct from (p.status, p.stage, p.amount, p.is_lead))
"""


def _money(usd: int) -> tuple[str, str, int, int, int]:
    return ("EXACT", "USD", usd, usd, usd)


@pytest.fixture
async def conn(fresh_db_url: str) -> AsyncIterator[Connection]:
    connection = await asyncpg.connect(fresh_db_url)
    try:
        yield connection
    finally:
        await connection.close()


async def _org(conn: Connection, name: str) -> uuid.UUID:
    found = await conn.fetchval(
        "insert into organizations (slug, name) values ($1, $2) returning id",
        name.lower().replace(" ", "-"),
        name,
    )
    assert isinstance(found, uuid.UUID)
    return found


async def _round(conn: Connection, company: uuid.UUID) -> uuid.UUID:
    found = await conn.fetchval(
        "insert into rounds (company_id, round_type, status, stage) "
        "values ($1, 'SEED', 'REPORTED', 'ANNOUNCED') returning id",
        company,
    )
    assert isinstance(found, uuid.UUID)
    return found


async def _participation(conn: Connection, round_id: uuid.UUID, investor: uuid.UUID) -> uuid.UUID:
    found = await conn.fetchval(
        "insert into participations (round_id, investor_organization_id, status, stage) "
        "values ($1, $2, 'REPORTED', 'ANNOUNCED') returning id",
        round_id,
        investor,
    )
    assert isinstance(found, uuid.UUID)
    return found


async def _claim(
    conn: Connection,
    source: uuid.UUID,
    round_id: uuid.UUID,
    *,
    participation: uuid.UUID | None = None,
    status: str | None = None,
    stage: str | None = None,
    usd: int | None = None,
    is_lead: bool | None = None,
) -> uuid.UUID:
    found = await conn.fetchval(
        "insert into claims (source_id, round_id, participation_id, status, stage, amount, "
        "is_lead) values ($1, $2, $3, $4, $5, $6, $7) returning id",
        source,
        round_id,
        participation,
        status,
        stage,
        _money(usd) if usd is not None else None,
        is_lead,
    )
    assert isinstance(found, uuid.UUID)
    return found


async def test_rounds_refreshed_together_are_what_their_claims_derive(conn: Connection) -> None:
    statement, press, vendor = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await conn.execute(SOURCES, statement, press, vendor)
    company, first, second = [await _org(conn, n) for n in ("Acme", "Fund One", "Fund Two")]
    confirmed, reported, investors_only, untouched = [await _round(conn, company) for _ in "abcd"]
    lead = await _participation(conn, confirmed, first)
    quiet = await _participation(conn, investors_only, second)
    # The press says closed at 10M; the company, earlier, confirms without an amount.
    await _claim(conn, press, confirmed, status="REPORTED", stage="CLOSED", usd=10_000_000)
    deciding = await _claim(conn, statement, confirmed, status="CONFIRMED")
    await _claim(conn, vendor, confirmed, participation=lead, usd=2_000_000, is_lead=True)
    # Two reports of equal rank: the one said last wins each value it gives.
    await _claim(conn, press, reported, status="REPORTED", stage="ANNOUNCED", usd=3_000_000)
    latest = await _claim(conn, vendor, reported, status="REPORTED", stage="IN_TALKS")
    # Claims about an investor only: the round as a whole is left as it is.
    await _claim(conn, vendor, investors_only, participation=quiet, stage="CLOSED")

    await conn.execute(
        "select refresh_rounds($1, null)", [confirmed, reported, investors_only, untouched]
    )

    assert tuple(await conn.fetchrow(MISMATCHES) or ()) == (0, 0)
    shown = {
        r["id"]: (r["status"], r["stage"], r["usd"])
        for r in await conn.fetch("select id, status, stage, (amount).usd as usd from rounds")
    }
    assert shown == {
        confirmed: ("CONFIRMED", "CLOSED", 10_000_000),
        reported: ("REPORTED", "IN_TALKS", 3_000_000),
        investors_only: ("REPORTED", "ANNOUNCED", None),
        untouched: ("REPORTED", "ANNOUNCED", None),
    }
    events = {
        (r["round_id"], r["participation_id"]): (r["status"], r["stage"], r["claim_id"])
        for r in await conn.fetch(
            "select round_id, participation_id, status, stage, claim_id from status_events"
        )
    }
    participation_claims = {
        r["participation_id"]: r["id"]
        for r in await conn.fetch(
            "select participation_id, id from claims where participation_id is not null"
        )
    }
    assert events == {
        (confirmed, None): ("CONFIRMED", "CLOSED", deciding),
        (reported, None): ("REPORTED", "IN_TALKS", latest),
        (confirmed, lead): ("REPORTED", "ANNOUNCED", None),
        (investors_only, quiet): ("REPORTED", "CLOSED", participation_claims[quiet]),
    }
    assert await conn.fetchval(
        "select (amount).usd = 2000000 and is_lead from participations where id = $1", lead
    )

    # Nothing changed since: refreshing again writes nothing.
    before = await conn.fetchval("select count(*) from changes")
    await conn.execute(
        "select refresh_rounds($1, null)", [confirmed, reported, investors_only, untouched]
    )
    assert await conn.fetchval("select count(*) from changes") == before
    assert await conn.fetchval("select count(*) from status_events") == len(events)

    # A denial by the company ends the report: one event, on that round only.
    denial = await _claim(conn, statement, reported, status="DENIED")
    await conn.execute("select refresh_round($1, null)", reported)
    assert await conn.fetchval("select status from rounds where id = $1", reported) == "DENIED"
    assert (
        await conn.fetchval("select count(*) from status_events where claim_id = $1", denial) == 1
    )
    assert await conn.fetchval("select count(*) from status_events") == len(events) + 1

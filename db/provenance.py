"""Provenance of deal facts (rounds and acquisitions): sources, the claims they make,
negotiators, status events."""

import uuid

from db.infra.batch import many_per_key, one_per_key
from db.infra.types import Executor
from db.rows import Claim, Negotiator, Source, StatusEvent

_CLAIM_SELECT = """
    select id, source_id, round_id, acquisition_id, participation_id, quote, attribution,
           status, stage, amount, pre_money_valuation, post_money_valuation,
           expected_close_on, expected_close_precision, announced_on, announced_precision,
           is_lead, usd_rate, usd_rate_date, recorded_at, closed_on, terms, percent_acquired
    from claims
"""


async def list_sources_by_ids(db: Executor, ids: list[uuid.UUID]) -> list[Source | None]:
    records = await db.fetch(
        """
        select id, url, publisher, title, language, published_at, kind
        from sources where id = any($1::uuid[])
        """,
        ids,
    )
    return one_per_key(ids, ((r["id"], Source.from_record(r)) for r in records))


async def list_claims_by_rounds(db: Executor, round_ids: list[uuid.UUID]) -> list[list[Claim]]:
    """Each round's claims, oldest first, its participations' claims included."""
    records = await db.fetch(
        f"{_CLAIM_SELECT} where round_id = any($1::uuid[]) order by round_id, recorded_at, id",
        round_ids,
    )
    return many_per_key(round_ids, ((r["round_id"], Claim.from_record(r)) for r in records))


async def list_negotiators_by_rounds(
    db: Executor, round_ids: list[uuid.UUID]
) -> list[list[Negotiator]]:
    records = await db.fetch(
        """
        select n.round_id, n.person_id, n.organization_id, n.claim_id
        from round_negotiators n join people p on p.id = n.person_id
        where n.round_id = any($1::uuid[])
        order by n.round_id, p.name
        """,
        round_ids,
    )
    return many_per_key(
        round_ids,
        (
            (
                r["round_id"],
                Negotiator(r["round_id"], r["person_id"], r["organization_id"], r["claim_id"]),
            )
            for r in records
        ),
    )


async def list_status_events_by_rounds(
    db: Executor, round_ids: list[uuid.UUID]
) -> list[list[StatusEvent]]:
    """Each round's own status history (not its participations'), oldest first."""
    records = await db.fetch(
        """
        select id, round_id, acquisition_id, participation_id, at, status, stage, source_id,
               recorded_at
        from status_events
        where round_id = any($1::uuid[]) and participation_id is null
        order by round_id, at, recorded_at, id
        """,
        round_ids,
    )
    return many_per_key(round_ids, ((r["round_id"], StatusEvent.from_record(r)) for r in records))


async def list_claims_by_ids(db: Executor, ids: list[uuid.UUID]) -> list[Claim | None]:
    records = await db.fetch(f"{_CLAIM_SELECT} where id = any($1::uuid[])", ids)
    return one_per_key(ids, ((r["id"], Claim.from_record(r)) for r in records))


async def list_claims_by_acquisitions(
    db: Executor, acquisition_ids: list[uuid.UUID]
) -> list[list[Claim]]:
    """Each acquisition's claims, oldest first."""
    records = await db.fetch(
        f"{_CLAIM_SELECT} where acquisition_id = any($1::uuid[])"
        " order by acquisition_id, recorded_at, id",
        acquisition_ids,
    )
    return many_per_key(
        acquisition_ids, ((r["acquisition_id"], Claim.from_record(r)) for r in records)
    )


async def list_status_events_by_acquisitions(
    db: Executor, acquisition_ids: list[uuid.UUID]
) -> list[list[StatusEvent]]:
    """Each acquisition's status history, oldest first."""
    records = await db.fetch(
        """
        select id, round_id, acquisition_id, participation_id, at, status, stage, source_id,
               recorded_at
        from status_events
        where acquisition_id = any($1::uuid[])
        order by acquisition_id, at, recorded_at, id
        """,
        acquisition_ids,
    )
    return many_per_key(
        acquisition_ids, ((r["acquisition_id"], StatusEvent.from_record(r)) for r in records)
    )

"""Per-organization figures: what it raised, and what it invested, one query per batch."""

import uuid
from dataclasses import dataclass
from decimal import Decimal

from db.infra.types import Executor
from db.rows import plain_decimal


@dataclass(frozen=True, slots=True)
class FundingSummary:
    rounds: int
    disclosed: int
    total_usd: Decimal
    # By announcement date; undated rounds come after dated ones either way.
    first_round_id: uuid.UUID | None
    last_round_id: uuid.UUID | None
    latest_status: str | None


@dataclass(frozen=True, slots=True)
class RoundTypeCount:
    round_type: str
    count: int


@dataclass(frozen=True, slots=True)
class InvestmentSummary:
    investments: int
    leads: int
    first_participation_id: uuid.UUID | None
    last_participation_id: uuid.UUID | None
    by_round_type: list[RoundTypeCount]


async def list_funding_summaries(
    db: Executor, company_ids: list[uuid.UUID]
) -> list[FundingSummary]:
    """Each company's rounds raised: how many, the disclosed total in US dollars (each
    amount as its `usd`), the first and last round, and the last round's status."""
    records = await db.fetch(
        """
        select c.id, count(r.id)::int as rounds, count(r.amount_usd)::int as disclosed,
               coalesce(sum(r.amount_usd), 0) as total_usd,
               (array_agg(r.id order by r.announced_on nulls last, r.id))[1] as first_id,
               (array_agg(r.id order by r.announced_on desc nulls last, r.id desc))[1]
                   as last_id,
               (array_agg(r.status::text order by r.announced_on desc nulls last, r.id desc))[1]
                   as latest_status
        from unnest($1::uuid[]) as c (id)
        left join rounds r on r.company_id = c.id
        group by c.id
        """,
        company_ids,
    )
    found = {
        r["id"]: FundingSummary(
            rounds=r["rounds"],
            disclosed=r["disclosed"],
            total_usd=plain_decimal(r["total_usd"]) or Decimal(0),
            first_round_id=r["first_id"],
            last_round_id=r["last_id"],
            latest_status=r["latest_status"],
        )
        for r in records
    }
    return [found[c] for c in company_ids]


async def list_investment_summaries(
    db: Executor, investor_ids: list[uuid.UUID]
) -> list[InvestmentSummary]:
    """Each investor's participations: how many, how many as lead, the first and last (by
    the round's announcement date), and how many per round type."""
    records = await db.fetch(
        """
        with mine as (
            select i.id as investor_id, p.id, p.is_lead, r.round_type, r.announced_on
            from unnest($1::uuid[]) as i (id)
            join participations p
              on p.investor_organization_id = i.id or p.investor_person_id = i.id
            join rounds r on r.id = p.round_id
        ),
        by_type as (
            select investor_id, round_type, count(*)::int as n
            from mine group by investor_id, round_type
        )
        select m.investor_id, count(*)::int as investments,
               (count(*) filter (where m.is_lead))::int as leads,
               (array_agg(m.id order by m.announced_on nulls last, m.id))[1] as first_id,
               (array_agg(m.id order by m.announced_on desc nulls last, m.id desc))[1]
                   as last_id,
               (select array_agg(t.round_type::text order by t.round_type)
                from by_type t where t.investor_id = m.investor_id) as types,
               (select array_agg(t.n order by t.round_type)
                from by_type t where t.investor_id = m.investor_id) as counts
        from mine m
        group by m.investor_id
        """,
        investor_ids,
    )
    found = {
        r["investor_id"]: InvestmentSummary(
            investments=r["investments"],
            leads=r["leads"],
            first_participation_id=r["first_id"],
            last_participation_id=r["last_id"],
            by_round_type=[
                RoundTypeCount(t, n) for t, n in zip(r["types"], r["counts"], strict=True)
            ],
        )
        for r in records
    }
    empty = InvestmentSummary(0, 0, None, None, [])
    return [found.get(i, empty) for i in investor_ids]

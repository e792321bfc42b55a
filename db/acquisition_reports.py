"""Writes on acquisitions: a report, and a party's confirmation or denial of one.

The same shape as the round writes of db/reports.py, and their pieces: sources, money
and its currency, and who a name or slug is (`_resolve_entity`). Each write adds a claim
and lets the one rule of migration 0080 (`refresh_acquisition` over `derive_deal`)
derive the acquisition's values and history. Callers run each write in one transaction.
"""

import datetime
import decimal
import uuid
from dataclasses import dataclass

from db.infra.types import Connection
from db.reports import (
    MATCH_WINDOW_DAYS,
    MAX_QUOTE_LENGTH,
    EntityRef,
    EstimateInput,
    SourceInput,
    WriteError,
    _check_text,
    _lock,
    _money_row,
    _Rates,
    _resolve_entity,
    _source,
    _status_of,
)

MAX_ACQUIRERS = 20


@dataclass(frozen=True, slots=True)
class AcquisitionReport:
    target: EntityRef
    lead_acquirer: EntityRef
    stage: str
    source: SourceInput
    other_acquirers: tuple[EntityRef, ...] = ()
    announced_on: datetime.date | None = None
    closed_on: datetime.date | None = None
    price: EstimateInput | None = None
    terms: str | None = None
    percent_acquired: decimal.Decimal | None = None
    quote: str | None = None


@dataclass(frozen=True, slots=True)
class AcquisitionStatement:
    """A party's confirmation or denial, with the stage and price it gives, if any."""

    acquisition_id: uuid.UUID
    source: SourceInput
    quote: str | None = None
    stage: str | None = None
    closed_on: datetime.date | None = None
    price: EstimateInput | None = None


@dataclass(frozen=True, slots=True)
class AcquisitionWriteResult:
    acquisition_id: uuid.UUID
    created: bool


def _check_percent(value: decimal.Decimal | None) -> None:
    if value is not None and not (value.is_finite() and 0 < value <= 100):
        raise WriteError("must be above 0 and at most 100", ["percentAcquired"])


def _check_closing(stage: str | None, closed_on: datetime.date | None) -> None:
    if closed_on is not None and stage != "CLOSED":
        raise WriteError("a closing date goes with the stage CLOSED", ["closedOn"])


async def _organization(conn: Connection, ref: EntityRef, path: list[str]) -> uuid.UUID:
    kind, found = await _resolve_entity(conn, ref, path)
    if kind != "organization":
        raise WriteError("acquisitions are between organizations, not people", path)
    return found


async def _insert_claim(
    conn: Connection,
    *,
    acquisition_id: uuid.UUID,
    source_id: uuid.UUID,
    quote: str | None,
    status: str,
    stage: str | None,
    price: tuple[object, ...] | None,
    rates: _Rates,
    api_key_id: uuid.UUID | None,
    announced_on: datetime.date | None = None,
    closed_on: datetime.date | None = None,
    terms: str | None = None,
    percent_acquired: decimal.Decimal | None = None,
) -> None:
    # A claim's `amount` is the deal's money: for an acquisition, its price.
    await conn.execute(
        """
        insert into claims (source_id, acquisition_id, quote, status, stage, amount,
                            announced_on, announced_precision, closed_on, terms,
                            percent_acquired, usd_rate, usd_rate_date, api_key_id)
        values ($1, $2, $3, $4, $5, $6, $7, case when $7::date is null then null
                else 'DAY'::date_precision end, $8, $9, $10, $11, $12, $13)
        """,
        source_id,
        acquisition_id,
        quote,
        status,
        stage,
        price,
        announced_on,
        closed_on,
        terms,
        percent_acquired,
        rates.rate,
        rates.rate_date,
        api_key_id,
    )


async def report_acquisition(
    conn: Connection, report: AcquisitionReport, *, api_key_id: uuid.UUID | None
) -> AcquisitionWriteResult:
    """Add a report to the acquisition it describes, or create that acquisition."""
    _check_text(report.quote, ["quote"], max_length=MAX_QUOTE_LENGTH)
    _check_percent(report.percent_acquired)
    _check_closing(report.stage, report.closed_on)
    if len(report.other_acquirers) > MAX_ACQUIRERS:
        raise WriteError(f"at most {MAX_ACQUIRERS} other acquirers", ["otherAcquirers"])
    target_id = await _organization(conn, report.target, ["target"])
    lead_id = await _organization(conn, report.lead_acquirer, ["leadAcquirer"])
    if lead_id == target_id:
        raise WriteError("an organization does not acquire itself", ["leadAcquirer"])
    rates = _Rates(report.announced_on or report.source.published_at.date())
    price = _money_row(report.price, ["price"], rates)
    source_id = await _source(conn, report.source, api_key_id)
    status = _status_of(report.source.kind)

    # Two reports of one deal at once must find one acquisition: one matcher per target.
    await _lock(conn, f"acquisition-match:{target_id}")
    acquisition_id: uuid.UUID | None = await conn.fetchval(
        """
        select a.id from acquisitions a
        join acquirers q on q.acquisition_id = a.id and q.is_lead and q.organization_id = $2
        where a.target_id = $1 and a.stage <> 'ABANDONED'
          and (a.stage = 'IN_TALKS'
               or ($3::date is not null
                   and a.announced_on between $3::date - $4::int and $3::date + $4::int)
               or ($3::date is null and a.announced_on is null))
        order by abs(a.announced_on - $3::date) nulls last, a.created_at desc, a.id
        limit 1
        """,
        target_id,
        lead_id,
        report.announced_on,
        MATCH_WINDOW_DAYS,
    )
    created = acquisition_id is None
    if acquisition_id is None:
        acquisition_id = await conn.fetchval(
            "insert into acquisitions (target_id, status, stage) values ($1, $2, $3) returning id",
            target_id,
            status,
            report.stage,
        )
        assert acquisition_id is not None
        await conn.execute(
            "insert into acquirers (acquisition_id, organization_id, is_lead)"
            " values ($1, $2, true)",
            acquisition_id,
            lead_id,
        )
    others = []
    for index, ref in enumerate(report.other_acquirers):
        other = await _organization(conn, ref, ["otherAcquirers", str(index)])
        if other == target_id:
            raise WriteError(
                "an organization does not acquire itself", ["otherAcquirers", str(index)]
            )
        others.append(other)
    await conn.execute(
        """
        insert into acquirers (acquisition_id, organization_id)
        select $1, o from unnest($2::uuid[]) as o
        on conflict do nothing
        """,
        acquisition_id,
        others,
    )
    await _insert_claim(
        conn,
        acquisition_id=acquisition_id,
        source_id=source_id,
        quote=report.quote,
        status=status,
        stage=report.stage,
        price=price,
        rates=rates,
        api_key_id=api_key_id,
        announced_on=report.announced_on,
        closed_on=report.closed_on,
        terms=report.terms,
        percent_acquired=report.percent_acquired,
    )
    await conn.execute("select refresh_acquisition($1, $2)", acquisition_id, api_key_id)
    return AcquisitionWriteResult(acquisition_id=acquisition_id, created=created)


async def state_acquisition_status(
    conn: Connection,
    statement: AcquisitionStatement,
    status: str,
    *,
    api_key_id: uuid.UUID | None,
) -> AcquisitionWriteResult:
    """Record a party's CONFIRMED or DENIED about an acquisition."""
    _check_text(statement.quote, ["quote"], max_length=MAX_QUOTE_LENGTH)
    _check_closing(statement.stage, statement.closed_on)
    # Writers on one acquisition wait for each other, so its history is one story.
    found = await conn.fetchrow(
        "select id, announced_on from acquisitions where id = $1 for update",
        statement.acquisition_id,
    )
    if found is None:
        raise WriteError("no acquisition has this id", ["acquisitionId"], code="NOT_FOUND")
    rates = _Rates(found["announced_on"] or statement.source.published_at.date())
    source_id = await _source(conn, statement.source, api_key_id)
    price = _money_row(statement.price, ["price"], rates)
    await _insert_claim(
        conn,
        acquisition_id=statement.acquisition_id,
        source_id=source_id,
        quote=statement.quote,
        status=status,
        stage=statement.stage,
        price=price,
        rates=rates,
        api_key_id=api_key_id,
        closed_on=statement.closed_on,
    )
    await conn.execute("select refresh_acquisition($1, $2)", statement.acquisition_id, api_key_id)
    return AcquisitionWriteResult(acquisition_id=statement.acquisition_id, created=False)

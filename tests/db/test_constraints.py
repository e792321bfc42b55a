"""The schema itself keeps bad data out, and names the rule that was broken."""

import datetime
import uuid

import asyncpg
import pytest

from db.infra.types import Pool


@pytest.fixture(scope="module")
async def company(pool: Pool) -> uuid.UUID:
    company_id: uuid.UUID = await pool.fetchval(
        "insert into organizations (slug, name) values ('acme', 'Acme') returning id"
    )
    return company_id


async def _insert_round(pool: Pool, company: uuid.UUID, **columns: object) -> None:
    names = ["company_id", "round_type", "status", "stage", *columns]
    values = [company, "SEED", "REPORTED", "IN_TALKS", *columns.values()]
    placeholders = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    await pool.execute(
        f"insert into rounds ({', '.join(names)}) values ({placeholders})",
        *values,
    )


@pytest.mark.parametrize(
    ("amount", "why"),
    [
        (("UP_TO", "USD", 5, 10, 10), "UP_TO has only a high bound"),
        (("AT_LEAST", "USD", None, 10, 10), "AT_LEAST has only a low bound"),
        (("EXACT", "USD", 5, 6, 5), "EXACT has one value"),
        (("RANGE", "USD", 10, 5, 10), "a RANGE runs from low to high"),
        (("EXACT", "usd", 5, 5, 5), "currency is an upper-case ISO 4217 code"),
        (("EXACT", "USD", -5, -5, None), "amounts are not negative"),
        ((None, "USD", 5, 5, 5), "the qualifier is required"),
    ],
)
async def test_money_of_the_wrong_shape_is_refused(
    pool: Pool, company: uuid.UUID, amount: tuple[object, ...], why: str
) -> None:
    with pytest.raises(asyncpg.CheckViolationError, match="money_estimate_shape"):
        await _insert_round(pool, company, amount=amount)


async def test_money_of_the_right_shape_is_kept(pool: Pool, company: uuid.UUID) -> None:
    await _insert_round(pool, company, amount=("RANGE", "EUR", 5, 10, 11))
    stored = await pool.fetchval("select amount_usd from rounds where (amount).currency = 'EUR'")
    assert stored == 11


@pytest.mark.parametrize(
    ("columns", "constraint"),
    [
        (
            {"expected_close_on": "2026-02-01", "expected_close_precision": "QUARTER"},
            "expected_close_fits_precision",
        ),
        (
            {"announced_on": "2026-02-15", "announced_precision": "MONTH"},
            "announced_fits_precision",
        ),
        ({"announced_on": "2026-02-15"}, "announced_precision_given"),
        ({"closed_on": "2026-02-15"}, "closed_on_needs_closed_stage"),
    ],
)
async def test_dates_must_fit_their_precision(
    pool: Pool, company: uuid.UUID, columns: dict[str, str], constraint: str
) -> None:
    typed: dict[str, object] = {
        k: (v if k.endswith("precision") else datetime.date.fromisoformat(v))
        for k, v in columns.items()
    }
    with pytest.raises(asyncpg.CheckViolationError, match=constraint):
        await _insert_round(pool, company, **typed)


async def test_unknown_enum_values_are_refused(pool: Pool, company: uuid.UUID) -> None:
    with pytest.raises(asyncpg.InvalidTextRepresentationError, match="deal_status"):
        await pool.execute(
            "insert into rounds (company_id, round_type, status, stage)"
            " values ($1, 'SEED', 'RUMOURED', 'IN_TALKS')",
            company,
        )


@pytest.mark.parametrize("slug", ["Acme", "acme corp", "-acme", "acme--corp", ""])
async def test_slugs_are_lower_case_words_joined_by_hyphens(pool: Pool, slug: str) -> None:
    with pytest.raises(asyncpg.CheckViolationError, match="slug_format"):
        await pool.execute("insert into organizations (slug, name) values ($1, 'X')", slug)


async def test_slugs_are_unique(pool: Pool, company: uuid.UUID) -> None:
    with pytest.raises(asyncpg.UniqueViolationError, match="organizations_slug_key"):
        await pool.execute("insert into organizations (slug, name) values ('acme', 'Other')")


async def test_a_participation_names_exactly_one_investor(pool: Pool, company: uuid.UUID) -> None:
    round_id = await pool.fetchval(
        "insert into rounds (company_id, round_type, status, stage)"
        " values ($1, 'SEED', 'REPORTED', 'IN_TALKS') returning id",
        company,
    )
    with pytest.raises(asyncpg.CheckViolationError, match="one_investor"):
        await pool.execute(
            "insert into participations (round_id, status, stage)"
            " values ($1, 'REPORTED', 'IN_TALKS')",
            round_id,
        )


async def test_a_claim_on_a_participation_stays_within_its_round(
    pool: Pool, company: uuid.UUID
) -> None:
    rounds = [
        await pool.fetchval(
            "insert into rounds (company_id, round_type, status, stage)"
            " values ($1, 'SEED', 'REPORTED', 'IN_TALKS') returning id",
            company,
        )
        for _ in range(2)
    ]
    participation = await pool.fetchval(
        "insert into participations (round_id, investor_organization_id, status, stage)"
        " values ($1, $2, 'REPORTED', 'IN_TALKS') returning id",
        rounds[0],
        company,
    )
    source = await pool.fetchval(
        "insert into sources (publisher, kind) values ('Wire', 'PRESS_ON_RECORD') returning id"
    )
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="claim_participation_in_round"):
        await pool.execute(
            "insert into claims (source_id, round_id, participation_id) values ($1, $2, $3)",
            source,
            rounds[1],
            participation,
        )


async def test_a_round_needs_an_existing_company(pool: Pool) -> None:
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="rounds_company_id_fkey"):
        await pool.execute(
            "insert into rounds (company_id, round_type, status, stage)"
            " values ($1, 'SEED', 'REPORTED', 'IN_TALKS')",
            uuid.uuid4(),
        )

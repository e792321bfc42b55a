"""The CrunchBase acquisitions file: every row imported, merged or rejected, and what is
imported read back through both faces as the file has it."""

import datetime
import shutil
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx
import pytest

from db.currency import usd_rate
from db.imports.crunchbase import ImportResult, import_crunchbase
from db.infra.types import Pool
from tests.db.test_crunchbase import FIXTURES, _append, _counts, _rejects
from tests.graphql import graphql_data

ACQUISITIONS_CSV_GZ = Path("oct-2013-export/crunchbase-acquisitions.csv.gz")
FILE = "crunchbase-acquisitions.csv"


@pytest.fixture(scope="module")
async def imported(pool: Pool) -> ImportResult:
    async with pool.acquire() as conn:
        return await import_crunchbase(conn, FIXTURES)


async def test_a_row_reads_back_through_both_faces_as_in_the_file(
    imported: ImportResult, client: httpx.AsyncClient
) -> None:
    # Record 3: /company/zappos,Zappos,...,/company/amazon,Amazon,...,2009-07-22,...,
    # 1200000000,USD
    data = await graphql_data(
        client,
        """{ organization(slug: "zappos") { name acquiredBy {
             id status stage target { slug } acquirers { slug } leadAcquirer { name }
             price { qualifier low { amount currency } usd } announced { date precision }
             claims { quote attribution source { publisher kind } }
             history { status stage at }
        } } }""",
    )
    [acquisition] = data["organization"]["acquiredBy"]
    assert acquisition["target"] == {"slug": "zappos"}
    assert acquisition["acquirers"] == [{"slug": "amazon"}]
    assert acquisition["leadAcquirer"] == {"name": "Amazon"}
    assert acquisition["price"] == {
        "qualifier": "EXACT",
        "low": {"amount": "1200000000", "currency": "USD"},
        "usd": "1200000000",
    }
    assert acquisition["announced"] == {"date": "2009-07-22", "precision": "DAY"}
    assert (acquisition["status"], acquisition["stage"]) == ("REPORTED", "CLOSED")
    [claim] = acquisition["claims"]
    assert claim["attribution"] == "crunchbase-acquisitions.csv.gz, line 4"
    assert claim["quote"].startswith("/company/zappos,Zappos,")
    assert claim["source"] == {"publisher": "CrunchBase", "kind": "DATA_VENDOR"}
    # One status event, dated as the engine dates them: the source's publication, else
    # when recorded (the set has no publication date).
    [event] = acquisition["history"]
    assert (event["status"], event["stage"]) == ("REPORTED", "CLOSED")

    listed = await client.get("/v1/acquisitions", params={"acquirer": "amazon"})
    assert listed.status_code == 200, listed.text
    [rest] = listed.json()["data"]
    assert rest["id"] == acquisition["id"]
    assert rest["target"]["slug"] == "zappos"
    assert rest["lead_acquirer"]["slug"] == "amazon"
    assert rest["price"]["low"] == "1200000000"
    assert rest["price"]["currency"] == "USD"
    assert rest["announced"]["date"] == "2009-07-22"


async def test_organizations_named_only_there_are_made_and_prices_stay_undisclosed(
    imported: ImportResult, pool: Pool
) -> None:
    # Record 1: Haven Home Media bought by Reader's Digest, no price (USD given).
    row = await pool.fetchrow(
        """
        select a.price is null as undisclosed, t.name as target, q.name as acquirer,
               q.categories, q.country_code
        from acquisitions a join organizations t on t.id = a.target_id
        join acquirers x on x.acquisition_id = a.id join organizations q on q.id = x.organization_id
        where t.slug = 'haven-home-media'
        """
    )
    assert row is not None
    assert row["undisclosed"]
    # Its name repaired as names of the companies file are (UTF-8 read as Latin-1).
    assert row["acquirer"] == "Reader’s Digest Association"
    assert (row["categories"], row["country_code"]) == (["advertising"], "USA")
    assert await pool.fetchval("select count(*) from acquisitions where (price).low = 0") == 0


async def test_bad_rows_are_rejected_duplicates_merged_other_currencies_converted(
    fresh_db_url: str, tmp_path: Path
) -> None:
    directory = tmp_path / "crunchbase"
    shutil.copytree(FIXTURES, directory)
    rest = b",,,,,,,"

    def row(target: bytes, acquirer: bytes, on: bytes, price: bytes, currency: bytes) -> bytes:
        return (
            b"/company/" + target + b"," + target.title() + b",web,USA,CA,SF Bay,Palo Alto,"
            b"/company/"
            + acquirer
            + b","
            + acquirer.title()
            + b",web,USA,CA,SF Bay,palo alto,"
            + on
            + b",,,,"
            + price
            + b","
            + currency
        )

    _append(
        directory / ACQUISITIONS_CSV_GZ,
        [
            row(b"self", b"self", b"2011-01-01", b"", b""),  # 7
            row(b"gadget", b"bigco", b"2011-02-01", b"5000000", b""),  # 8
            row(b"gadget", b"bigco", b"2011-02-30", b"", b""),  # 9
            row(b"gadget", b"bigco", b"2011-03-01", b"lots", b"USD"),  # 10
            row(b"widget", b"bigco", b"2011-03-01", b"20000000", b"EUR"),  # 11
            row(b"widget", b"bigco", b"2011-03-01", b"20000000", b"EUR"),  # 12
            b"/company/x" + rest,  # 13
        ],
        line_end=b"\r",
    )
    conn = await asyncpg.connect(fresh_db_url)
    try:
        result = await import_crunchbase(conn, directory)
        price = await conn.fetchrow(
            """
            select (a.price).qualifier::text, (a.price).currency, (a.price).low, (a.price).usd,
                   c.usd_rate, c.usd_rate_date, q.city
            from acquisitions a join organizations t on t.id = a.target_id
            join claims c on c.acquisition_id = a.id
            join acquirers x on x.acquisition_id = a.id
            join organizations q on q.id = x.organization_id
            where t.slug = 'widget'
            """
        )
    finally:
        await conn.close()
    assert _counts(result)[FILE] == (13, 4, 1, 8)
    # Lines of the file (the header is line 1), in the engine's words.
    assert _rejects(result, FILE) == [
        (5, "empty line"),
        (6, "empty line"),
        (7, "empty line"),
        (8, "the acquirer is the company acquired"),
        (9, "'5000000' has no currency (give money.currency or currency_column)"),
        (10, "'2011-02-30' is no such date"),
        (11, "'lots' is not an amount"),
        (14, "expected at least 20 fields, found 8"),
    ]
    assert result.merged[FILE, "repeats the acquisition of an earlier row"] == 1
    # Kept in euros, EXACT, with its value in dollars at the ECB rate of its date.
    rate = usd_rate("EUR", datetime.date(2011, 3, 1))
    assert price is not None
    assert (price["qualifier"], price["currency"], price["low"]) == ("EXACT", "EUR", 20_000_000)
    assert price["usd"] == (Decimal(20_000_000) * rate.rate).quantize(Decimal(1))
    assert (price["usd_rate"], price["usd_rate_date"]) == (rate.rate, rate.on)
    assert price["city"] == "Palo Alto"

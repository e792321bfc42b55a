"""The engine's keys for files unlike any we ship: mojibake repair, placeholder dates,
founding dates, match-only investor lists and acquisitions, each on a small layout of its
own written here, with a mapping written from the README."""

import datetime
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest

from db.currency import usd_rate
from db.imports.engine import ImportResult, import_file
from db.imports.mapping import MappingError, load_mapping, parse_mapping

REGISTRY = (
    # Windows-1252 bytes of UTF-8 text read as Latin-1 once already: "Ãœ" is "Ü".
    "id;name;founded;country\n"
    "reg-1;B\u00c3\u00bcro Robotics;03/2009;DEU\n"
    "reg-2;Ocean Labs;1900;USA\n"
    "reg-3;Condé Nast Tech;2031;FRA\n"
)
REGISTRY_MAPPING = """
[file]
encoding = "cp1252"
delimiter = ";"
repair_mojibake = true

[source]
publisher = "Registry"
kind = "REGULATORY_FILING"

[company]
name_column = "name"
slug_column = "id"
country_column = "country"
founded_column = "founded"
founded_formats = ["%m/%Y", "%Y"]
founded_placeholder_before = "1950-01-01"
founded_placeholder_after = "2025-12-31"
"""

DEALS = (
    "company,stage,date,amount\n"
    "Büro Robotics,Series A,2014-05-02,$5M\n"
    "Ocean Labs,Seed,1901-01-01,$1M\n"
    "Ocean Labs,Series A,2013-06-10,$4M\n"
)
DEALS_MAPPING = """
[source]
publisher = "Deal wire"
kind = "PRESS_ON_RECORD"

[company]
name_column = "company"

[round]
type_column = "stage"
date_column = "date"
date_placeholder_before = "1970-01-01"

[money]
amount_column = "amount"
"""

# Who was in which round: it names rounds only by company and month.
BACKERS = (
    "startup|month|backer\n"
    "Büro Robotics|2014-05|North Fund\n"
    "Büro Robotics|2014-05|South Fund\n"
    "Ocean Labs|2013-06|North Fund\n"
    "Ocean Labs|2011-01|Early Fund\n"
    "Unknown Co|2014-05|Ghost Fund\n"
)
BACKERS_MAPPING = """
[file]
delimiter = "|"

[source]
publisher = "Backer list"
kind = "DATA_VENDOR"

[company]
name_column = "startup"

[round]
match_only = true
type = "SERIES_UNKNOWN"
date_column = "month"
date_formats = ["%Y-%m"]

[investors]
name_column = "backer"
"""

ACQUISITIONS = (
    "target,buyer,buyer_country,when,price\n"
    "Ocean Labs,MegaCorp,USA,Q3 2015,€1.2bn\n"
    "Ocean Labs,MegaCorp,USA,Q3 2015,€1.2bn\n"
    "Büro Robotics,Büro Robotics,DEU,2016,\n"
    "Tiny App,MegaCorp,USA,Aug 2016,undisclosed\n"
)
ACQUISITIONS_MAPPING = """
[source]
publisher = "M&A monitor"
kind = "PRESS_ANONYMOUS"

[company]
name_column = "target"

[acquisition]
acquirer_name_column = "buyer"
acquirer_country_column = "buyer_country"
date_column = "when"

[money]
amount_column = "price"
"""

# A second source on the same deal: one day in September, a price in dollars.
SECOND_OPINION = "target,buyer,date,price\nOcean Labs,MegaCorp,2015-09-14,$1.3bn\n"
SECOND_OPINION_MAPPING = """
[source]
publisher = "Newswire"
kind = "PRESS_ON_RECORD"

[company]
name_column = "target"

[acquisition]
acquirer_name_column = "buyer"
date_column = "date"

[money]
amount_column = "price"
"""


async def _run(
    conn: asyncpg.Connection, tmp_path: Path, name: str, data: str | bytes, mapping: str
) -> ImportResult:
    path = tmp_path / name
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    (tmp_path / f"{name}.toml").write_text(mapping)
    return await import_file(conn, path, load_mapping(tmp_path / f"{name}.toml"))


def _outcomes(result: ImportResult) -> tuple[int, int, int, int]:
    o = result.outcomes
    return result.read, o["imported"], o["merged"], o["rejected"]


async def test_companies_rounds_investors_and_acquisitions_of_unseen_layouts(
    fresh_db_url: str, tmp_path: Path
) -> None:
    conn = await asyncpg.connect(fresh_db_url)
    try:
        registry = await _run(
            conn, tmp_path, "registry.csv", REGISTRY.encode("cp1252"), REGISTRY_MAPPING
        )
        assert _outcomes(registry) == (3, 3, 0, 0)
        assert registry.notes["text repaired from UTF-8 read as Latin-1"] == 1
        assert registry.notes["founded a placeholder date: left out"] == 2
        companies = {
            r["slug"]: (r["name"], r["founded_on"], r["founded_precision"])
            for r in await conn.fetch(
                "select slug, name, founded_on, founded_precision::text from organizations"
            )
        }
        # The genuine "é" stays; the mojibake is repaired; placeholders are no dates.
        assert companies == {
            "reg-1": ("Büro Robotics", datetime.date(2009, 3, 1), "MONTH"),
            "reg-2": ("Ocean Labs", None, None),
            "reg-3": ("Condé Nast Tech", None, None),
        }

        deals = await _run(conn, tmp_path, "deals.csv", DEALS, DEALS_MAPPING)
        assert _outcomes(deals) == (3, 3, 0, 0)
        assert deals.notes["date a placeholder date: imported without a date"] == 1
        seed = await conn.fetchrow(
            "select announced_on, (amount).low from rounds where round_type = 'SEED'"
        )
        assert seed is not None
        assert (seed["announced_on"], seed["low"]) == (None, Decimal(1_000_000))

        rounds_before = await conn.fetchval("select count(*) from rounds")
        backers = await _run(conn, tmp_path, "backers.txt", BACKERS, BACKERS_MAPPING)
        assert _outcomes(backers) == (5, 3, 0, 2)
        assert {(r.line, r.reason) for r in backers.rejects} == {
            (5, "no matching round"),
            (6, "no matching round: the company is not stored"),
        }
        # Match-only: no round made, no claim on a round, no organization for a rejected row.
        assert await conn.fetchval("select count(*) from rounds") == rounds_before
        assert (
            await conn.fetchval(
                "select count(*) from claims c join sources s on s.id = c.source_id"
                " where s.publisher = 'Backer list' and c.participation_id is null"
            )
            == 0
        )
        names = {r["name"] for r in await conn.fetch("select name from organizations")}
        assert {"North Fund", "South Fund"} <= names
        assert not {"Early Fund", "Ghost Fund"} & names
        in_rounds = await conn.fetch(
            """
            select c.name as company, i.name as investor from participations p
            join rounds r on r.id = p.round_id join organizations c on c.id = r.company_id
            join organizations i on i.id = p.investor_organization_id order by 1, 2
            """
        )
        assert [tuple(r) for r in in_rounds] == [
            ("Büro Robotics", "North Fund"),
            ("Büro Robotics", "South Fund"),
            ("Ocean Labs", "North Fund"),
        ]

        acquired = await _run(
            conn, tmp_path, "acquisitions.csv", ACQUISITIONS, ACQUISITIONS_MAPPING
        )
        assert _outcomes(acquired) == (4, 2, 1, 1)
        assert [(r.line, r.column, r.reason) for r in acquired.rejects] == [
            (4, "buyer", "the acquirer is the company acquired")
        ]
        ocean = await conn.fetchrow(
            """
            select a.id, a.announced_on, a.announced_precision::text, (a.price).currency,
                (a.price).low, (a.price).usd, q.name as acquirer, q.country_code
            from acquisitions a join organizations t on t.id = a.target_id
            join acquirers x on x.acquisition_id = a.id and x.is_lead
            join organizations q on q.id = x.organization_id
            where t.name = 'Ocean Labs'
            """
        )
        assert ocean is not None
        rate = usd_rate("EUR", datetime.date(2015, 7, 1))
        assert (ocean["announced_on"], ocean["announced_precision"]) == (
            datetime.date(2015, 7, 1),
            "QUARTER",
        )
        assert (ocean["currency"], ocean["low"]) == ("EUR", Decimal(1_200_000_000))
        assert ocean["usd"] == (Decimal(1_200_000_000) * rate.rate).quantize(Decimal(1))
        assert (ocean["acquirer"], ocean["country_code"]) == ("MegaCorp", "USA")
        # The target the file named first ("Tiny App") is made; each deal has its event.
        assert await conn.fetchval("select count(*) from acquisitions") == 2
        assert (
            await conn.fetchval(
                "select count(*) from status_events where acquisition_id is not null"
            )
            == 2
        )

        # The same file again writes nothing.
        again = await _run(conn, tmp_path, "acquisitions.csv", ACQUISITIONS, ACQUISITIONS_MAPPING)
        assert _outcomes(again) == _outcomes(acquired)
        assert not again.written

        # A second source on the same deal adds its claim to it: no second acquisition.
        second = await _run(conn, tmp_path, "second.csv", SECOND_OPINION, SECOND_OPINION_MAPPING)
        assert _outcomes(second) == (1, 1, 0, 0)
        assert second.rounds["matched"] == 1
        assert await conn.fetchval("select count(*) from acquisitions") == 2
        prices = await conn.fetch(
            "select (amount).currency, (amount).low from claims where acquisition_id = $1"
            " order by 1",
            ocean["id"],
        )
        assert [tuple(p) for p in prices] == [
            ("EUR", Decimal(1_200_000_000)),
            ("USD", Decimal(1_300_000_000)),
        ]
    finally:
        await conn.close()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[source]\npublisher = "X"\nkind = "DATA_VENDOR"\n[company]\nname_column = "a"\n'
            '[acquisition]\ndate_column = "d"\n',
            "acquisition.acquirer_name_column: is required in [acquisition]",
        ),
        (
            '[source]\npublisher = "X"\nkind = "DATA_VENDOR"\n[company]\nname_column = "a"\n'
            '[round]\ntype = "SEED"\ndate_column = "d"\ndate_placeholder_before = "1980"\n',
            "line 9: round.date_placeholder_before: must be a date as YYYY-MM-DD",
        ),
        (
            '[source]\npublisher = "X"\nkind = "DATA_VENDOR"\n[company]\nname_column = "a"\n'
            '[round]\ntype = "SEED"\nmatch_only = "yes"\n',
            "line 8: round.match_only: must be true or false",
        ),
        (
            '[file]\nrepair_mojibake = 1\n[source]\npublisher = "X"\nkind = "DATA_VENDOR"\n'
            '[company]\nname_column = "a"\n',
            "line 2: file.repair_mojibake: must be true or false",
        ),
        (
            '[source]\npublisher = "X"\nkind = "DATA_VENDOR"\n[company]\nname_column = "a"\n'
            'founded_placeholder_before = "2000-01-01"\nfounded_placeholder_after = "1990-01-01"\n',
            "line 7: company.founded_placeholder_after: is before founded_placeholder_before",
        ),
        (
            '[source]\npublisher = "X"\nkind = "DATA_VENDOR"\n[company]\nname_column = "a"\n'
            '[round]\ntype = "SEED"\n[acquisition]\nacquirer_name_column = "b"\n',
            "line 8: acquisition: a file holds rounds or acquisitions, not both",
        ),
    ],
)
def test_mapping_errors_name_the_key_and_its_line(text: str, message: str) -> None:
    with pytest.raises(MappingError) as error:
        parse_mapping(text)
    assert message in str(error.value)

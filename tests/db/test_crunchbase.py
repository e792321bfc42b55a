"""The CrunchBase 2013 import, on fixtures cut from the real files (tests/fixtures/crunchbase).

The fixtures keep each file's encoding and line ends: the October files are Mac Roman
with CR line ends and no final one (companies and acquisitions gzipped, rounds plain);
investments.csv is UTF-8 with LF (plain). Their README lists the records taken.
"""

import csv
import datetime
import gzip
import shutil
import uuid
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest
from click.testing import CliRunner

from api.cli.main import main
from db.entities import slugify
from db.imports.crunchbase import (
    CrunchbaseFileError,
    ImportResult,
    import_crunchbase,
    write_rejects,
)
from db.imports.values import repair_mojibake
from db.infra.types import Connection, Pool
from db.seed import seed

FIXTURES = Path(__file__).parent.parent / "fixtures" / "crunchbase"
ROUNDS_CSV = Path("oct-2013-export/crunchbase-rounds.csv")
COMPANIES_CSV_GZ = Path("oct-2013-export/crunchbase-companies.csv.gz")
INVESTMENTS_CSV = Path("dec-2013-snapshot-investments/investments.csv")


@pytest.fixture(scope="module")
async def imported(pool: Pool) -> ImportResult:
    async with pool.acquire() as conn:
        return await import_crunchbase(conn, FIXTURES)


def _counts(result: ImportResult) -> dict[str, tuple[int, int, int, int]]:
    return {f.name: (f.read, f.imported, f.merged, f.rejected) for f in result.files}


def _rejects(result: ImportResult, file: str) -> list[tuple[int, str]]:
    return [(r.line, r.reason) for r in result.rejects if r.file == file]


async def _round(pool: Pool, permalink: str, funded_on: str) -> asyncpg.Record:
    """A company's round of `funded_on`, the date in the file: found through the record
    its claim quotes, so that rounds imported without a date are found too."""
    record = await pool.fetchrow(
        """
        select r.id, r.round_type::text, r.reported_label, r.status::text, r.stage::text,
               r.announced_on, r.announced_precision::text, (r.amount).qualifier::text,
               (r.amount).currency, (r.amount).low, (r.amount).high, (r.amount).usd,
               o.slug, o.name
        from rounds r join organizations o on o.id = r.company_id
        join claims c on c.round_id = r.id
        where o.slug = $1 and c.quote like '%,' || $2 || ',%'
        """,
        permalink.removeprefix("/company/"),
        funded_on,
    )
    assert record is not None, (permalink, funded_on)
    return record


async def _investors(pool: Pool, round_id: uuid.UUID) -> set[str]:
    rows = await pool.fetch(
        """
        select o.name from participations p
        join organizations o on o.id = p.investor_organization_id
        where p.round_id = $1
        """,
        round_id,
    )
    return {r["name"] for r in rows}


async def test_every_record_is_imported_merged_or_rejected(imported: ImportResult) -> None:
    # (read, imported, merged, rejected)
    assert _counts(imported) == {
        "crunchbase-companies.csv": (18, 18, 0, 0),
        "crunchbase-rounds.csv": (28, 27, 1, 0),
        "investments.csv": (32, 22, 1, 9),
        "crunchbase-acquisitions.csv": (6, 3, 0, 3),
    }
    for f in imported.files:
        assert f.read == f.imported + f.merged + f.rejected
    assert {k: v for k, v in imported.written.items() if k != "organizations updated"} == {
        # companies, investors, then the organizations only acquisitions name (all of
        # them but Amazon, a company of the file)
        "organizations": 18 + 19 + 5,
        "sources": 1,
        "rounds": 27,
        # rounds, participations, acquisitions
        "claims": 27 + 22 + 3,
        # rounds and acquisitions (the participations' come with their rounds' refresh)
        "status events": 27 + 3,
        "participations": 22,
        "acquisitions": 3,
        "acquirers": 3,
    }


async def test_rejects_say_why(imported: ImportResult) -> None:
    # Lines of the file (the header is line 1).
    not_stored = "no matching round: the company is not stored"
    ambiguous = "the round matches several stored rounds equally well"
    rejects = [
        (line, why.split(":")[0] if why.startswith(ambiguous) else why)
        for line, why in _rejects(imported, "investments.csv")
    ]
    assert rejects == [
        (14, not_stored),  # EQO is Canadian: not in the October (US) export
        (15, not_stored),
        (18, not_stored),
        (21, ambiguous),
        (22, ambiguous),
        (24, not_stored),
        (25, not_stored),
        (28, not_stored),
        (29, "blank company name"),
    ]
    assert _rejects(imported, "crunchbase-acquisitions.csv") == [
        (5, "empty line"),
        (6, "empty line"),
        (7, "empty line"),
    ]


async def test_the_reject_report_holds_file_line_reason_and_raw_row(
    imported: ImportResult, tmp_path: Path
) -> None:
    path = tmp_path / "reports" / "rejects.csv"
    write_rejects(path, imported.rejects)
    with path.open(newline="", encoding="utf-8") as report:
        rows = list(csv.reader(report))
    assert rows[0] == ["file", "line", "column", "reason", "raw"]
    assert len(rows) == 1 + 9 + 3
    assert [
        "investments.csv", "29", "company_name", "blank company name", ",Mic AG,2006-12-01,40000"
    ] in rows  # fmt: skip
    # The raw row is the record as it is in the file: decoded, not repaired.
    raw = {(r[0], r[1]): r[4] for r in rows[1:]}
    assert raw["crunchbase-acquisitions.csv", "7"] == "," * 19


async def test_mac_roman_and_mojibake_names(imported: ImportResult, pool: Pool) -> None:
    names = {
        r["slug"]: r["name"]
        for r in await pool.fetch(
            "select slug, name from organizations where slug = any($1::text[])",
            ["miasole", "agmi-systems", "voalt"],
        )
    }
    # Mac Roman 0x8E is é; "agÃ¡mi" and "VoaltÃ©" were UTF-8 read as Latin-1 before that.
    assert names == {"miasole": "MiaSolé", "agmi-systems": "agámi Systems", "voalt": "Voalté"}
    agami = await _round(pool, "/company/agmi-systems", "2007-11-21")
    # investments.csv (clean UTF-8) says "agámi Systems": the repaired name matches it.
    assert await _investors(pool, agami["id"]) == {"Apex Venture Partners", "DAG Ventures"}
    notes = {f.name: f.notes for f in imported.files}
    assert notes["crunchbase-companies.csv"]["text repaired from UTF-8 read as Latin-1"] == 2


def test_mojibake_repair_only_where_it_round_trips() -> None:
    assert repair_mojibake("agÃ¡mi Systems") == "agámi Systems"
    assert repair_mojibake("Readerâ€™s Digest Association") == "Reader’s Digest Association"
    assert repair_mojibake("Condé Nast") == "Condé Nast"
    assert repair_mojibake("Anchor™") == "Anchor™"
    # A byte of the original was lost: no clean repair, left as it is.
    assert repair_mojibake("BerkÃ_na Wireless") == "BerkÃ_na Wireless"


async def test_cr_line_ends_without_final_newline(pool: Pool) -> None:
    # The last record of each October file has no line end; it is read all the same.
    voalte = await _round(pool, "/company/voalt", "2008-11-01")
    assert (voalte["round_type"], voalte["low"]) == ("ANGEL", Decimal(700000))
    assert await pool.fetchval("select city from organizations where slug = 'voalt'") == (
        "Sarasota"
    )


async def test_a_spreadsheet_error_name_falls_back_to_the_slug(pool: Pool) -> None:
    n_plus_n = await _round(pool, "/company/n-plusn", "2012-08-29")
    assert n_plus_n["name"] == "n-plusn"
    # "#waywire" is a real name that starts with "#": kept.
    waywire = await _round(pool, "/company/waywire", "2012-06-30")
    assert waywire["name"] == "#waywire"
    assert await _investors(pool, waywire["id"]) == {"First Round Capital", "Innovation Endeavors"}


async def test_money_is_exact_usd_and_blank_is_undisclosed(pool: Pool) -> None:
    waywire = await _round(pool, "/company/waywire", "2012-06-30")
    assert (
        waywire["qualifier"],
        waywire["currency"],
        waywire["low"],
        waywire["high"],
        waywire["usd"],
    ) == ("EXACT", "USD", Decimal(1750000), Decimal(1750000), Decimal(1750000))
    nvidia = await _round(pool, "/company/nvidia", "2009-01-01")
    assert nvidia["qualifier"] is None
    # The participation's amount is unknown: amount_usd is the round's total.
    assert await _investors(pool, nvidia["id"]) == {"TriplePoint Capital"}
    assert await pool.fetchval("select count(*) from participations where amount is not null") == 0


async def test_placeholder_dates_before_1980_are_no_dates(pool: Pool) -> None:
    synageva = await _round(pool, "/company/synageva", "1960-01-01")
    assert (synageva["announced_on"], synageva["announced_precision"]) == (None, None)
    assert synageva["low"] == Decimal(50000000)
    locksmith = await _round(pool, "/company/mc-kinney-locksmith", "1974-12-20")
    assert locksmith["announced_on"] is None
    # Without a date, the status event is dated when the import recorded it.
    event = await pool.fetchrow(
        "select at, recorded_at from status_events where round_id = $1", synageva["id"]
    )
    assert event is not None
    assert event["at"] == event["recorded_at"]
    dated = await _round(pool, "/company/synageva", "2009-04-15")
    assert (dated["announced_on"], dated["announced_precision"]) == (
        datetime.date(2009, 4, 15),
        "DAY",
    )


async def test_round_types_keep_their_wording(pool: Pool) -> None:
    cases = {
        ("/company/facebook", "2004-09-01"): ("ANGEL", "angel"),
        ("/company/waywire", "2012-06-30"): ("SERIES_A", "series-a"),
        ("/company/digg", "2006-12-01"): ("SERIES_B", "series-b"),
        ("/company/facebook", "2007-10-24"): ("SERIES_UNKNOWN", "series-c+"),
        ("/company/arena-solutions", "2005-04-05"): ("SERIES_UNKNOWN", "venture"),
        ("/company/nvidia", "2010-08-09"): ("OTHER", "other"),
    }
    for (permalink, funded_on), expected in cases.items():
        found = await _round(pool, permalink, funded_on)
        assert (found["round_type"], found["reported_label"]) == expected


async def test_exact_duplicates_are_merged(imported: ImportResult, pool: Pool) -> None:
    arena = await pool.fetchval(
        """
        select count(*) from rounds r join organizations o on o.id = r.company_id
        where o.slug = 'arena-solutions' and r.announced_on = '2005-04-05'
        """
    )
    assert arena == 1
    heliovolt = await _round(pool, "/company/heliovolt", "2007-10-23")
    assert await _investors(pool, heliovolt["id"]) == {"Noventi Ventures"}


async def test_two_rounds_on_one_day_are_told_apart_by_amount(pool: Pool) -> None:
    rounds = await pool.fetch(
        """
        select r.id, (r.amount).usd from rounds r join organizations o on o.id = r.company_id
        where o.slug = 'slacker' and r.announced_on = '2007-06-01'
        """
    )
    by_amount = {r["usd"]: await _investors(pool, r["id"]) for r in rounds}
    assert by_amount == {
        Decimal(40000000): {
            "Centennial Ventures",
            "Mission Ventures",
            "Sevin Rosen Funds",
            "Rho Capital Partners",
        },
        Decimal(13500000): {"Austin Ventures", "Mission Ventures", "Sevin Rosen Funds"},
    }


async def test_an_investor_is_one_organization_across_rounds(pool: Pool) -> None:
    sv_angel = await pool.fetchrow(
        """
        select o.name, count(*) as rounds from organizations o
        join participations p on p.investor_organization_id = o.id
        where o.slug = 'sv-angel' group by o.name
        """
    )
    assert sv_angel is not None
    assert (sv_angel["name"], sv_angel["rounds"]) == ("SV Angel", 2)
    # People and firms look alike in the file: without a person of that slug already
    # there, an investor is an organization.
    assert await pool.fetchval("select name from organizations where slug = 'sam-altman'") == (
        "Sam Altman"
    )


async def test_each_round_has_the_vendors_claim_and_status_event(pool: Pool) -> None:
    source = await pool.fetchrow(
        "select id, publisher, kind::text, language, title from sources where kind = 'DATA_VENDOR'"
    )
    assert source is not None
    assert (source["publisher"], source["kind"], source["language"]) == (
        "CrunchBase",
        "DATA_VENDOR",
        "en",
    )
    assert "crunchbase-rounds.csv" in source["title"]
    mismatches = await pool.fetchval(
        """
        select count(*) from rounds r
        where r.status <> 'REPORTED' or r.stage <> 'CLOSED'
           or (select count(*) from claims c
               where c.round_id = r.id and c.participation_id is null and c.source_id = $1
                 and c.status = 'REPORTED' and c.stage = 'CLOSED'
                 and c.amount is not distinct from r.amount) <> 1
           or (select count(*) from status_events e
               where e.round_id = r.id and e.participation_id is null and e.source_id = $1
                 and e.status = 'REPORTED' and e.stage = 'CLOSED'
                 -- The source has no publication date: said when recorded.
                 and e.at = e.recorded_at) <> 1
        """,
        source["id"],
    )
    assert mismatches == 0
    claim = await pool.fetchrow(
        """
        select c.quote, c.attribution from claims c
        join rounds r on r.id = c.round_id join organizations o on o.id = r.company_id
        where o.slug = 'waywire'
        """
    )
    assert claim is not None
    assert claim["attribution"] == "crunchbase-rounds.csv, line 2"
    assert claim["quote"].startswith("/company/waywire,#waywire,news,USA,NY,")


async def _snapshot(conn: Connection) -> dict[str, list[str]]:
    tables = [
        r["tablename"]
        for r in await conn.fetch("select tablename from pg_tables where schemaname = 'public'")
    ]
    return {
        table: sorted(r["row"] for r in await conn.fetch(f'select t::text as row from "{table}" t'))
        for table in tables
    }


async def test_imported_rounds_read_the_same_from_their_claims(
    imported: ImportResult, pool: Pool
) -> None:
    """The stored values are what the claims-derived rule gives, now and as of now."""
    differing = await pool.fetchval(
        """
        select count(*) from rounds r
        join rounds_as_of(now()) d on d.id = r.id
        where (r.status, r.stage, r.announced_on, r.amount_usd)
              is distinct from (d.status, d.stage, d.announced_on, d.amount_usd)
        """
    )
    assert differing == 0
    assert await pool.fetchval("select count(*) from rounds_as_of(now())") == await pool.fetchval(
        "select count(*) from rounds"
    )


async def test_a_second_import_changes_nothing(imported: ImportResult, pool: Pool) -> None:
    async with pool.acquire() as conn:
        before = await _snapshot(conn)
        again = await import_crunchbase(conn, FIXTURES)
        after = await _snapshot(conn)
    assert after == before
    assert not any(again.written.values())
    assert _counts(again) == _counts(imported)


async def test_existing_slugs_are_used_as_they_are(fresh_db_url: str) -> None:
    conn = await asyncpg.connect(fresh_db_url)
    try:
        await seed(conn)
        seeded = {
            r["slug"]: r
            for r in await conn.fetch(
                "select o.*, o::text as row from organizations o"
                " where slug in ('amazon', 'nvidia', 'microsoft')"
            )
        }
        result = await import_crunchbase(conn, FIXTURES)
        # Amazon and Nvidia (companies) and Microsoft (an investor) were there already,
        # and Sam Altman as a person.
        assert result.written["organizations"] == 18 + 19 - 4 + 5
        for slug, before in seeded.items():
            # What is stored stays; the file only fills empty fields.
            after = await conn.fetchrow("select * from organizations where slug = $1", slug)
            assert after is not None
            for column in ("id", "name", "website", "country_code", "city", "founded_on"):
                if before[column] is not None:
                    assert after[column] == before[column], (slug, column)
        amazon_round = await conn.fetchval(
            "select company_id from rounds where reported_label = 'series-a'"
            " and announced_on = '1995-07-01'"
        )
        assert amazon_round == seeded["amazon"]["id"]
        microsoft_in = await conn.fetchval(
            """
            select r.announced_on from participations p join rounds r on r.id = p.round_id
            where p.investor_organization_id = $1 and r.reported_label = 'series-c+'
            """,
            seeded["microsoft"]["id"],
        )
        assert microsoft_in == datetime.date(2007, 10, 24)
        altman = await conn.fetchval(
            """
            select r.announced_on from participations p join rounds r on r.id = p.round_id
            join people person on person.id = p.investor_person_id
            where person.slug = 'sam-altman'
            """
        )
        assert altman == datetime.date(2010, 3, 17)
        assert not await conn.fetchval(
            "select exists (select from organizations where slug = 'sam-altman')"
        )
    finally:
        await conn.close()


async def test_a_database_error_leaves_the_database_as_it_was(fresh_db_url: str) -> None:
    conn = await asyncpg.connect(fresh_db_url)
    try:
        await seed(conn)
        # Participations are written last: everything before them must be undone too.
        await conn.execute(
            "alter table participations add constraint refuse_closed"
            " check (stage <> 'CLOSED') not valid"
        )
        before = await _snapshot(conn)
        with pytest.raises(asyncpg.CheckViolationError):
            await import_crunchbase(conn, FIXTURES)
        assert await _snapshot(conn) == before
    finally:
        await conn.close()


def _append(path: Path, records: list[bytes], *, line_end: bytes) -> None:
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    if not data.endswith(line_end):
        data += line_end
    data += line_end.join(records)
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


async def test_bad_records_are_rejected_and_the_rest_imported(
    fresh_db_url: str, tmp_path: Path
) -> None:
    directory = tmp_path / "crunchbase"
    shutil.copytree(FIXTURES, directory)
    _append(
        directory / COMPANIES_CSV_GZ,
        [
            b"/company/DIGG,Digg Inc.,news,,operating,USA,CA,SF Bay,,1,,,,,,,",
            b"/company/%%%,Percent,news,,operating,USA,CA,SF Bay,,1,,,,,,,",
            b"/company/digg,Digg again,news,,operating,USA,CA,SF Bay,,1,,,,,,,",
            b"/company/short,Short,news",
        ],
        line_end=b"\r",
    )
    digg = b"/company/digg,Digg,news,USA,CA,SF Bay,San Francisco,"
    _append(
        directory / ROUNDS_CSV,
        [
            digg + b"series-z,2006-12-01,2006-12,2006-Q4,2006,1",
            digg + b"series-a,2006-02-30,2006-02,2006-Q1,2006,1",
            digg + b"series-a,2006-02-03,2006-02,2006-Q1,2006,lots",
            b'"/company/digg"x,Digg,news,USA,CA,SF Bay,San Francisco,angel,,,,,',
            b"/company/DIGG,Digg Inc.,news,USA,CA,SF Bay,,angel,2009-01-01,2009-01,2009-Q1,2009,",
            b"/company/nowhere,Nowhere,news,USA,CA,SF Bay,,angel,2009-01-01,2009-01,2009-Q1,2009,",
            digg + b"angel,,,,,",
        ],
        line_end=b"\r",
    )
    _append(
        directory / INVESTMENTS_CSV,
        [
            b"Caf\xe9 Inc,Some Fund,2009-01-01,1",
            b"Digg,Nul\x00 Fund,2006-12-01,8500000",
            b"Digg,\xe7\xba\xa2\xe6\x9d\x89,2006-12-01,8500000",
            b"",
            b"Digg,Greylock Partners,2006-13-01,8500000",
        ],
        line_end=b"\n",
    )
    conn = await asyncpg.connect(fresh_db_url)
    try:
        result = await import_crunchbase(conn, directory)
    finally:
        await conn.close()
    # On the engine, a company's identity is the entity rule's: "/company/DIGG" is a new
    # company named "Digg Inc." (its name and slug differ from digg's), "/company/%%%" one
    # without a slug of its own, and rounds of permalinks the companies file lacks make
    # their company (as any file's rows do).
    assert _rejects(result, "crunchbase-companies.csv") == [
        (23, "expected at least 11 fields, found 3"),
    ]
    assert _rejects(result, "crunchbase-rounds.csv") == [
        (30, "round type 'series-z' is not in round.type_map and round.type gives no fallback"),
        (31, "'2006-02-30' is no such date"),
        (32, "'lots' is not an amount"),
        (33, "malformed CSV: ',' expected after '\"'"),
    ]
    assert _rejects(result, "investments.csv")[-5:] == [
        (29, "blank company name"),
        (34, "not valid utf-8"),
        (35, "contains a NUL character"),
        (37, "empty line"),
        (38, "'2006-13-01' is no such date"),
    ]
    # (read, imported, merged, rejected): the fixture's own rows fare as before, and the
    # undated Digg angel round is imported without a date.
    assert _counts(result) == {
        "crunchbase-companies.csv": (22, 20, 1, 1),
        "crunchbase-rounds.csv": (35, 30, 1, 4),
        "investments.csv": (37, 23, 1, 13),
        "crunchbase-acquisitions.csv": (6, 3, 0, 3),
    }


async def test_a_missing_file_stops_the_import_before_it_starts(
    fresh_db_url: str, tmp_path: Path
) -> None:
    shutil.copytree(FIXTURES, tmp_path / "crunchbase")
    (tmp_path / "crunchbase" / INVESTMENTS_CSV).unlink()
    conn = await asyncpg.connect(fresh_db_url)
    try:
        with pytest.raises(CrunchbaseFileError, match=r"investments\.csv\[\.gz\] not found"):
            await import_crunchbase(conn, tmp_path / "crunchbase")
        assert await conn.fetchval("select count(*) from organizations") == 0
    finally:
        await conn.close()


def test_slugs_from_names() -> None:
    assert slugify("Sequoia Capital") == "sequoia-capital"
    assert slugify("Mérieux Développement") == slugify("Merieux Developpement")
    assert slugify("Örjan Johansson") == "orjan-johansson"
    assert slugify("Kleiner Perkins Caufield & Byers") == "kleiner-perkins-caufield-byers"
    assert slugify("红杉资本") is None


def test_the_command_prints_the_summary_and_writes_the_report(
    fresh_db_url: str, tmp_path: Path
) -> None:
    report = tmp_path / "rejects.csv"
    result = CliRunner().invoke(
        main,
        ["import", "crunchbase", str(FIXTURES), "--rejects", str(report)],
        env={"DATABASE_URL": fresh_db_url},
    )
    assert result.exit_code == 0, result.output
    table = [line.split() for line in result.stdout.splitlines()]
    assert ["investments.csv", "32", "22", "1", "9"] in table
    assert f"reject report: {report}" in result.stdout
    # Not a terminal: plain progress lines, one per step.
    assert "import: crunchbase-companies.csv" in result.stderr
    assert "import: investments" in result.stderr
    with report.open(newline="", encoding="utf-8") as rows:
        assert len(list(csv.reader(rows))) == 1 + 12


async def test_investors_are_resolved_and_safe_matches_salvaged(
    fresh_db_url: str, tmp_path: Path
) -> None:
    directory = tmp_path / "crunchbase"
    shutil.copytree(FIXTURES, directory)
    _append(
        directory / INVESTMENTS_CSV,
        [
            # A company of the file as investor, spelled otherwise: that organization.
            b"Amazon,Arena Solutions Inc.,1995-07-01,8000000",
            # The company's name differs by punctuation and a suffix: its round that day.
            b'"Arena Solutions, Inc.",BB&T Fund,2005-04-05,15000000',
            # Another spelling of an investor seen before: that organization.
            b"Amazon,BBT Fund,1995-07-01,8000000",
            # No round that day, but the very amount within a month: that round.
            b"Arena Solutions,Salvage Fund,2005-04-20,15000000",
            # Another amount within a factor of two, within a month: that round too (the
            # matching rule of README "Which stored round a row describes").
            b"Arena Solutions,Late Fund,2005-04-20,16000000",
            # More than a month away: no round.
            b"Arena Solutions,Later Fund,2005-06-20,15000000",
        ],
        line_end=b"\n",
    )
    conn = await asyncpg.connect(fresh_db_url)
    try:
        result = await import_crunchbase(conn, directory)
        investors = await conn.fetch(
            """
            select c.slug as company, o.slug as investor, o.name
            from participations p join rounds r on r.id = p.round_id
            join organizations c on c.id = r.company_id
            join organizations o on o.id = p.investor_organization_id
            where o.name_key in ('arena solutions', 'bbt fund', 'salvage fund')
            order by 1, 2
            """
        )
        aliases = await conn.fetch("select alias from organization_aliases order by alias")
    finally:
        await conn.close()
    assert [tuple(r) for r in investors] == [
        ("amazon", "arena-solutions", "Arena Solutions"),
        ("amazon", "bb-t-fund", "BB&T Fund"),
        ("arena-solutions", "bb-t-fund", "BB&T Fund"),
        ("arena-solutions", "salvage-fund", "Salvage Fund"),
    ]
    assert [a["alias"] for a in aliases] == [
        "Arena Solutions Inc.",
        "Arena Solutions, Inc.",
        "BBT Fund",
    ]
    assert _rejects(result, "investments.csv")[-1:] == [(39, "no matching round")]
    assert result.investor_steps["name"] == 1

"""`dealgraph import FILE --mapping M`: the engine on layouts of our own (tests/fixtures/
imports, cut from the shared CrunchBase set and rewritten), one after the other into one
database, as a data team would: a first vendor, then a press digest that describes the
same rounds (some amounts disagree), then files with no header and years only, rupees,
and a French export in euros."""

import csv
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx
import pytest
from click.testing import CliRunner

from api.cli.main import main
from db.imports.engine import ImportResult, import_file
from db.imports.mapping import load_mapping
from db.infra.types import Pool
from tests.graphql import graphql_data

FIXTURES = Path(__file__).parent.parent / "fixtures" / "imports"
LAYOUTS = {
    "vendor-a": "vendor-a-rounds.csv",
    "press-digest": "press-digest.csv",
    "years-no-header": "years-no-header.tsv.gz",
    "india-inr": "india-inr.csv",
    "europe-eur": "europe-eur.csv",
}


async def _import(pool: Pool, layout: str, *, dry_run: bool = False) -> ImportResult:
    mapping = load_mapping(FIXTURES / f"{layout}.toml")
    async with pool.acquire() as conn:
        return await import_file(conn, FIXTURES / LAYOUTS[layout], mapping, dry_run=dry_run)


@pytest.fixture(scope="module")
async def results(pool: Pool) -> dict[str, ImportResult]:
    """Each layout imported once, in order (the order matters: later files meet the
    rounds of earlier ones)."""
    return {layout: await _import(pool, layout) for layout in LAYOUTS}


def _outcomes(result: ImportResult) -> tuple[int, int, int, int]:
    o = result.outcomes
    return result.read, o["imported"], o["merged"], o["rejected"]


async def test_every_row_is_imported_merged_or_rejected(results: dict[str, ImportResult]) -> None:
    assert {layout: _outcomes(r) for layout, r in results.items()} == {
        "vendor-a": (14, 12, 1, 1),
        "press-digest": (11, 10, 0, 1),
        "years-no-header": (7, 4, 1, 2),
        "india-inr": (9, 6, 0, 3),
        "europe-eur": (7, 6, 0, 1),
    }


async def test_row_errors_name_file_line_and_column(results: dict[str, ImportResult]) -> None:
    rejects = {
        (r.file, r.line, r.column): r.reason for result in results.values() for r in result.rejects
    }
    assert rejects[("vendor-a-rounds.csv", 15, "funded_at")] == (
        "'2006' matches none of the formats ['%Y-%m-%d']"
    )
    assert "no scale word" in rejects[("press-digest.csv", 11, "Raised")]
    # No header: the column is told by its position.
    assert rejects[("years-no-header.tsv.gz", 6, "column 1")] == "blank company name"
    assert rejects[("india-inr.csv", 10, "Currency")] == (
        "unknown currency: XYZ has no reference rate"
    )
    assert rejects[("india-inr.csv", 9, "Amount")] == (
        "the amount is written in USD, the currency column says INR"
    )
    # Lines count the two lines skipped before the header.
    assert rejects[("europe-eur.csv", 10, "Date")] == "'31/02/2012' is no such date"


async def test_a_second_publisher_adds_claims_to_the_stored_rounds(
    results: dict[str, ImportResult], pool: Pool
) -> None:
    press = results["press-digest"]
    assert press.rounds["matched"] == 8
    assert press.rows_on_stored_rounds == 8
    # "MongoDB Inc." is the stored "MongoDB, Inc.", "The Idealists" is "Idealists".
    assert press.companies["name"] == 4
    counts = await pool.fetchrow(
        """
        select (select count(*) from organizations where name_key = 'mongodb') as mongodb,
               (select count(*) from rounds r join organizations o on o.id = r.company_id
                where o.slug = 'mongodb-inc') as mongodb_rounds,
               (select count(*) from organizations where name_key = 'idealists') as idealists
        """
    )
    assert counts is not None
    assert dict(counts) == {"mongodb": 1, "mongodb_rounds": 6, "idealists": 1}
    aliases = await pool.fetch(
        "select a.alias from organization_aliases a join organizations o "
        "on o.id = a.organization_id where o.slug = 'mongodb-inc'"
    )
    assert "MongoDB Inc." in [a["alias"] for a in aliases]


async def test_an_investor_named_like_a_company_is_that_organization(
    results: dict[str, ImportResult], pool: Pool
) -> None:
    # "New York Times" invests in Blogly: the company newyorktimes, not a second one.
    rows = await pool.fetch(
        """
        select o.slug from participations p
        join organizations o on o.id = p.investor_organization_id
        join rounds r on r.id = p.round_id join organizations c on c.id = r.company_id
        where c.slug = 'blogly' order by o.slug
        """
    )
    slugs = [r["slug"] for r in rows]
    assert "newyorktimes" in slugs
    # "Emergent" is not "Emergent Game Technologies", whose slug is `emergent`.
    assert "emergent" not in slugs
    assert await pool.fetchval("select name from organizations where slug = 'emergent-2'") == (
        "Emergent"
    )


async def test_disagreeing_amounts_stay_side_by_side_over_graphql_and_rest(
    results: dict[str, ImportResult], client: httpx.AsyncClient
) -> None:
    data = await graphql_data(
        client,
        """
        { organization(slug: "mongodb-inc") { rounds(first: 20) { edges { node {
            id announced { date } amount { low { amount } }
            claims { source { publisher } amount { low { amount } } }
        } } } } }
        """,
    )
    rounds = [e["node"] for e in data["organization"]["rounds"]["edges"]]
    [may_2012] = [r for r in rounds if (r["announced"] or {}).get("date", "").startswith("2012-05")]
    said = {
        (c["source"]["publisher"], c["amount"]["low"]["amount"])
        for c in may_2012["claims"]
        if c["amount"] is not None
    }
    assert said == {("CrunchBase", "42000000"), ("GigaOM", "40000000")}
    rest = (await client.get(f"/v1/rounds/{may_2012['id']}")).json()
    assert {
        (c["source"]["publisher"], c["amount"]["low"]) for c in rest["claims"] if c["amount"]
    } == {
        ("CrunchBase", "42000000"),
        ("GigaOM", "40000000"),
    }
    # The backers of the list column, the lead marker read and taken off the name.
    investors = {(p["investor"]["name"], p["is_lead"]) for p in rest["participations"]}
    assert ("New Enterprise Associates", True) in investors
    assert ("Flybridge Capital Partners", False) in investors


async def test_years_only_are_year_precision_and_match_day_rounds(
    results: dict[str, ImportResult], pool: Pool
) -> None:
    years = results["years-no-header"]
    # GetJar 2010 and 2011 land on the stored June 2010 and February 2011 rounds; MongoDB
    # "venture, 2012" could be any of its 2012 rounds and is refused.
    assert years.rounds == {"matched": 2, "created": 2, "ambiguous": 1}
    reasons = [r.reason for r in years.rejects if r.line == 3]
    assert reasons[0].startswith("the round matches several stored rounds equally well: rnd_")
    waywire = await pool.fetchrow(
        "select r.announced_on::text, r.announced_precision::text from rounds r "
        "join organizations o on o.id = r.company_id where o.name = 'Waywire'"
    )
    assert waywire is not None
    assert tuple(waywire) == ("2012-01-01", "YEAR")


async def test_rupees_in_indian_grouping_and_words(
    results: dict[str, ImportResult], pool: Pool
) -> None:
    rows = await pool.fetch(
        """
        select o.name, r.reported_label, (r.amount).currency, (r.amount).low,
               r.announced_on::text, r.announced_precision::text
        from rounds r join organizations o on o.id = r.company_id
        where o.name like 'Flipkart%' or o.name like 'Zomato%' or o.name = 'RedBus'
        order by o.name, r.announced_on
        """
    )
    found = [tuple(r) for r in rows]
    assert found == [
        ("Flipkart Pvt. Ltd.", "Series A", "INR", Decimal(450000000), "2009-10-01", "QUARTER"),
        ("Flipkart Pvt. Ltd.", "Series B", "INR", Decimal(100000000), "2010-04-01", "QUARTER"),
        ("RedBus", "Seed", None, None, "2007-04-01", "QUARTER"),
        ("Zomato Media Pvt. Ltd.", "Series A", "INR", Decimal(500000), "2010-07-01", "QUARTER"),
        # "undisclosed" and "N/A": no amount, never zero.
        ("Zomato Media Pvt. Ltd.", "Series B", None, None, "2011-10-01", "QUARTER"),
        ("Zomato Media Pvt. Ltd.", "Series C", None, None, "2013-01-01", "QUARTER"),
    ]
    person = await pool.fetchval("select count(*) from people where name = 'Sanjay Anandaram'")
    assert person == 1
    website = await pool.fetchval("select website from organizations where name like 'Flipkart%'")
    assert website == "https://flipkart.com"


async def test_euros_with_decimal_commas_in_windows_1252(
    results: dict[str, ImportResult], pool: Pool
) -> None:
    rows = await pool.fetch(
        """
        select o.name, (r.amount).currency, (r.amount).low, r.reported_label,
            (select array_agg(i.name || case when p.is_lead then '*' else '' end
                              order by i.name)
             from participations p join organizations i on i.id = p.investor_organization_id
             where p.round_id = r.id) as investors
        from rounds r join organizations o on o.id = r.company_id
        join claims c on c.round_id = r.id join sources s on s.id = c.source_id
        where s.publisher = 'Levées de fonds Europe' and c.participation_id is null
        order by o.name
        """
    )
    assert [tuple(r) for r in rows] == [
        ("BlaBlaCar", "EUR", Decimal(7500000), "Série B", ["Accel Partners*", "ISAI"]),
        # "Criteo SA" and "Criteo" are one company.
        (
            "Criteo SA",
            "EUR",
            Decimal(30000000),
            "Série D",
            ["Bessemer Venture Partners*", "Index Ventures"],
        ),
        (
            "Sigfox S.A.",
            "EUR",
            Decimal(2500000),
            "Série A",
            ["Elaia Partners*", "Partech Ventures"],
        ),
    ]


async def test_importing_a_file_again_writes_nothing(
    results: dict[str, ImportResult], pool: Pool
) -> None:
    for layout in LAYOUTS:
        again = await _import(pool, layout)
        assert not again.written, (layout, again.written)
        assert _outcomes(again) == _outcomes(results[layout])


async def test_a_corrected_file_updates_its_claims(
    results: dict[str, ImportResult], pool: Pool, tmp_path: Path
) -> None:
    corrected = tmp_path / "press-digest.csv"
    text = (FIXTURES / "press-digest.csv").read_text()
    corrected.write_text(text.replace(";$40M;", ";$41M;"))
    mapping = load_mapping(FIXTURES / "press-digest.toml")
    async with pool.acquire() as conn:
        result = await import_file(conn, corrected, mapping)
    assert result.written == {"claims updated": 1}
    amounts = await pool.fetch(
        "select (c.amount).low from claims c join sources s on s.id = c.source_id "
        "where s.publisher = 'GigaOM' and c.participation_id is null"
    )
    assert [a["low"] for a in amounts] == [Decimal(41000000)]
    async with pool.acquire() as conn:
        await import_file(conn, FIXTURES / "press-digest.csv", mapping)


def test_a_dry_run_writes_nothing(fresh_db_url: str) -> None:
    runner = CliRunner()
    args = [
        "import",
        str(FIXTURES / "vendor-a-rounds.csv"),
        "--mapping",
        str(FIXTURES / "vendor-a.toml"),
        "--dry-run",
        "--rejects",
        "/dev/null",
    ]
    result = runner.invoke(main, args, env={"DATABASE_URL": fresh_db_url})
    assert result.exit_code == 0, result.output
    assert "read 14 = imported 12 + merged 1 + rejected 1" in result.stdout
    assert (
        "would write: sources 1, organizations 5, rounds 12, claims 12, status events 12"
        in result.stdout
    )
    # Nothing was written: the real import writes it all.
    result = runner.invoke(
        main, [*args[:-3], "--rejects", "/dev/null"], env={"DATABASE_URL": fresh_db_url}
    )
    assert (
        "new rows: sources 1, organizations 5, rounds 12, claims 12, status events 12"
        in result.stdout
    )


def test_the_command_writes_the_reject_report(fresh_db_url: str, tmp_path: Path) -> None:
    report = tmp_path / "rejects.csv"
    result = CliRunner().invoke(
        main,
        [
            "import",
            str(FIXTURES / "india-inr.csv"),
            "--mapping",
            str(FIXTURES / "india-inr.toml"),
            "--rejects",
            str(report),
        ],
        env={"DATABASE_URL": fresh_db_url},
    )
    assert result.exit_code == 0, result.output
    assert "import: entities" in result.stderr
    with report.open(newline="", encoding="utf-8") as rows:
        table = list(csv.reader(rows))
    assert table[0] == ["file", "line", "column", "reason", "raw"]
    assert table[1][:4] == [
        "india-inr.csv",
        "8",
        "Currency",
        "unknown currency: INR has no reference rate as early as 2007-07-01",
    ]
    assert table[1][4].startswith("RedBus,redbus.in,Bangalore,Series A,2007-Q3,")


def test_a_mapping_error_names_the_key_and_its_line(tmp_path: Path, fresh_db_url: str) -> None:
    mapping = tmp_path / "bad.toml"
    mapping.write_text(
        '[source]\npublisher = "X"\nkind = "DATA_VENDOR"\n\n[company]\nname_column = "name"\n'
        '\n[round]\ntype = "SERIES_Z"\n'
    )
    result = CliRunner().invoke(
        main,
        ["import", str(FIXTURES / "vendor-a-rounds.csv"), "--mapping", str(mapping)],
        env={"DATABASE_URL": fresh_db_url},
    )
    assert result.exit_code == 1
    assert "line 9: round.type: 'SERIES_Z' is not one of" in result.output
    assert "Traceback" not in result.output


def test_a_column_the_file_lacks_is_named_before_anything_is_written(
    tmp_path: Path, fresh_db_url: str
) -> None:
    mapping = tmp_path / "bad.toml"
    mapping.write_text(
        (FIXTURES / "vendor-a.toml").read_text().replace('"raised_amount_usd"', '"raised"')
    )
    result = CliRunner().invoke(
        main,
        ["import", str(FIXTURES / "vendor-a-rounds.csv"), "--mapping", str(mapping)],
        env={"DATABASE_URL": fresh_db_url},
    )
    assert result.exit_code == 1
    assert "money.amount_column: the file has no column 'raised'" in result.output
    assert "Traceback" not in result.output


async def test_stored_values_are_what_the_claims_derive(
    results: dict[str, ImportResult], pool: Pool
) -> None:
    # Rounds made by an import are written with their claim's values, not refreshed: they
    # must read as the rule derives them, and each has its history.
    mismatches = await pool.fetchval(
        """
        select count(*) from rounds r cross join lateral derive(r.id, null, null) d
        where (d.status, d.stage, d.amount, d.announced_on, d.announced_precision)
              is distinct from (r.status, r.stage, r.amount, r.announced_on,
                                r.announced_precision)
        """
    )
    participations = await pool.fetchval(
        """
        select count(*) from participations p
        cross join lateral derive(p.round_id, p.id, null) d
        where (d.status, d.stage, d.amount, coalesce(d.is_lead, false))
              is distinct from (p.status, p.stage, p.amount, p.is_lead)
        """
    )
    without_history = await pool.fetchval(
        "select count(*) from rounds r where not exists "
        "(select from status_events e where e.round_id = r.id and e.participation_id is null)"
    )
    assert (mismatches, participations, without_history) == (0, 0, 0)


async def test_amounts_that_are_each_investors_part(fresh_db_url: str, tmp_path: Path) -> None:
    data = tmp_path / "parts.csv"
    data.write_text(
        "company,round,date,investor,kind,part\n"
        "Acme Robotics,Seed,2013-02-01,Jane Doe,angel,$250k\n"
        "Acme Robotics,Seed,2013-02-01,Big Fund,fund,$1.5M\n"
        "Acme Robotics,Seed,2013-02-01,Small Fund,fund,undisclosed\n"
    )
    mapping = tmp_path / "parts.toml"
    mapping.write_text(
        '[source]\npublisher = "Cap tables"\nkind = "COMPANY_STATEMENT"\n'
        '[company]\nname_column = "company"\n'
        '[round]\ntype_column = "round"\ndate_column = "date"\n'
        '[money]\namount_column = "part"\ncurrency = "USD"\namount_is = "investor"\n'
        '[investors]\nname_column = "investor"\nkind_column = "kind"\n'
        'kind_map = { "angel" = "PERSON", "fund" = "ORGANIZATION" }\n'
    )
    conn = await asyncpg.connect(fresh_db_url)
    try:
        result = await import_file(conn, data, load_mapping(mapping))
        rows = await conn.fetch(
            """
            select coalesce(o.name, pe.name) as investor, (p.amount).low, p.status::text,
                (r.amount).low as total
            from participations p join rounds r on r.id = p.round_id
            left join organizations o on o.id = p.investor_organization_id
            left join people pe on pe.id = p.investor_person_id
            order by 1
            """
        )
    finally:
        await conn.close()
    assert _outcomes(result) == (3, 3, 0, 0)
    assert [tuple(r) for r in rows] == [
        ("Big Fund", Decimal(1500000), "CONFIRMED", None),
        ("Jane Doe", Decimal(250000), "CONFIRMED", None),
        ("Small Fund", None, "CONFIRMED", None),
    ]


async def test_a_name_without_letters_is_found_again(fresh_db_url: str, tmp_path: Path) -> None:
    # "????" (a name lost to an encoding) has no name key: a second import must find the
    # company made by the first, not make another.
    data = tmp_path / "keyless.csv"
    data.write_text(
        "company,date,investor,amount\n"
        "????,2012-08-01,Chinaccelerator,10000\n"
        "Acme Robotics,2013-02-01,Big Fund,$1.5M\n"
    )
    mapping = tmp_path / "keyless.toml"
    mapping.write_text(
        '[source]\npublisher = "A list"\nkind = "DATA_VENDOR"\n'
        '[company]\nname_column = "company"\n'
        '[round]\ntype = "SERIES_UNKNOWN"\ndate_column = "date"\n'
        '[money]\namount_column = "amount"\ncurrency = "USD"\n'
        '[investors]\nname_column = "investor"\n'
    )
    conn = await asyncpg.connect(fresh_db_url)
    try:
        first = await import_file(conn, data, load_mapping(mapping))
        again = await import_file(conn, data, load_mapping(mapping))
        companies = await conn.fetchval("select count(*) from organizations where name = '????'")
    finally:
        await conn.close()
    assert first.written["rounds"] == 2
    assert not again.written, again.written
    assert companies == 1

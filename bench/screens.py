"""The six screens of a deal-tracker frontend (issue 19), each written once for dealgraph
and once for PostGraphile v4 with postgraphile-plugin-connection-filter (as its users
run it), fetching the same data from the same database.

bench/run.py calls `measure` after its own ratios; `python -m bench.screens` measures
only the screens, on the database bench/run prepared (dealgraph_bench). Each screen
prints `RESULT` lines for both sides and `RATIO screen_<name> <measured> target >=1.0`
and `RATIO screen_<name>_p99 ... target <=1.0`.

Where PostGraphile's generated schema cannot say the same thing, its query asks the
nearest: its ANNOUNCED_ON_DESC puts undated rounds first, an investor's participations
come in primary-key order (no order by the round's date), and autocomplete is a
case-insensitive substring match on the name (no ranking, no aliases).
"""

import argparse
import asyncio
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
import httpx
import orjson

from bench.harness import ROOT, free_port, server

if TYPE_CHECKING:
    from bench.run import Bench

CACHE = ROOT / "bench" / ".cache"
FILTER_PLUGIN = "postgraphile-plugin-connection-filter"

_MONEY = "{ qualifier low { amount currency } high { amount currency } usd }"
_PG_MONEY = "{ qualifier currency low high usd }"
_PG_INVESTOR = (
    "organizationByInvestorOrganizationId { name slug } personByInvestorPersonId { name slug }"
)


@dataclass(frozen=True, slots=True)
class Picks:
    """The objects the screens show: the company with the most rounds, the investor with
    the most investments, the round with the most claims."""

    company: str
    investor: str
    round_id: str
    round_public_id: str


SCREENS: dict[str, tuple[str, str]] = {
    "home_feed": (
        "{ rounds(first: 20, filter: {status: [REPORTED, CONFIRMED]}) { totalCount edges { node {"
        f" id roundType announced {{ text }} amount {_MONEY} company {{ name slug }}"
        " participations { investor { name slug } } } } } }",
        "{ allRounds(first: 20, orderBy: ANNOUNCED_ON_DESC,"
        " filter: {status: {in: [REPORTED, CONFIRMED]}}) { totalCount nodes {"
        f" id roundType announcedOn announcedPrecision amount {_PG_MONEY}"
        " organizationByCompanyId { name slug }"
        f" participationsByRoundId {{ nodes {{ {_PG_INVESTOR} }} }} }} }} }}",
    ),
    "round_detail": (
        '{ round(id: "{round_public_id}") { id roundType status stage announced { text }'
        f" amount {_MONEY} company {{ name }} participations {{ id isLead investor {{ name }}"
        f" amount {_MONEY} claims {{ id quote source {{ publisher url }} }} }}"
        " claims { id quote attribution recordedAt"
        " source { publisher title url kind publishedAt } }"
        " negotiators { person { name } onBehalfOf { name } }"
        " history { at status stage source { publisher } } } }",
        '{ roundById(id: "{round_id}") { id roundType status stage announcedOn'
        f" amount {_PG_MONEY} organizationByCompanyId {{ name }}"
        f" participationsByRoundId {{ nodes {{ id isLead {_PG_INVESTOR} amount {_PG_MONEY}"
        " claimsByParticipationIdAndRoundId { nodes { id quote"
        " sourceBySourceId { publisher url } } } } }"
        " claimsByRoundId(orderBy: RECORDED_AT_ASC) { nodes { id quote attribution recordedAt"
        " sourceBySourceId { publisher title url kind publishedAt } } }"
        " roundNegotiatorsByRoundId { nodes { personByPersonId { name }"
        " organizationByOrganizationId { name } } }"
        " statusEventsByRoundId(orderBy: AT_ASC) { nodes { at status stage"
        " sourceBySourceId { publisher } } } } }",
    ),
    "company_page": (
        '{ organization(slug: "{company}") { name description website city countryCode'
        " founded { text } rounds(first: 20) { totalCount edges { node { id roundType"
        " announced { text } amount { usd } participations { investor { name } } } } } } }",
        '{ organizationBySlug(slug: "{company}") { name description website city countryCode'
        " foundedOn roundsByCompanyId(first: 20, orderBy: ANNOUNCED_ON_DESC) { totalCount"
        " nodes { id roundType announcedOn amount { usd }"
        f" participationsByRoundId {{ nodes {{ {_PG_INVESTOR} }} }} }} }} }} }}",
    ),
    "investor_portfolio": (
        '{ organization(slug: "{investor}") { name investments(first: 50) { totalCount'
        " edges { node { isLead amount { usd } round { id roundType announced { text }"
        " amount { usd } company { name slug } } } } } } }",
        '{ organizationBySlug(slug: "{investor}") { name'
        " participationsByInvestorOrganizationId(first: 50) { totalCount nodes { isLead"
        " amount { usd } roundByRoundId { id roundType announcedOn amount { usd }"
        " organizationByCompanyId { name slug } } } } } }",
    ),
    "autocomplete": (
        '{ organizations(first: 8, filter: {search: "sequoia"}) { edges { node {'
        " id name slug } } } }",
        '{ allOrganizations(first: 8, filter: {name: {includesInsensitive: "sequoia"}})'
        " { nodes { id name slug } } }",
    ),
    "largest_rounds": (
        '{ rounds(first: 50, filter: {minAmountUsd: "100000000"},'
        " orderBy: {field: AMOUNT_USD, direction: DESC}) { edges { node {"
        f" id amount {_MONEY} company {{ name }} participations {{ investor {{ name }} }}"
        " } } } }",
        "{ allRounds(first: 50, orderBy: AMOUNT_USD_DESC,"
        ' filter: {amountUsd: {greaterThanOrEqualTo: "100000000"}}) { nodes {'
        f" id amount {_PG_MONEY} organizationByCompanyId {{ name }}"
        f" participationsByRoundId {{ nodes {{ {_PG_INVESTOR} }} }} }} }} }}",
    ),
}


def queries(picks: Picks) -> dict[str, tuple[str, str]]:
    """Each screen's two queries with the picks filled in."""
    names = {
        "{company}": picks.company,
        "{investor}": picks.investor,
        "{round_id}": picks.round_id,
        "{round_public_id}": picks.round_public_id,
    }
    filled = {}
    for screen, pair in SCREENS.items():
        texts = []
        for text in pair:
            for name, value in names.items():
                text = text.replace(name, value)
            texts.append(text)
        filled[screen] = (texts[0], texts[1])
    return filled


async def pick(db_url: str) -> Picks:
    conn = await asyncpg.connect(db_url)
    try:
        company = await conn.fetchval(
            "select o.slug from organizations o join rounds r on r.company_id = o.id"
            " group by o.slug order by count(*) desc, o.slug limit 1"
        )
        investor = await conn.fetchval(
            "select o.slug from organizations o"
            " join participations p on p.investor_organization_id = o.id"
            " group by o.slug order by count(*) desc, o.slug limit 1"
        )
        # Most claims, then most participations: a database may hold no claims at all.
        round_id = await conn.fetchval(
            "select r.id from rounds r"
            " order by (select count(*) from claims c where c.round_id = r.id) desc,"
            " (select count(*) from participations p where p.round_id = r.id) desc, r.id"
            " limit 1"
        )
    finally:
        await conn.close()
    return Picks(company, investor, str(round_id), f"rnd_{round_id.hex}")


def ensure_filter_plugin() -> Path:
    """PostGraphile v4 and the connection filter plugin, in bench/.cache."""
    postgraphile = CACHE / "node_modules" / ".bin" / "postgraphile"
    if not (CACHE / "node_modules" / FILTER_PLUGIN).exists() or not postgraphile.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(  # noqa: S603
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(CACHE),  # noqa: S607
             "postgraphile@4", f"{FILTER_PLUGIN}@2"],
            check=True,
        )  # fmt: skip
    return postgraphile


def _objects(answer: object) -> int:
    """How many objects an answer holds: what each side returned, to compare."""
    if isinstance(answer, dict):
        return 1 + sum(_objects(v) for v in answer.values())
    if isinstance(answer, list):
        return sum(_objects(v) for v in answer)
    return 0


def check(url: str, query: str, headers: dict[str, str]) -> int:
    """One request, which must answer without errors; the objects it returned."""
    answer = httpx.post(url, json={"query": query}, headers=headers, timeout=60).json()
    if answer.get("errors"):
        raise RuntimeError(f"{url}: {answer['errors']}")
    return _objects(answer["data"])


def postgraphile_command(postgraphile: Path, db_url: str, port: int) -> list[str]:
    return [
        str(postgraphile), "-c", db_url, "--port", str(port), "--host", "127.0.0.1",
        "--disable-graphiql", "--append-plugins", FILTER_PLUGIN,
    ]  # fmt: skip


def measure(
    bench: "Bench",
    ours_url: str,
    auth: dict[str, str],
    db_url: str,
    logs: Path,
    *,
    label: str = "",
    picks_url: str | None = None,
) -> None:
    """Each screen against PostGraphile with the filter plugin on `db_url`, which this
    starts; the objects shown are picked in `picks_url` (by default the same database),
    so that a larger database can be asked the same screens as a smaller one."""
    from bench.run import Request, _graphql_body, _ratio, _report, _result

    postgraphile = ensure_filter_plugin()
    picks = asyncio.run(pick(picks_url or db_url))
    print(f"RESULT screens_picks {orjson.dumps(picks).decode()}")
    port = free_port()
    theirs_url = f"http://127.0.0.1:{port}/graphql"
    suffix = f"_{label}" if label else ""
    with server(
        postgraphile_command(postgraphile, db_url, port),
        port=port,
        env={},
        ready_path="/graphql",
        log=logs / f"postgraphile-filter{suffix}.log",
    ):
        for screen, (mine, theirs) in queries(picks).items():
            print(
                f"RESULT screen_{screen}{suffix}_objects dealgraph={check(ours_url, mine, auth)}"
                f" postgraphile={check(theirs_url, theirs, {})}"
            )
            a, b = bench.paired(
                Request(ours_url, _graphql_body(mine), auth),
                Request(theirs_url, _graphql_body(theirs)),
            )
            _result(f"screen_{screen}_dealgraph{suffix}", a)
            _result(f"screen_{screen}_postgraphile{suffix}", b)
            rate = _ratio(a.requests_per_second, b.requests_per_second)
            _report(f"screen_{screen}{suffix}", rate, 1.0)
            p99 = _ratio(a.p99_ms, b.p99_ms)
            _report(f"screen_{screen}{suffix}_p99", p99, 1.0, higher_is_better=False)


def at_scale(
    bench: "Bench", small_url: str, large_url: str, auth: dict[str, str], db_url: str
) -> None:
    """Each screen's latency on the larger database against the smaller one's, the
    objects picked in the smaller one (`db_url`), which the larger one holds too."""
    from bench.run import Request, _graphql_body, _ratio, _report, _result

    picks = asyncio.run(pick(db_url))
    for screen, (mine, _) in queries(picks).items():
        a, b = bench.paired(
            Request(small_url, _graphql_body(mine), auth),
            Request(large_url, _graphql_body(mine), auth),
        )
        _result(f"screen_{screen}_dealgraph_30k", a)
        _result(f"screen_{screen}_dealgraph_1m", b)
        _report(f"scale_screen_{screen}", _ratio(b.mean_ms, a.mean_ms), 1.2, higher_is_better=False)


def main() -> None:
    from bench.run import DATABASE, Bench, _url

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--key", required=True, help="an API key of dealgraph_bench")
    args = parser.parse_args()
    logs = CACHE / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    port = free_port()
    auth = {"Authorization": f"Bearer {args.key}"}
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "--no-access-log", "--port", str(port),
        "api.asgi:from_environment",
    ]  # fmt: skip
    with server(
        command,
        port=port,
        env={"DATABASE_URL": _url(DATABASE)},
        ready_path="/healthz",
        log=logs / "dealgraph-screens.log",
    ):
        bench = Bench(auth, "", seconds=args.seconds, rounds=args.rounds)
        measure(bench, f"http://127.0.0.1:{port}/graphql", auth, _url(DATABASE), logs)


if __name__ == "__main__":
    main()

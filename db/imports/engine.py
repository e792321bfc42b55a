"""Import any delimited file of deals, as its mapping (TOML) says what its columns mean.

Read (`table.py`), parse each record (`rows.py`), resolve every company and investor
name by the one rule (`db/entities.py`), stage the rows by COPY, and let SQL do the
rest (`load.py`): one transaction per file, every record imported, merged or rejected,
checked before the commit. `dry_run` does all of it and rolls back.
"""

import csv
import gc
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from db import entities
from db.imports import acquisitions, load
from db.imports.mapping import DEFAULT_TOLERANCE_DAYS, Column, ImportMapping
from db.imports.rows import (
    Money,
    ParsedFile,
    Party,
    Row,
    RowError,
    Source,
    parse_file,
    source_digest,
)
from db.imports.table import FileReadError, read_table
from db.infra.types import Connection

__all__ = [
    "STEPS",
    "ImportFailed",
    "ImportResult",
    "Reject",
    "import_file",
    "reason_kind",
    "write_rejects",
]

STEPS = ("reading", "parsing", "entities", "staging", "rounds", "acquisitions", "accounting")
# The same lock as the CrunchBase import's: imports take turns.
_LOCK_KEY = 0x63726E62
_SOURCE_NAMESPACE = uuid.UUID("6a0f3f7e-1b7c-4f0e-9d51-1e5d0c2b7a13")
_ROUND_NAMESPACE = uuid.UUID("0f6b8f0c-52a4-4d7c-a0d3-3c5a8e2f9b41")


class ImportFailed(Exception):
    """The file or the mapping cannot be imported at all; nothing was written."""


class AccountingError(Exception):
    """The outcomes do not add up to the rows read: a bug, so nothing is committed."""


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back."""


@dataclass(frozen=True, slots=True)
class Reject:
    file: str
    line: int
    column: str | None
    reason: str
    raw: str


@dataclass(slots=True)
class ImportResult:
    file: str
    read: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    # (outcome, reason) → rows, for merged and rejected rows.
    reasons: Counter[tuple[str, str]] = field(default_factory=Counter)
    rejects: list[Reject] = field(default_factory=list)
    # Resolution step → distinct names, for companies and for investors.
    companies: Counter[str] = field(default_factory=Counter)
    investors: Counter[str] = field(default_factory=Counter)
    # File rounds by how they met the stored rounds: matched, created, own, ambiguous.
    rounds: Counter[str] = field(default_factory=Counter)
    # Rows (not rounds) whose round matched a round stored before (another source's).
    rows_on_stored_rounds: int = 0
    notes: Counter[str] = field(default_factory=Counter)
    written: Counter[str] = field(default_factory=Counter)
    dry_run: bool = False
    seconds: float = 0.0
    # The file's deals are acquisitions, not rounds.
    acquisitions: bool = False

    def summary(self) -> list[str]:
        o = self.outcomes
        lines = [
            f"{self.file}: read {self.read:,} = imported {o['imported']:,} + merged "
            f"{o['merged']:,} + rejected {o['rejected']:,}"
        ]
        grouped = Counter({(o, reason_kind(r)): 0 for o, r in self.reasons})
        for (outcome, reason), n in self.reasons.items():
            grouped[outcome, reason_kind(reason)] += n
        for (outcome, reason), n in sorted(grouped.items()):
            lines.append(f"  {n:>7,}  {outcome}: {reason}")
        for what, steps in (("companies", self.companies), ("investors", self.investors)):
            if steps:
                counted = ", ".join(f"{s} {steps[s]:,}" for s in entities.STEPS if steps[s])
                lines.append(f"{what} resolved by step: {counted}")
        if self.rounds:
            r = self.rounds
            deals = "acquisitions" if self.acquisitions else "rounds"
            lines.append(
                f"{deals}: {r['matched']:,} matched a stored one of another source or file, "
                f"{r['created']:,} created, {r['own']:,} already this source's, "
                f"{r['ambiguous']:,} ambiguous"
                + (f", {r['unmatched']:,} unmatched" if r["unmatched"] else "")
                + f"; rows on stored {deals}: {self.rows_on_stored_rounds:,}"
            )
        if self.notes:
            lines.append("values repaired or left out while reading:")
            lines.extend(f"  {n:>7,}  {note}" for note, n in sorted(self.notes.items()))
        written = ", ".join(f"{table} {n:,}" for table, n in self.written.items()) or "none"
        lines.append(
            f"{'would write' if self.dry_run else 'new rows'}: {written}"
            + (" (dry run: nothing written)" if self.dry_run else "")
        )
        lines.append(f"in {self.seconds:.2f} s")
        return lines


_AMBIGUOUS_NAME = re.compile(r"(company|investor|acquirer) '.*' could be any of .*", re.S)
_AMBIGUOUS_DEAL = re.compile(r"(.* equally well): .*", re.S)


def reason_kind(reason: str) -> str:
    """A reason without the names and ids it cites, to count alike rows together in the
    summary (the reject report keeps the whole reason)."""
    if (name := _AMBIGUOUS_NAME.fullmatch(reason)) is not None:
        return f"{name.group(1)} name could be any of several (candidates in the report)"
    if (deal := _AMBIGUOUS_DEAL.fullmatch(reason)) is not None:
        return f"{deal.group(1)} (candidates in the report)"
    return reason


async def import_file(
    conn: Connection,
    path: Path,
    mapping: ImportMapping,
    *,
    dry_run: bool = False,
    progress: Callable[[str], None] | None = None,
) -> ImportResult:
    """Import `path` as `mapping` says, in one transaction (rolled back when `dry_run`)."""
    step = progress or (lambda _: None)
    started = time.perf_counter()
    result = ImportResult(path.name, dry_run=dry_run, acquisitions=mapping.acquisition is not None)
    step("reading")
    o = mapping.file
    try:
        table = read_table(
            path,
            encoding=o.encoding,
            delimiter=o.delimiter,
            quote=o.quote,
            header=o.header,
            skip_rows=o.skip_rows,
        )
    except FileReadError as e:
        raise ImportFailed(str(e)) from None
    step("parsing")
    try:
        parsed = parse_file(mapping, table)
    except RowError as e:
        raise ImportFailed(f"{path.name}: {e.reason}") from None
    result.read, result.notes = len(parsed.rows), parsed.notes
    collecting = gc.isenabled()
    gc.disable()
    try:
        async with conn.transaction():
            await conn.execute("select pg_advisory_xact_lock($1)", _LOCK_KEY)
            await conn.execute("set local jit = off")
            await _load(conn, path, mapping, parsed, result, step)
            if dry_run:
                # Leaving the block by an exception rolls the transaction back.
                raise _DryRun
    except _DryRun:
        pass
    finally:
        if collecting:
            gc.enable()
    result.seconds = time.perf_counter() - started
    return result


async def _load(
    conn: Connection,
    path: Path,
    mapping: ImportMapping,
    parsed: ParsedFile,
    result: ImportResult,
    step: Callable[[str], None],
) -> None:
    rows = parsed.rows
    match_only = mapping.round is not None and mapping.round.match_only
    step("entities")
    sources = await _sources(conn, rows, result)
    # A match-only file names investors of stored rounds only: who they are is settled
    # once its rows have found their rounds, so that no organization is made for a row
    # that is then rejected.
    await _resolve(conn, mapping, rows, result, companies=True, investors=not match_only)
    step("staging")
    await _drop_staging(conn)
    await conn.execute(load.STAGING)
    source_ord = {s: i for i, s in enumerate(sources)}
    await conn.copy_records_to_table(
        "import_source",
        records=[(i, sid) for i, sid in enumerate(sources.values())],
        columns=["ord", "id"],
    )
    if mapping.acquisition is not None:
        step("acquisitions")
        await acquisitions.stage(conn, rows, path.name, source_ord, sources)
        await load.analyze(conn, "import_source", "import_row", "import_acquisition")
        result.written.update(await acquisitions.load(conn, mapping.acquisition.tolerance_days))
        step("accounting")
        outcomes = await acquisitions.fetch_outcomes(conn)
    else:
        staged = [_staged(row, path.name, source_ord, sources) for row in rows]
        await conn.copy_records_to_table(
            "import_row", records=staged, columns=list(load.ROW_COLUMNS)
        )
        step("rounds")
        await load.analyze(conn, "import_source", "import_row")
        # A file without rounds has none to match: the statements find no rows.
        await load.match_rounds(
            conn, mapping.round.tolerance_days if mapping.round else DEFAULT_TOLERANCE_DAYS
        )
        if match_only:
            by_line = _by_line(rows)
            for unmatched, why in await load.reject_unmatched(conn):
                by_line[unmatched].problem, by_line[unmatched].column = why, None
            await _resolve(conn, mapping, rows, result, companies=False, investors=True)
            await load.set_problems(
                conn, [(r.line, r.problem, r.column) for r in rows if r.problem is not None]
            )
        await conn.copy_records_to_table(
            "import_investor", records=_investors(rows), columns=list(load.INVESTOR_COLUMNS)
        )
        await load.analyze(conn, "import_investor")
        result.written.update(await load.write_rounds(conn, round_claims=not match_only))
        step("accounting")
        outcomes = await load.fetch_outcomes(conn)
    by_line = _by_line(rows)
    for line, column, outcome, reason, match in outcomes:
        result.outcomes[outcome] += 1
        if match == "matched" and outcome != "rejected":
            result.rows_on_stored_rounds += 1
        if reason is not None and outcome != "imported":
            result.reasons[outcome, reason] += 1
        if outcome == "rejected":
            result.rejects.append(Reject(path.name, line, column, reason or "", by_line[line].raw))
    match_table = (
        "import_acquisition_match"
        if mapping.acquisition is not None
        else "import_round_match"
        if mapping.round is not None
        else None
    )
    matches = (
        # One of the two names above, never input.
        await conn.fetch(f"select outcome, count(*) as n from {match_table} group by outcome")
        if match_table is not None
        else []
    )
    result.rounds.update({r["outcome"]: r["n"] for r in matches})
    settled = sum(result.outcomes.values())
    if settled != result.read or result.read != len(rows):
        raise AccountingError(f"{path.name}: {dict(result.outcomes)} for {result.read} rows read")
    result.written = Counter({k: v for k, v in result.written.items() if v})


def _by_line(rows: list[Row]) -> dict[int, Row]:
    return {row.line: row for row in rows}


def _investors(rows: list[Row]) -> list[tuple[object, ...]]:
    staged = []
    for row in rows:
        if row.problem is None:
            for ord_, inv in enumerate(row.investors):
                kind, entity_id = row.investor_ids[ord_]
                staged.append(
                    (
                        row.line,
                        ord_,
                        entity_id if kind == entities.ORGANIZATION else None,
                        entity_id if kind == entities.PERSON else None,
                        inv.is_lead,
                        *(_money_fields(inv.share)),
                    )
                )
    return staged


async def _drop_staging(conn: Connection) -> None:
    """Staging tables go at the commit; an import nested in a caller's transaction (the
    CrunchBase set, one file after the other) finds the last file's still there."""
    names = await conn.fetch(
        "select relname from pg_class where relnamespace = pg_my_temp_schema()"
        " and relkind = 'r' and relname like 'import\\_%'"
    )
    for r in names:
        # Names read from the catalog, quoted.
        await conn.execute(f'drop table "{r["relname"]}"')


async def _sources(
    conn: Connection, rows: list[Row], result: ImportResult
) -> dict[Source, uuid.UUID]:
    """The id of each distinct source the rows cite: one with the URL if stored, else one
    derived from what the mapping says of it (so a second import finds the same)."""
    distinct = list(dict.fromkeys(r.source for r in rows if r.problem is None and r.source))
    ids: dict[Source, uuid.UUID] = {}
    for source in distinct:
        derived = uuid.uuid5(_SOURCE_NAMESPACE, source.url or source_digest(source))
        found = await conn.fetchrow(
            """
            with added as (
                insert into sources (id, url, publisher, title, language, published_at, kind)
                values ($1, $2, $3, $4, $5, $6, $7)
                on conflict do nothing
                returning id
            )
            select id, true as new from added
            union all
            select id, false from sources where id = $1 or ($2::text is not null and url = $2)
            limit 1
            """,
            derived,
            source.url,
            source.publisher,
            source.title,
            source.language,
            source.published_at,
            source.kind,
        )
        assert found is not None
        ids[source] = found["id"]
        result.written["sources"] += int(found["new"])
    return ids


async def _resolve(
    conn: Connection,
    mapping: ImportMapping,
    rows: list[Row],
    result: ImportResult,
    *,
    companies: bool,
    investors: bool,
) -> None:
    """Resolve every company (and acquirer) and investor named by a good row; a name that
    is ambiguous (or a company that is a person) rejects its row, naming the candidates.
    A match-only file makes no company: one that is not stored rejects its row."""
    good = [r for r in rows if r.problem is None]
    make_companies = mapping.round is None or not mapping.round.match_only
    mentions: dict[entities.Mention, None] = {}
    for row in good:
        if companies:
            mentions[_company_mention(row)] = None
            if row.acquirer is not None:
                mentions[_acquirer_mention(row)] = None
        if investors:
            for inv in row.investors:
                mentions[entities.Mention(inv.name, kind=_kind(inv.kind))] = None
    ordered = list(mentions)
    found = dict(zip(ordered, await entities.resolve(conn, ordered), strict=True))

    # New names: one entity per name key (a company with its own slug stays itself),
    # an organization unless the file says person.
    investor_mentions = {
        entities.Mention(inv.name, kind=_kind(inv.kind)) for row in good for inv in row.investors
    }
    new = [
        m
        for m in ordered
        if found[m].step == "new" and (make_companies or (investors and m in investor_mentions))
    ]
    keys = dict(
        zip(
            new,
            await conn.fetchval(
                "select array_agg(entity_name_key(n) order by o) "
                "from unnest($1::text[]) with ordinality as x(n, o)",
                [m.name for m in new],
            )
            or [],
            strict=True,
        )
    )
    groups: dict[tuple[str, str, str | None], list[entities.Mention]] = {}
    for m in new:
        kind = entities.PERSON if m.kind == entities.PERSON else entities.ORGANIZATION
        groups.setdefault((kind, keys[m], m.slug), []).append(m)
    # A mention without a slug joins an entity of its key made for a mention with one.
    with_slug = {(k, key): g for (k, key, slug), g in groups.items() if slug is not None}
    for (kind, key, slug), members in list(groups.items()):
        if slug is None and (kind, key) in with_slug:
            with_slug[kind, key].extend(members)
            del groups[kind, key, slug]
    created: dict[entities.Mention, tuple[str, uuid.UUID]] = {}
    spellings: list[tuple[uuid.UUID, str]] = []
    for kind in (entities.ORGANIZATION, entities.PERSON):
        chosen = [(g[0], g) for (k, _, _), g in groups.items() if k == kind]
        # Two groups can start with one name (a slug given in one row, not another).
        wished: dict[str, str | None] = {}
        for m, _ in chosen:
            wished.setdefault(m.name or "", m.slug)
        made = dict(
            zip(
                wished,
                await entities.create(conn, list(wished), kind=kind, slugs=list(wished.values())),
                strict=True,
            )
        )
        result.written["people" if kind == entities.PERSON else "organizations"] += len(made)
        for first, members in chosen:
            entity_id = made[first.name or ""]
            for m in members:
                created[m] = (kind, entity_id)
                if kind == entities.ORGANIZATION and m.name and m.name != first.name:
                    spellings.append((entity_id, m.name))

    def entity(m: entities.Mention) -> tuple[str, uuid.UUID] | entities.Resolution:
        r = found[m]
        if r.step == "new":
            return created.get(m, r)
        if r.step == "ambiguous":
            return r
        assert r.kind is not None
        assert r.entity_id is not None
        return r.kind, r.entity_id

    def organization(
        row: Row, mention: entities.Mention, what: str, column: Column | None
    ) -> uuid.UUID | None:
        """The organization a company or acquirer mention is; None with the row's problem
        set when it is none."""
        resolved = entity(mention)
        if isinstance(resolved, entities.Resolution):
            row.problem = (
                f"{what} {mention.name!r} could be any of {', '.join(resolved.candidates)}"
                if resolved.step == "ambiguous"
                else "no matching round: the company is not stored"
            )
            row.column = _label(column) if column is not None else None
            return None
        if resolved[0] != entities.ORGANIZATION:
            row.problem = f"{what} {mention.name!r} is a person"
            row.column = _label(column) if column is not None else None
            return None
        if found[mention].step in ("name", "alias", "fuzzy", "slug") and mention.name:
            spellings.append((resolved[1], mention.name))
        return resolved[1]

    counted_companies: set[entities.Mention] = set()
    counted_investors: set[entities.Mention] = set()
    for row in good:
        if companies:
            company = _company_mention(row)
            if company not in counted_companies:
                counted_companies.add(company)
                result.companies[found[company].step] += 1
            row.company_id = organization(row, company, "company", mapping.company.name)
            if row.company_id is None:
                continue
            if row.acquirer is not None and mapping.acquisition is not None:
                acquirer = _acquirer_mention(row)
                if acquirer not in counted_companies:
                    counted_companies.add(acquirer)
                    result.companies[found[acquirer].step] += 1
                row.acquirer_id = organization(
                    row, acquirer, "acquirer", mapping.acquisition.acquirer
                )
                if row.acquirer_id is None:
                    continue
                if row.acquirer_id == row.company_id:
                    row.problem = "the acquirer is the company acquired"
                    row.column = _label(mapping.acquisition.acquirer)
                    continue
        if not investors:
            continue
        ids = []
        for inv in row.investors:
            mention = entities.Mention(inv.name, kind=_kind(inv.kind))
            if mention not in counted_investors:
                counted_investors.add(mention)
                result.investors[found[mention].step] += 1
            resolved_investor = entity(mention)
            if isinstance(resolved_investor, entities.Resolution):
                row.problem = (
                    f"investor {inv.name!r} could be any of "
                    f"{', '.join(resolved_investor.candidates)}"
                )
                row.column = _label(mapping.investors.name) if mapping.investors else None
                break
            ids.append(resolved_investor)
            if resolved_investor[0] == entities.ORGANIZATION and found[mention].step != "new":
                spellings.append((resolved_investor[1], inv.name))
        else:
            row.investor_ids = ids
    result.written["organization aliases"] += await entities.add_aliases(conn, spellings)
    if companies:
        result.written["organizations updated"] += await _fill_organizations(conn, good)


async def _fill_organizations(conn: Connection, rows: list[Row]) -> int:
    """What the rows say of their organizations fills those organizations' empty fields;
    it never overwrites what is stored."""
    parties: list[tuple[uuid.UUID, Row | Party]] = []
    for row in rows:
        if row.problem is None and row.company_id is not None:
            parties.append((row.company_id, row))
            if row.acquirer is not None and row.acquirer_id is not None:
                parties.append((row.acquirer_id, row.acquirer))
    filled = await conn.execute(
        """
        update organizations o set
            website = coalesce(o.website, x.website),
            country_code = coalesce(o.country_code, x.country_code),
            city = coalesce(o.city, x.city),
            categories = case when o.categories = '{}' then coalesce(x.categories, '{}')
                         else o.categories end,
            founded_on = coalesce(o.founded_on, x.founded_on),
            founded_precision = case when o.founded_on is null then x.founded_precision
                                else o.founded_precision end,
            updated_at = now()
        from (
            select distinct on (id) id, website, country_code, city, categories, founded_on,
                founded_precision::date_precision
            from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::date[],
                        $7::text[])
                with ordinality as x(id, website, country_code, city, categories_text,
                                     founded_on, founded_precision, ord)
            cross join lateral (select string_to_array(categories_text, chr(31)) as categories) c
            order by id, ord
        ) x
        where o.id = x.id
          and ((o.website is null and x.website is not null)
               or (o.country_code is null and x.country_code is not null)
               or (o.city is null and x.city is not null)
               or (o.categories = '{}' and x.categories is not null)
               or (o.founded_on is null and x.founded_on is not null))
        """,
        [i for i, _ in parties],
        [p.website if isinstance(p, Row) else None for _, p in parties],
        [p.country_code for _, p in parties],
        [p.city for _, p in parties],
        [chr(31).join(p.categories) if p.categories else None for _, p in parties],
        [p.founded_on if isinstance(p, Row) else None for _, p in parties],
        [p.founded_precision if isinstance(p, Row) else None for _, p in parties],
    )
    return load.inserted(filled)


def _label(column: Column) -> str:
    return column if isinstance(column, str) else f"column {column}"


def _kind(kind: str | None) -> str | None:
    return {"ORGANIZATION": entities.ORGANIZATION, "PERSON": entities.PERSON}.get(kind or "")


def _company_mention(row: Row) -> entities.Mention:
    return entities.Mention(row.company_name, slug=row.company_slug, kind=entities.ORGANIZATION)


def _acquirer_mention(row: Row) -> entities.Mention:
    assert row.acquirer is not None
    return entities.Mention(row.acquirer.name, slug=row.acquirer.slug, kind=entities.ORGANIZATION)


def _money_fields(money: Money | None) -> tuple[object, ...]:
    if money is None:
        return (None, None, None, None, None)
    return (money.qualifier, money.currency, money.low, money.high, money.usd)


def _staged(
    row: Row, file: str, source_ord: dict[Source, int], sources: dict[Source, uuid.UUID]
) -> tuple[object, ...]:
    ok = row.problem is None
    company_id = row.company_id if ok else None
    source = row.source if ok else None
    new_round_id = None
    if ok and source is not None and row.round_key is not None and company_id is not None:
        new_round_id = uuid.uuid5(
            _ROUND_NAMESPACE, f"{sources[source]}:{company_id}:{row.round_key}"
        )
    return (
        row.line,
        row.problem,
        row.column,
        source_ord.get(source) if source else None,
        company_id,
        ok and row.round_key is not None,
        row.round_key,
        new_round_id,
        row.round_type,
        row.label,
        row.announced_on,
        row.announced_precision,
        *_money_fields(row.amount),
        row.usd_rate if row.amount is not None else None,
        row.usd_rate_date if row.amount is not None else None,
        row.status,
        row.stage,
        # A rejected record's text may not even be text (bytes not in its encoding).
        row.raw[:5000] if ok else None,
        f"{file}, line {row.line}",
    )


def write_rejects(path: Path, rejects: list[Reject]) -> None:
    """The reject report: file, line, column, reason, raw (the record as in the file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", errors="backslashreplace", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["file", "line", "column", "reason", "raw"])
        writer.writerows((r.file, r.line, r.column or "", r.reason, r.raw) for r in rejects)

"""Bulk import of the CrunchBase 2013 set (`shared/data/crunchbase-2013`).

`read` finds and decodes the files, `parse` turns records into typed staging rows,
`load` does the rest in SQL. Every record of every file ends up imported, merged as
a duplicate of another record, or rejected with a reason; the counts are checked
before the transaction commits, and a database error leaves nothing behind.
"""

import csv
import gc
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from db.imports.crunchbase import load, parse
from db.imports.crunchbase.read import (
    ACQUISITIONS,
    COMPANIES,
    FILES,
    INVESTMENTS,
    ROUNDS,
    CrunchbaseFileError,
    FileSpec,
    RawFile,
    Reject,
    read_file,
)
from db.infra.types import Connection

__all__ = [
    "STEPS",
    "CrunchbaseFileError",
    "FileSummary",
    "ImportResult",
    "import_crunchbase",
    "write_rejects",
]

# What `progress` is told, in order: one call as each step starts.
STEPS = (
    *(f"reading {spec.name}" for spec in FILES),
    "staging",
    "companies",
    "rounds",
    "investments",
    "acquisitions",
    "accounting",
)
# What `rows` is told: a file's name, how many of its rows are settled (imported, merged
# or rejected), and how many it has. Once when the file is read, once when it is settled.
RowsProgress = Callable[[str, int, int], None]
# Any constant works; it only has to be the same in every dealgraph process.
_LOCK_KEY = 0x63726E62  # "crnb"


class AccountingError(Exception):
    """The outcomes do not add up to the rows read: a bug, so nothing is committed."""


@dataclass(frozen=True, slots=True)
class FileSummary:
    name: str
    read: int
    imported: int
    merged: int
    rejected: int
    # Repairs made on the way, by kind.
    notes: dict[str, int]


@dataclass(frozen=True, slots=True)
class ImportResult:
    files: list[FileSummary]
    # (file, reason) → rows merged into another row of the file
    merged: dict[tuple[str, str], int]
    rejects: list[Reject]
    # New rows per table: all zero when the set was imported before.
    written: dict[str, int]
    seconds: float

    def summary(self) -> list[str]:
        lines = [f"{'file':<28} {'read':>8} {'imported':>9} {'merged':>7} {'rejected':>9}"]
        for f in self.files:
            lines.append(
                f"{f.name:<28} {f.read:>8,} {f.imported:>9,} {f.merged:>7,} {f.rejected:>9,}"
            )
        if self.merged:
            lines.append("merged:")
            lines.extend(f"  {n:>7,}  {file}: {why}" for (file, why), n in self.merged.items())
        rejected = Counter((r.file, r.reason) for r in self.rejects)
        if rejected:
            lines.append("rejected:")
            lines.extend(f"  {n:>7,}  {file}: {why}" for (file, why), n in rejected.items())
        notes = [(f.name, note, n) for f in self.files for note, n in f.notes.items()]
        if notes:
            lines.append("values repaired or left out while reading:")
            lines.extend(f"  {n:>7,}  {file}: {note}" for file, note, n in notes)
        written = ", ".join(f"{table} {n:,}" for table, n in self.written.items())
        lines.append(f"new rows: {written}")
        lines.append(f"in {self.seconds:.2f} s")
        return lines


async def import_crunchbase(
    conn: Connection,
    directory: Path,
    *,
    progress: Callable[[str], None] | None = None,
    rows: RowsProgress | None = None,
) -> ImportResult:
    """Import the set in `directory`, in one transaction; `progress` hears of each step,
    `rows` of each file's rows."""
    # The import holds some two million small objects and makes no reference cycles:
    # the cycle collector would only walk them again and again (a quarter of the time
    # of a run that finds everything imported already, when measured).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return await _import(
            conn, directory, progress or (lambda _: None), rows or (lambda *_: None)
        )
    finally:
        if collecting:
            gc.enable()


async def _import(
    conn: Connection, directory: Path, step: Callable[[str], None], rows: RowsProgress
) -> ImportResult:
    started = time.perf_counter()
    raw: dict[str, RawFile] = {}

    def read(spec: FileSpec) -> RawFile:
        step(f"reading {spec.name}")
        raw[spec.name] = read_file(directory, spec)
        rows(spec.name, 0, raw[spec.name].read)
        return raw[spec.name]

    def settled(spec: FileSpec) -> None:
        rows(spec.name, raw[spec.name].read, raw[spec.name].read)

    # All files are read before the database is touched: a missing or foreign file
    # stops the import before it starts.
    companies = parse.companies(read(COMPANIES))
    rounds = parse.rounds(read(ROUNDS))
    investments = parse.investments(read(INVESTMENTS))
    acquisitions = parse.acquisitions(read(ACQUISITIONS))
    staged = {
        COMPANIES.name: len(companies),
        ROUNDS.name: len(rounds),
        INVESTMENTS.name: len(investments),
        ACQUISITIONS.name: len(acquisitions),
    }

    written: Counter[str] = Counter()
    async with conn.transaction():
        # One import at a time: a second one waits here, then finds everything done.
        await conn.execute("select pg_advisory_xact_lock($1)", _LOCK_KEY)
        # These statements run once over the whole set; compiling them costs more
        # than it saves (about a fifth of the import's time when measured).
        await conn.execute("set local jit = off")
        step("staging")
        await load.stage(conn, companies, rounds, investments, acquisitions)
        step("companies")
        written.update(await load.load_companies(conn))
        settled(COMPANIES)
        step("rounds")
        written.update(await load.load_rounds(conn))
        settled(ROUNDS)
        step("investments")
        written.update(await load.load_investments(conn))
        settled(INVESTMENTS)
        step("acquisitions")
        written.update(await load.load_acquisitions(conn))
        settled(ACQUISITIONS)
        step("accounting")
        outcomes = await load.fetch_outcomes(conn)
        files, rejects = _account(raw, staged, outcomes)
    return ImportResult(
        files, outcomes.merged, rejects, dict(written), time.perf_counter() - started
    )


def _account(
    raw: dict[str, RawFile], staged: dict[str, int], outcomes: load.Outcomes
) -> tuple[list[FileSummary], list[Reject]]:
    files, rejects = [], []
    for spec in FILES:
        source = raw[spec.name]
        counts = outcomes.counts.get(spec.name, {})
        imported, merged = counts.get("imported", 0), counts.get("merged", 0)
        if imported + merged + counts.get("rejected", 0) != staged[spec.name]:
            raise AccountingError(f"{spec.name}: {counts} for {staged[spec.name]} staged rows")
        file_rejects = source.rejects + [
            source.reject(o.line, o.reason) for o in outcomes.rejected if o.file == spec.name
        ]
        file_rejects.sort(key=lambda r: r.line)
        if imported + merged + len(file_rejects) != source.read:
            raise AccountingError(
                f"{spec.name}: {imported} imported + {merged} merged + {len(file_rejects)} "
                f"rejected != {source.read} read"
            )
        files.append(
            FileSummary(
                spec.name, source.read, imported, merged, len(file_rejects), dict(source.notes)
            )
        )
        rejects.extend(file_rejects)
    return files, rejects


def write_rejects(path: Path, rejects: list[Reject]) -> None:
    """The reject report: file, line (record number, 1 = first after the header), reason, raw."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # backslashreplace: a record rejected as not UTF-8 is written with its bad bytes escaped.
    with path.open("w", encoding="utf-8", errors="backslashreplace", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["file", "line", "reason", "raw"])
        writer.writerows((r.file, r.line, r.reason, r.raw) for r in rejects)

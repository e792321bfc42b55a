"""The CrunchBase 2013 set (`shared/data/crunchbase-2013`), on the mapping engine.

Each of the set's four files is imported by `engine.import_file` with the mapping that
ships beside this module (`db/imports/mappings/crunchbase/*.toml`), in the order that
lets each find what the one before stored: companies, rounds, investments (match-only:
investors of the stored rounds), acquisitions. All four run in one transaction: a
missing file or a database error leaves nothing behind. Every record of every file ends
up imported, merged or rejected with a reason, checked per file by the engine.
"""

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from db import entities
from db.imports import engine
from db.imports.engine import ImportFailed, Reject, write_rejects
from db.imports.mapping import ImportMapping, load_mapping
from db.infra.types import Connection

__all__ = [
    "FILES",
    "STEPS",
    "CrunchbaseFileError",
    "FileSummary",
    "ImportResult",
    "import_crunchbase",
    "write_rejects",
]

MAPPINGS = Path(__file__).parent.parent / "mappings" / "crunchbase"


@dataclass(frozen=True, slots=True)
class FileSpec:
    name: str
    directory: str
    mapping: str


FILES = (
    FileSpec("crunchbase-companies.csv", "oct-2013-export", "companies.toml"),
    FileSpec("crunchbase-rounds.csv", "oct-2013-export", "rounds.toml"),
    FileSpec("investments.csv", "dec-2013-snapshot-investments", "investments.toml"),
    FileSpec("crunchbase-acquisitions.csv", "oct-2013-export", "acquisitions.toml"),
)
# What `progress` is told, in order: one call as each file starts.
STEPS = tuple(spec.name for spec in FILES)
# What `rows` is told: a file's name, how many of its rows are settled (imported, merged
# or rejected), and how many it has. Once when the file is read, once when it is settled.
RowsProgress = Callable[[str, int, int], None]


class CrunchbaseFileError(Exception):
    """A file is missing or is not the file it should be; nothing was imported."""


@dataclass(frozen=True, slots=True)
class FileSummary:
    name: str
    read: int
    imported: int
    merged: int
    rejected: int
    # Repairs made on the way, by kind.
    notes: dict[str, int]
    # The engine's account of the file: reasons, resolution steps, rounds matched.
    detail: engine.ImportResult


@dataclass(frozen=True, slots=True)
class ImportResult:
    files: list[FileSummary]
    # (file, reason) → rows merged into another
    merged: dict[tuple[str, str], int]
    rejects: list[Reject]
    # New rows per table: all zero when the set was imported before.
    written: dict[str, int]
    seconds: float
    # How many distinct investor names each step of the entity-resolution rule
    # (db/entities.py) settled: slug, name, alias, fuzzy, new, ambiguous.
    investor_steps: dict[str, int] = field(default_factory=dict)

    def summary(self) -> list[str]:
        lines = [f"{'file':<28} {'read':>8} {'imported':>9} {'merged':>7} {'rejected':>9}"]
        for f in self.files:
            lines.append(
                f"{f.name:<28} {f.read:>8,} {f.imported:>9,} {f.merged:>7,} {f.rejected:>9,}"
            )
        if self.merged:
            lines.append("merged:")
            lines.extend(f"  {n:>7,}  {file}: {why}" for (file, why), n in self.merged.items())
        rejected = Counter((r.file, engine.reason_kind(r.reason)) for r in self.rejects)
        if rejected:
            lines.append("rejected:")
            lines.extend(f"  {n:>7,}  {file}: {why}" for (file, why), n in sorted(rejected.items()))
        notes = [(f.name, note, n) for f in self.files for note, n in f.notes.items()]
        if notes:
            lines.append("values repaired or left out while reading:")
            lines.extend(f"  {n:>7,}  {file}: {note}" for file, note, n in notes)
        lines.append("names resolved by step, and deals matched to stored ones:")
        for f in self.files:
            for what, steps in (
                ("companies", f.detail.companies),
                ("investors", f.detail.investors),
            ):
                if steps:
                    counted = ", ".join(f"{s} {steps[s]:,}" for s in entities.STEPS if steps[s])
                    lines.append(f"  {f.name} {what}: {counted}")
            r = f.detail.rounds
            if r:
                lines.append(
                    f"  {f.name} {'acquisitions' if f.detail.acquisitions else 'rounds'}: "
                    + ", ".join(f"{k} {r[k]:,}" for k in sorted(r))
                )
        written = ", ".join(f"{table} {n:,}" for table, n in self.written.items() if n)
        lines.append(f"new rows: {written or 'none'}")
        lines.append(f"in {self.seconds:.2f} s")
        return lines


def locate(directory: Path, spec: FileSpec) -> Path:
    """The file in the set's layout (`oct-2013-export/crunchbase-rounds.csv[.gz]`)."""
    for name in (f"{spec.name}.gz", spec.name):
        path = directory / spec.directory / name
        if path.is_file():
            return path
    raise CrunchbaseFileError(f"{directory / spec.directory / spec.name}[.gz] not found")


def mappings() -> dict[str, ImportMapping]:
    """The shipped mapping of each file, by the file's name."""
    return {spec.name: load_mapping(MAPPINGS / spec.mapping) for spec in FILES}


async def import_crunchbase(
    conn: Connection,
    directory: Path,
    *,
    progress: Callable[[str], None] | None = None,
    rows: RowsProgress | None = None,
) -> ImportResult:
    """Import the set in `directory`, in one transaction; `progress` hears of each file,
    `rows` of each file's rows."""
    step = progress or (lambda _: None)
    counted = rows or (lambda *_: None)
    started = time.perf_counter()
    # A missing file stops the import before it starts.
    paths = {spec.name: locate(directory, spec) for spec in FILES}
    maps = mappings()
    files: list[FileSummary] = []
    merged: dict[tuple[str, str], int] = {}
    rejects: list[Reject] = []
    written: Counter[str] = Counter()
    investor_steps: Counter[str] = Counter()
    async with conn.transaction():
        for spec in FILES:
            step(spec.name)
            try:
                done = await engine.import_file(conn, paths[spec.name], maps[spec.name])
            except ImportFailed as e:
                raise CrunchbaseFileError(str(e)) from None
            counted(spec.name, 0, done.read)
            counted(spec.name, done.read, done.read)
            o = done.outcomes
            files.append(
                FileSummary(
                    spec.name,
                    done.read,
                    o["imported"],
                    o["merged"],
                    o["rejected"],
                    dict(done.notes),
                    done,
                )
            )
            for (outcome, reason), n in done.reasons.items():
                if outcome == "merged":
                    merged[spec.name, reason] = n
            rejects.extend(
                Reject(spec.name, r.line, r.column, r.reason, r.raw) for r in done.rejects
            )
            written.update(done.written)
            investor_steps.update(done.investors)
    return ImportResult(
        files,
        merged,
        rejects,
        dict(written),
        time.perf_counter() - started,
        dict(investor_steps),
    )

"""The files of the CrunchBase 2013 set, read into records: found, gunzipped, decoded.

Every record of a file comes out as either its fields or a reject (it cannot be split
into the file's columns, or cannot be stored as text at all). What the fields mean is
`parse.py`'s business.
"""

import csv
import gzip
import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class FileSpec:
    name: str
    directory: str
    columns: tuple[str, ...]
    # The October export is Mac Roman, with some names already mangled before that
    # (UTF-8 read as Latin-1); the December file is clean UTF-8.
    mac_roman: bool


def _header(line: str) -> tuple[str, ...]:
    """The columns, written as the file's header line."""
    return tuple(line.split(","))


COMPANIES = FileSpec(
    "crunchbase-companies.csv",
    "oct-2013-export",
    _header(
        "permalink,name,category_code,funding_total_usd,status,country_code,state_code,region,"
        "city,funding_rounds,founded_at,founded_month,founded_quarter,founded_year,"
        "first_funding_at,last_funding_at,last_milestone_at"
    ),
    mac_roman=True,
)
ROUNDS = FileSpec(
    "crunchbase-rounds.csv",
    "oct-2013-export",
    _header(
        "company_permalink,company_name,company_category_code,company_country_code,"
        "company_state_code,company_region,company_city,funding_round_type,funded_at,"
        "funded_month,funded_quarter,funded_year,raised_amount_usd"
    ),
    mac_roman=True,
)
ACQUISITIONS = FileSpec(
    "crunchbase-acquisitions.csv",
    "oct-2013-export",
    _header(
        "company_permalink,company_name,company_category_code,company_country_code,"
        "company_state_code,company_region,company_city,acquirer_permalink,acquirer_name,"
        "acquirer_category_code,acquirer_country_code,acquirer_state_code,acquirer_region,"
        "acquirer_city,acquired_at,acquired_month,acquired_quarter,acquired_year,price_amount,"
        "price_currency_code"
    ),
    mac_roman=True,
)
INVESTMENTS = FileSpec(
    "investments.csv",
    "dec-2013-snapshot-investments",
    ("company_name", "investor_name", "funded_when", "amount_usd"),
    mac_roman=False,
)
FILES = (COMPANIES, ROUNDS, INVESTMENTS, ACQUISITIONS)


class CrunchbaseFileError(Exception):
    """A file is missing or is not the file it should be; nothing was imported."""


@dataclass(frozen=True, slots=True)
class Reject:
    file: str
    # The record's number in its file: 1 is the first record after the header.
    line: int
    reason: str
    # The record as it stands in the file, decoded but not repaired, without its line end.
    raw: str


@dataclass(slots=True)
class RawFile:
    spec: FileSpec
    path: Path
    # (record number, fields) of every record that has the file's number of fields.
    records: list[tuple[int, list[str]]] = field(default_factory=list)
    # The text of record n is raw[n - 1], line end included (see `text`).
    raw: list[str] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    # Repairs made on the way (mojibake, ...), counted by kind, for the summary.
    notes: Counter[str] = field(default_factory=Counter)

    @property
    def read(self) -> int:
        return len(self.raw)

    def text(self, line: int) -> str:
        """Record `line` as it stands in the file, decoded, without its line end."""
        raw = self.raw[line - 1]
        if raw.endswith("\r\n"):
            return raw[:-2]
        if raw.endswith(("\r", "\n")):
            return raw[:-1]
        return raw

    def reject(self, line: int, reason: str) -> Reject:
        return Reject(self.spec.name, line, reason, self.text(line))


def locate(directory: Path, spec: FileSpec) -> Path:
    """The file in the set's layout (`oct-2013-export/crunchbase-rounds.csv[.gz]`)."""
    for name in (f"{spec.name}.gz", spec.name):
        path = directory / spec.directory / name
        if path.is_file():
            return path
    raise CrunchbaseFileError(f"{directory / spec.directory / spec.name}[.gz] not found")


def read_file(directory: Path, spec: FileSpec) -> RawFile:
    path = locate(directory, spec)
    data = path.read_bytes()
    # Gzipped or not is told by the content, not the name.
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if spec.mac_roman:
        # Every byte is a Mac Roman character, so this cannot fail.
        text = data.decode("mac_roman")
    else:
        # Bytes that are not UTF-8 reject their record, not the file.
        text = data.decode("utf-8", "surrogateescape").removeprefix("\ufeff")
    return split_records(text, spec, path)


_NUL = "\x00"
_UNDECODED = re.compile("[\udc80-\udcff]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def split_records(text: str, spec: FileSpec, path: Path) -> RawFile:
    result = RawFile(spec, path)
    # newline="" splits on \r, \n and \r\n alike: the October files end lines with \r.
    lines = io.StringIO(text, newline="").readlines()
    records = _records(lines)
    header = next(records, None)
    if header is None or header[1] != list(spec.columns):
        found = "nothing" if header is None else header[0][:200]
        raise CrunchbaseFileError(f"{path}: expected the header of {spec.name}, found {found!r}")
    # Checked per record only when the file has any, which the real files do not.
    has_nul = _NUL in text
    has_undecoded = not spec.mac_roman and _UNDECODED.search(text) is not None
    columns = len(spec.columns)
    for line, (raw, fields) in enumerate(records, start=1):
        result.raw.append(raw)
        if isinstance(fields, csv.Error):
            result.rejects.append(result.reject(line, f"malformed CSV: {fields}"))
            continue
        reason = None
        if has_nul and _NUL in raw:
            reason = "contains a NUL character"
        elif has_undecoded and _UNDECODED.search(raw):
            reason = "not valid UTF-8"
        elif not fields:
            reason = "empty line"
        elif len(fields) != columns:
            reason = f"expected {columns} fields, found {len(fields)}"
        if reason is not None:
            result.rejects.append(result.reject(line, reason))
            continue
        if spec.mac_roman and not raw.isascii():
            for i, value in enumerate(fields):
                repaired = repair_mojibake(value)
                if repaired != value:
                    fields[i] = repaired
                    result.notes["text repaired from UTF-8 read as Latin-1"] += 1
        result.records.append((line, fields))
    return result


def _records(lines: list[str]) -> Iterator[tuple[str, list[str] | csv.Error]]:
    """(raw text, fields) of each record; a record spans lines where a quote holds a break."""
    reader = csv.reader(lines, strict=True)
    consumed = 0
    while True:
        fields: list[str] | csv.Error
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            # The reader goes on with the line after the one it choked on.
            fields = error
        end = reader.line_num
        raw = lines[consumed] if end == consumed + 1 else "".join(lines[consumed:end])
        consumed = end
        yield raw, fields


def repair_mojibake(value: str) -> str:
    """Undo UTF-8 that was read as Latin-1 or Windows-1252: "agÃ¡mi" → "agámi".

    Each run of non-ASCII characters is repaired on its own, and only when its
    characters, written back as Windows-1252 (or Latin-1) bytes, are valid UTF-8:
    a genuine "é" or "™" is no such byte sequence and stays as it is.
    """
    return _NON_ASCII.sub(_repair_run, value)


def _repair_run(match: re.Match[str]) -> str:
    run = match.group()
    for encoding in ("cp1252", "latin-1"):
        try:
            return run.encode(encoding).decode("utf-8")
        except UnicodeError:
            continue
    return run

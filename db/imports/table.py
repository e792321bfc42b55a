"""A delimited text file into records: gunzipped (told by its content), decoded, split.

Every record comes out as its fields or as a reject (the CSV cannot be split, or the
text is not in the file's encoding), with its line in the file and its raw text.
"""

import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

# Tried in order by "detect": a byte order mark decides; else UTF-8 if the bytes are
# valid UTF-8; else Windows-1252 (which decodes any byte), the usual spreadsheet export.
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


class FileReadError(Exception):
    """The file cannot be read at all; nothing was imported."""


@dataclass(frozen=True, slots=True)
class Record:
    # The line of the file the record starts on (1 = the file's first line).
    line: int
    raw: str
    fields: list[str] | None
    # Why the record cannot be used, when it cannot.
    problem: str | None = None


@dataclass(slots=True)
class Table:
    path: Path
    encoding: str
    header: list[str] | None
    records: list[Record] = field(default_factory=list)


def decode(data: bytes, encoding: str) -> tuple[str, str]:
    """(text, encoding used); gzip is told by its magic bytes, not the file's name."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if encoding == "detect":
        for bom, name in _BOMS:
            if data.startswith(bom):
                return data.decode(name), name
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            return data.decode("cp1252", "replace"), "cp1252"
    # Bytes that are not in the declared encoding reject their record, not the file.
    return data.decode(encoding, "surrogateescape").removeprefix("\ufeff"), encoding


def records(
    lines: list[str], *, delimiter: str = ",", quote: str = '"'
) -> Iterator[tuple[int, str, list[str] | csv.Error]]:
    """(first line number, raw text, fields or the CSV error) of each record; a record
    spans lines where a quoted field holds a line break."""
    reader = csv.reader(lines, strict=True, delimiter=delimiter, quotechar=quote)
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
        start = consumed + 1
        consumed = end
        yield start, raw.rstrip("\r\n"), fields


def read_table(
    path: Path,
    *,
    encoding: str = "detect",
    delimiter: str = ",",
    quote: str = '"',
    header: bool = True,
    skip_rows: int = 0,
) -> Table:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise FileReadError(f"{path}: {e.strerror or e}") from None
    try:
        text, used = decode(data, encoding)
    except (OSError, EOFError) as e:
        raise FileReadError(f"{path}: not a readable gzip file: {e}") from None
    # newline="" splits on \r, \n and \r\n alike (classic Mac exports end lines with \r).
    lines = io.StringIO(text, newline="").readlines()[skip_rows:]
    found = records(lines, delimiter=delimiter, quote=quote)
    table = Table(path, used, None)
    if header:
        first = next(found, None)
        if first is None or isinstance(first[2], csv.Error):
            raise FileReadError(f"{path}: no header line after {skip_rows} skipped")
        table.header = [h.strip().removeprefix("\ufeff") for h in first[2]]
    for line, raw, fields in found:
        line += skip_rows
        if isinstance(fields, csv.Error):
            table.records.append(Record(line, raw, None, f"malformed CSV: {fields}"))
        elif not any(f.strip() for f in fields):
            table.records.append(Record(line, raw, None, "empty line"))
        elif "\x00" in raw:
            table.records.append(Record(line, raw, None, "contains a NUL character"))
        elif any("\udc80" <= ch <= "\udcff" for ch in raw):
            table.records.append(Record(line, raw, None, f"not valid {used}"))
        else:
            table.records.append(Record(line, raw, fields))
    return table

"""The mapping file (TOML) that tells the import engine what a file's columns mean.

`load_mapping` reads and checks it whole: every key known, every value of its type,
every enum value one of the API's, every format usable. An error names the key and the
line of the mapping file it is on. README.md, "Importing any file", documents each key.
"""

import datetime
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from db.imports import values

ROUND_TYPES = frozenset(
    [
        "PRE_SEED",
        "SEED",
        "ANGEL",
        "SERIES_A",
        "SERIES_B",
        "SERIES_C",
        "SERIES_D",
        "SERIES_E_PLUS",
        "SERIES_UNKNOWN",
        "CORPORATE",
        "PRIVATE_EQUITY",
        "DEBT",
        "CONVERTIBLE",
        "GRANT",
        "EQUITY_CROWDFUNDING",
        "SECONDARY",
        "POST_IPO",
        "OTHER",
    ]
)
STAGES = frozenset({"IN_TALKS", "ANNOUNCED", "CLOSED", "ABANDONED"})
STATUSES = frozenset({"REPORTED", "CONFIRMED", "DENIED", "RETRACTED"})
SOURCE_KINDS = frozenset(
    {"PRESS_ANONYMOUS", "PRESS_ON_RECORD", "COMPANY_STATEMENT", "INVESTOR_STATEMENT",
     "REGULATORY_FILING", "DATA_VENDOR"}
)  # fmt: skip
INVESTOR_KINDS = frozenset({"ORGANIZATION", "PERSON"})
PARTY_KINDS = frozenset({"COMPANY_STATEMENT", "INVESTOR_STATEMENT", "REGULATORY_FILING"})
# Days added to the coarser of two dates' precisions when matching a stored round.
DEFAULT_TOLERANCE_DAYS = 31

# A column: its header's name, or its position (1 = first) in a file without a header.
Column = str | int


class MappingError(Exception):
    """The mapping cannot be used; the message names the key and its line."""


@dataclass(frozen=True, slots=True)
class FileOptions:
    encoding: str  # a Python codec name, or "detect"
    delimiter: str
    quote: str
    header: bool
    skip_rows: int
    # Undo UTF-8 text that was decoded as Latin-1 or Windows-1252 on its way into the file.
    repair_mojibake: bool = False


@dataclass(frozen=True, slots=True)
class DateRange:
    """The dates a column can truly hold: one outside is a placeholder ("1960-01-01" for
    "unknown"), read as no date."""

    before: datetime.date | None = None  # dates before this are placeholders
    after: datetime.date | None = None  # dates after this are placeholders

    def holds(self, on: datetime.date) -> bool:
        return not (
            (self.before is not None and on < self.before)
            or (self.after is not None and on > self.after)
        )


@dataclass(frozen=True, slots=True)
class Field:
    """A value that is fixed in the mapping, or read per row from a column."""

    fixed: str | None = None
    column: Column | None = None


@dataclass(frozen=True, slots=True)
class SourceMap:
    publisher: Field
    kind: Field
    url: Field
    title: Field
    published: Field
    language: Field
    published_formats: tuple[values.DateFormat, ...]


@dataclass(frozen=True, slots=True)
class CompanyMap:
    name: Column
    slug: Column | None
    website: Column | None
    country: Column | None
    city: Column | None
    categories: Column | None
    categories_separator: str
    founded: Column | None
    founded_formats: tuple[values.DateFormat, ...]
    founded_range: DateRange


@dataclass(frozen=True, slots=True)
class RoundMap:
    # The columns whose values tell one round of a company from another within the file
    # (rows that agree on them describe one round); default: the type and date columns.
    key: tuple[Column, ...]
    type: Column | None
    type_map: dict[str, str]  # keys in lower case
    type_fallback: str | None
    date: Column | None
    date_formats: tuple[values.DateFormat, ...]
    stage: Field
    status: Field
    tolerance_days: int
    date_range: DateRange = DateRange()
    # The rows only find stored rounds: they never create a round nor add a claim on
    # one; a row whose round (or company) is not stored is rejected.
    match_only: bool = False


@dataclass(frozen=True, slots=True)
class AcquisitionMap:
    """An acquisition of the row's company (the target, in [company]) by the acquirer."""

    key: tuple[Column, ...]
    acquirer: Column
    acquirer_slug: Column | None
    acquirer_country: Column | None
    acquirer_city: Column | None
    acquirer_categories: Column | None
    date: Column | None
    date_formats: tuple[values.DateFormat, ...]
    date_range: DateRange
    stage: Field
    status: Field
    tolerance_days: int


@dataclass(frozen=True, slots=True)
class MoneyMap:
    amount: Column | None
    currency: Field
    format: values.MoneyFormat
    # "round": the amount is the round's total; "investor": the investor's part.
    amount_is: str


@dataclass(frozen=True, slots=True)
class InvestorMap:
    name: Column
    separators: tuple[str, ...]
    lead_markers: tuple[str, ...]
    lead: Column | None
    lead_values: frozenset[str]
    kind: Field
    kind_map: dict[str, str]


@dataclass(frozen=True, slots=True)
class ImportMapping:
    file: FileOptions
    source: SourceMap
    company: CompanyMap
    round: RoundMap | None
    money: MoneyMap | None
    investors: InvestorMap | None
    acquisition: AcquisitionMap | None = None
    # Every column the mapping names, with the key that names it, for checking them
    # against the file's header.
    columns: dict[Column, str] = field(default_factory=dict)
    text: str = ""

    def line_of(self, key: str) -> int | None:
        return _line_of(self.text, key)


def _line_of(text: str, dotted: str) -> int | None:
    """The line of `section.key` in the TOML text (by scanning: tomllib keeps no lines)."""
    if "." not in dotted:
        # A whole section: the line of its header.
        for number, line in enumerate(text.splitlines(), start=1):
            header = re.fullmatch(r"\[\s*([^\]]+?)\s*\]\s*(#.*)?", line.strip())
            if header and header.group(1).replace(" ", "") == dotted:
                return number
        return None
    *sections, key = dotted.split(".")
    section = ".".join(sections)
    current = ""
    section_line = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        header = re.fullmatch(r"\[\s*([^\]]+?)\s*\]\s*(#.*)?", stripped)
        if header:
            current = header.group(1).replace(" ", "")
            if current == section:
                section_line = number
            continue
        if current == section and re.match(rf"""["']?{re.escape(key)}["']?\s*=""", stripped):
            return number
    return section_line


class _Reader:
    """Takes values out of the parsed TOML, remembering which keys it took."""

    def __init__(self, data: dict[str, Any], text: str) -> None:
        self.data = data
        self.text = text
        self.columns: dict[Column, str] = {}

    def error(self, key: str, message: str) -> MappingError:
        line = _line_of(self.text, key)
        where = f"line {line}: " if line is not None else ""
        return MappingError(f"mapping: {where}{key}: {message}")

    def section(self, name: str, known: set[str], *, required: bool) -> dict[str, Any] | None:
        value = self.data.get(name)
        if value is None:
            if required:
                raise MappingError(f"mapping: [{name}] is missing")
            return None
        if not isinstance(value, dict):
            raise self.error(name, "must be a table ([" + name + "])")
        for key in value:
            if key not in known:
                raise self.error(
                    f"{name}.{key}", f"unknown key (known: {', '.join(sorted(known))})"
                )
        return value

    def get(
        self, table: Mapping[str, Any], section: str, key: str, kind: type, default: Any
    ) -> Any:
        if key not in table:
            return default
        value = table[key]
        if kind is int and isinstance(value, bool):
            raise self.error(f"{section}.{key}", "must be an integer")
        if not isinstance(value, kind):
            raise self.error(f"{section}.{key}", f"must be {_TYPE_NAMES[kind]}")
        return value

    def column(self, table: Mapping[str, Any], section: str, key: str) -> Column | None:
        if key not in table:
            return None
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self.error(
                f"{section}.{key}", "must be a column: its header name, or its position (1 = first)"
            )
        if isinstance(value, int) and value < 1:
            raise self.error(f"{section}.{key}", "a column's position starts at 1")
        if isinstance(value, str) and not value:
            raise self.error(f"{section}.{key}", "must name a column")
        self.columns.setdefault(value, f"{section}.{key}")
        return value

    def strings(self, table: Mapping[str, Any], section: str, key: str) -> tuple[str, ...] | None:
        if key not in table:
            return None
        value = table[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(f"{section}.{key}", "must be a list of strings")
        return tuple(value)

    def field(
        self, table: Mapping[str, Any], section: str, key: str, allowed: frozenset[str] | None
    ) -> Field:
        fixed = self.get(table, section, key, str, None)
        column = self.column(table, section, f"{key}_column")
        if fixed is not None and column is not None:
            raise self.error(f"{section}.{key}_column", f"give {key} or {key}_column, not both")
        if fixed is not None and allowed is not None and fixed not in allowed:
            raise self.error(f"{section}.{key}", _one_of(fixed, allowed))
        return Field(fixed, column)

    def date_formats(
        self, table: Mapping[str, Any], section: str, key: str
    ) -> tuple[values.DateFormat, ...]:
        given = self.strings(table, section, key) or values.DEFAULT_DATE_FORMATS
        formats = []
        for text in given:
            try:
                formats.append(values.compile_date_format(text))
            except ValueError as e:
                raise self.error(f"{section}.{key}", str(e)) from None
        return tuple(formats)

    def date_range(self, table: Mapping[str, Any], section: str, prefix: str) -> DateRange:
        bounds: list[datetime.date | None] = []
        for side in ("before", "after"):
            key = f"{prefix}_placeholder_{side}"
            text = self.get(table, section, key, str, None)
            if text is None:
                bounds.append(None)
                continue
            try:
                bounds.append(datetime.date.fromisoformat(text))
            except ValueError:
                raise self.error(f"{section}.{key}", "must be a date as YYYY-MM-DD") from None
        before, after = bounds
        if before is not None and after is not None and after < before:
            raise self.error(
                f"{section}.{prefix}_placeholder_after", f"is before {prefix}_placeholder_before"
            )
        return DateRange(before, after)

    def key_columns(self, table: Mapping[str, Any], section: str) -> tuple[Column, ...]:
        key: list[Column] = []
        given_key = self.get(table, section, "key_columns", list, None)
        if given_key is not None:
            if not given_key:
                raise self.error(f"{section}.key_columns", "must name at least one column")
            for column in given_key:
                if isinstance(column, bool) or not isinstance(column, (str, int)):
                    raise self.error(
                        f"{section}.key_columns", "must be a list of columns (names or positions)"
                    )
                key.append(self.column({"key_columns": column}, section, "key_columns") or column)
        return tuple(key)


_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    bool: "true or false",
    list: "a list",
    dict: "a table",
}


def _one_of(value: str, allowed: frozenset[str]) -> str:
    return f"{value!r} is not one of {', '.join(sorted(allowed))}"


_SECTIONS = {
    "file": {"encoding", "delimiter", "quote", "header", "skip_rows", "repair_mojibake"},
    "source": {
        "publisher", "publisher_column", "kind", "kind_column", "url", "url_column", "title",
        "title_column", "published", "published_column", "published_formats", "language",
        "language_column",
    },
    "company": {
        "name_column", "slug_column", "website_column", "country_column", "city_column",
        "categories_column", "categories_separator", "founded_column", "founded_formats",
        "founded_placeholder_before", "founded_placeholder_after",
    },
    "round": {
        "key_columns", "type_column", "type_map", "type", "date_column", "date_formats",
        "stage", "stage_column", "status", "status_column", "match_tolerance_days",
        "date_placeholder_before", "date_placeholder_after", "match_only",
    },
    "acquisition": {
        "key_columns", "acquirer_name_column", "acquirer_slug_column", "acquirer_country_column",
        "acquirer_city_column", "acquirer_categories_column", "date_column", "date_formats",
        "date_placeholder_before", "date_placeholder_after", "stage", "stage_column", "status",
        "status_column", "match_tolerance_days",
    },
    "money": {
        "amount_column", "currency", "currency_column", "decimal_comma", "undisclosed",
        "multiplier", "amount_is",
    },
    "investors": {
        "name_column", "separators", "lead_markers", "lead_column", "lead_values", "kind",
        "kind_column", "kind_map",
    },
}  # fmt: skip


def load_mapping(path: Path) -> ImportMapping:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as e:
        raise MappingError(f"mapping: cannot read {path}: {e}") from None
    return parse_mapping(text)


def parse_mapping(text: str) -> ImportMapping:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise MappingError(f"mapping: not valid TOML: {e}") from None
    r = _Reader(data, text)
    for name in data:
        if name not in _SECTIONS:
            raise r.error(name, f"unknown section (known: {', '.join(_SECTIONS)})")

    f = r.section("file", _SECTIONS["file"], required=False) or {}
    encoding = r.get(f, "file", "encoding", str, "detect")
    if encoding != "detect":
        try:
            "".encode(encoding)
        except LookupError:
            raise r.error("file.encoding", f"{encoding!r} is not a known encoding") from None
    delimiter = r.get(f, "file", "delimiter", str, ",")
    if len(delimiter) != 1:
        raise r.error("file.delimiter", 'must be one character (a tab is "\\t")')
    quote = r.get(f, "file", "quote", str, '"')
    if len(quote) != 1:
        raise r.error("file.quote", "must be one character")
    skip_rows = r.get(f, "file", "skip_rows", int, 0)
    if skip_rows < 0:
        raise r.error("file.skip_rows", "must be 0 or more")
    options = FileOptions(
        encoding,
        delimiter,
        quote,
        r.get(f, "file", "header", bool, True),
        skip_rows,
        r.get(f, "file", "repair_mojibake", bool, False),
    )

    s = r.section("source", _SECTIONS["source"], required=True)
    assert s is not None
    source = SourceMap(
        publisher=r.field(s, "source", "publisher", None),
        kind=r.field(s, "source", "kind", SOURCE_KINDS),
        url=r.field(s, "source", "url", None),
        title=r.field(s, "source", "title", None),
        published=r.field(s, "source", "published", None),
        language=r.field(s, "source", "language", None),
        published_formats=r.date_formats(s, "source", "published_formats"),
    )
    if source.publisher == Field():
        raise r.error("source.publisher", "give publisher or publisher_column")
    if source.kind == Field():
        raise r.error("source.kind", "give kind or kind_column")
    if source.url.fixed is not None and not re.fullmatch(r"https?://\S{1,2000}", source.url.fixed):
        raise r.error("source.url", "must be an http(s) URL")
    if source.published.fixed is not None:
        try:
            values.parse_date(source.published.fixed, source.published_formats)
        except ValueError as e:
            raise r.error("source.published", str(e)) from None

    c = r.section("company", _SECTIONS["company"], required=True)
    assert c is not None
    company_name = r.column(c, "company", "name_column")
    if company_name is None:
        raise r.error("company.name_column", "is required: the column of the company's name")
    company = CompanyMap(
        name=company_name,
        slug=r.column(c, "company", "slug_column"),
        website=r.column(c, "company", "website_column"),
        country=r.column(c, "company", "country_column"),
        city=r.column(c, "company", "city_column"),
        categories=r.column(c, "company", "categories_column"),
        categories_separator=r.get(c, "company", "categories_separator", str, ","),
        founded=r.column(c, "company", "founded_column"),
        founded_formats=r.date_formats(c, "company", "founded_formats"),
        founded_range=r.date_range(c, "company", "founded"),
    )

    rnd = r.section("round", _SECTIONS["round"], required=False)
    round_map = None
    if rnd is not None:
        type_map: dict[str, str] = {}
        for word, value in r.get(rnd, "round", "type_map", dict, {}).items():
            if not isinstance(value, str) or value not in ROUND_TYPES:
                raise r.error(
                    "round.type_map",
                    f"{word!r} = {value!r}: " + _one_of(str(value), ROUND_TYPES),
                )
            type_map[" ".join(word.split()).lower()] = value
        fallback = r.get(rnd, "round", "type", str, None)
        if fallback is not None and fallback not in ROUND_TYPES:
            raise r.error("round.type", _one_of(fallback, ROUND_TYPES))
        type_column = r.column(rnd, "round", "type_column")
        if type_column is None and fallback is None:
            raise r.error("round.type", "give type_column (with type_map), or type")
        tolerance = r.get(rnd, "round", "match_tolerance_days", int, DEFAULT_TOLERANCE_DAYS)
        if not 0 <= tolerance <= 366:
            raise r.error("round.match_tolerance_days", "must be 0 to 366")
        round_map = RoundMap(
            key=r.key_columns(rnd, "round"),
            type=type_column,
            type_map=type_map,
            type_fallback=fallback,
            date=r.column(rnd, "round", "date_column"),
            date_formats=r.date_formats(rnd, "round", "date_formats"),
            stage=r.field(rnd, "round", "stage", STAGES),
            status=r.field(rnd, "round", "status", STATUSES),
            tolerance_days=tolerance,
            date_range=r.date_range(rnd, "round", "date"),
            match_only=r.get(rnd, "round", "match_only", bool, False),
        )

    a = r.section("acquisition", _SECTIONS["acquisition"], required=False)
    acquisition = None
    if a is not None:
        if round_map is not None:
            raise r.error("acquisition", "a file holds rounds or acquisitions, not both")
        acquirer = r.column(a, "acquisition", "acquirer_name_column")
        if acquirer is None:
            raise r.error("acquisition.acquirer_name_column", "is required in [acquisition]")
        tolerance = r.get(a, "acquisition", "match_tolerance_days", int, DEFAULT_TOLERANCE_DAYS)
        if not 0 <= tolerance <= 366:
            raise r.error("acquisition.match_tolerance_days", "must be 0 to 366")
        acquisition = AcquisitionMap(
            key=r.key_columns(a, "acquisition"),
            acquirer=acquirer,
            acquirer_slug=r.column(a, "acquisition", "acquirer_slug_column"),
            acquirer_country=r.column(a, "acquisition", "acquirer_country_column"),
            acquirer_city=r.column(a, "acquisition", "acquirer_city_column"),
            acquirer_categories=r.column(a, "acquisition", "acquirer_categories_column"),
            date=r.column(a, "acquisition", "date_column"),
            date_formats=r.date_formats(a, "acquisition", "date_formats"),
            date_range=r.date_range(a, "acquisition", "date"),
            stage=r.field(a, "acquisition", "stage", STAGES),
            status=r.field(a, "acquisition", "status", STATUSES),
            tolerance_days=tolerance,
        )

    m = r.section("money", _SECTIONS["money"], required=False)
    money = None
    if m is not None:
        if round_map is None and acquisition is None:
            raise r.error("money", "needs a [round] or [acquisition] section: money is a deal's")
        multiplier_text = r.get(m, "money", "multiplier", (int, float, str), 1)  # type: ignore[arg-type]
        try:
            multiplier = Decimal(str(multiplier_text))
        except InvalidOperation:
            raise r.error("money.multiplier", "must be a number") from None
        if not multiplier.is_finite() or multiplier <= 0:
            raise r.error("money.multiplier", "must be a positive number")
        currency = r.field(m, "money", "currency", None)
        if currency.fixed is not None:
            try:
                code = values.currency_code(currency.fixed)
            except ValueError as e:
                raise r.error("money.currency", str(e)) from None
            currency = Field(fixed=code)
        amount_is = r.get(m, "money", "amount_is", str, "round")
        if amount_is not in ("round", "investor"):
            raise r.error("money.amount_is", "must be round or investor")
        undisclosed = r.strings(m, "money", "undisclosed")
        money = MoneyMap(
            amount=r.column(m, "money", "amount_column"),
            currency=currency,
            format=values.MoneyFormat(
                decimal_comma=r.get(m, "money", "decimal_comma", bool, False),
                undisclosed=(
                    frozenset(values.UNDISCLOSED)
                    if undisclosed is None
                    else frozenset({""} | {" ".join(u.split()).lower() for u in undisclosed})
                ),
                multiplier=multiplier,
            ),
            amount_is=amount_is,
        )
        if money.amount is None:
            raise r.error("money.amount_column", "is required in [money]")

    i = r.section("investors", _SECTIONS["investors"], required=False)
    investors = None
    if i is not None:
        if round_map is None:
            raise r.error("investors", "needs a [round] section: investors are a round's")
        investor_name = r.column(i, "investors", "name_column")
        if investor_name is None:
            raise r.error("investors.name_column", "is required in [investors]")
        kind_map: dict[str, str] = {}
        for word, value in r.get(i, "investors", "kind_map", dict, {}).items():
            if not isinstance(value, str) or value not in INVESTOR_KINDS:
                raise r.error(
                    "investors.kind_map",
                    f"{word!r} = {value!r}: " + _one_of(str(value), INVESTOR_KINDS),
                )
            kind_map[word.strip().lower()] = value
        separators = r.strings(i, "investors", "separators") or ()
        if any(not sep for sep in separators):
            raise r.error("investors.separators", "a separator cannot be empty")
        investors = InvestorMap(
            name=investor_name,
            separators=separators,
            lead_markers=r.strings(i, "investors", "lead_markers") or (),
            lead=r.column(i, "investors", "lead_column"),
            lead_values=frozenset(
                v.strip().lower()
                for v in (
                    r.strings(i, "investors", "lead_values")
                    or ("yes", "true", "1", "lead", "y", "x")
                )
            ),
            kind=r.field(i, "investors", "kind", INVESTOR_KINDS),
            kind_map=kind_map,
        )
    if money is not None and money.amount_is == "investor" and investors is None:
        raise r.error("money.amount_is", "investor needs an [investors] section")
    return ImportMapping(
        options, source, company, round_map, money, investors, acquisition, r.columns, text
    )

"""What each record of a file means under a mapping: the typed rows that get staged.

Everything one record alone decides is decided here (a date that is no date, an amount
that is no amount, a currency without a rate); such a row is still staged, with its
problem and the column at fault, so that every record is accounted for in one place.
Who the names are (entity resolution) and which stored round a row describes is the
SQL's business (`engine.py`, `load.py`).
"""

import datetime
import decimal
import functools
import hashlib
import re
import string
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from db.currency import UnknownCurrency, usd_rate
from db.entities import slugify
from db.imports import values
from db.imports.mapping import (
    PARTY_KINDS,
    ROUND_TYPES,
    SOURCE_KINDS,
    AcquisitionMap,
    Column,
    Field,
    ImportMapping,
)
from db.imports.table import Record, Table

NAME_MAX_LENGTH = 200
QUOTE_MAX_LENGTH = 5000
_COUNTRY = re.compile(r"[A-Z]{3}")
_DOMAIN = re.compile(r"[\w-]+(\.[\w-]+)+(/\S*)?")


class RowError(Exception):
    """One field of one record cannot be used: the row is rejected with this reason."""

    def __init__(self, column: str | None, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


class Source(NamedTuple):
    publisher: str
    kind: str
    url: str | None
    title: str | None
    published_at: datetime.datetime | None
    language: str | None


class Money(NamedTuple):
    qualifier: str
    currency: str
    low: decimal.Decimal | None
    high: decimal.Decimal | None
    usd: decimal.Decimal


class Investor(NamedTuple):
    name: str
    kind: str | None  # ORGANIZATION, PERSON, or None: the file does not tell
    is_lead: bool | None
    share: Money | None


@dataclass(slots=True)
class Row:
    line: int
    raw: str
    problem: str | None = None
    column: str | None = None
    source: Source | None = None
    company_name: str | None = None
    company_slug: str | None = None
    website: str | None = None
    country_code: str | None = None
    city: str | None = None
    categories: list[str] = field(default_factory=list)
    founded_on: datetime.date | None = None
    founded_precision: str | None = None
    # What identifies the row's round within the file (with its company and source).
    round_key: str | None = None
    round_type: str | None = None
    label: str | None = None
    announced_on: datetime.date | None = None
    announced_precision: str | None = None
    amount: Money | None = None
    usd_rate: decimal.Decimal | None = None
    usd_rate_date: datetime.date | None = None
    status: str | None = None
    stage: str | None = None
    investors: list[Investor] = field(default_factory=list)
    # An acquisition's acquirer, when the mapping has [acquisition] (the row's company is
    # the target).
    acquirer: "Party | None" = None
    # Who the names are, once resolved: the company, and each investor as (kind, id).
    company_id: uuid.UUID | None = None
    investor_ids: list[tuple[str, uuid.UUID]] = field(default_factory=list)
    acquirer_id: uuid.UUID | None = None


class Party(NamedTuple):
    """An organization a row names besides its company: an acquirer."""

    name: str
    slug: str | None
    country_code: str | None
    city: str | None
    categories: list[str]


@dataclass(slots=True)
class ParsedFile:
    rows: list[Row]
    # Repairs made or values left out, by kind, for the summary.
    notes: Counter[str]


class _Picker:
    """Reads a mapping's columns out of a record, by header name or position."""

    def __init__(self, mapping: ImportMapping, table: Table) -> None:
        self.index: dict[Column, int] = {}
        for column, key in mapping.columns.items():
            if isinstance(column, int):
                self.index[column] = column - 1
            elif table.header is None:
                raise RowError(
                    None,
                    f"mapping {key} names the column {column!r}, but the file has no header "
                    "([file] header = false): give its position (1 = first)",
                )
            elif column not in table.header:
                raise RowError(
                    None,
                    f"mapping {key}: the file has no column {column!r} "
                    f"(its columns: {', '.join(table.header)})",
                )
            else:
                self.index[column] = table.header.index(column)
        self.names = {c: (str(c) if isinstance(c, str) else f"column {c}") for c in self.index}
        self.width = max(self.index.values(), default=-1) + 1

    def get(self, fields: list[str], column: Column | None) -> str:
        if column is None:
            return ""
        position = self.index[column]
        return fields[position].strip() if position < len(fields) else ""

    def value(self, fields: list[str], spec: Field) -> str | None:
        if spec.fixed is not None:
            return spec.fixed
        text = self.get(fields, spec.column)
        return text or None


def parse_file(mapping: ImportMapping, table: Table) -> ParsedFile:
    """One Row per record; raises RowError (with no column) when the mapping's columns do
    not fit the file at all."""
    picker = _Picker(mapping, table)
    notes: Counter[str] = Counter()
    rates = functools.cache(_rate)
    rows = []
    repair = mapping.file.repair_mojibake
    for record in table.records:
        row = Row(record.line, record.raw)
        if record.problem is not None:
            row.problem = record.problem
        else:
            if repair and record.fields is not None and not record.raw.isascii():
                for i, text in enumerate(record.fields):
                    repaired = values.repair_mojibake(text)
                    if repaired != text:
                        record.fields[i] = repaired
                        notes["text repaired from UTF-8 read as Latin-1"] += 1
            try:
                _parse(mapping, picker, record, row, notes, rates)
            except RowError as e:
                row.problem, row.column = e.reason, e.column
        rows.append(row)
    return ParsedFile(rows, notes)


# Files repeat their dates and amounts: each distinct text is parsed once (a text that
# is no value raises each time; such text is rare).
_parse_amount = functools.lru_cache(maxsize=1 << 16)(values.parse_amount)
_parse_date = functools.lru_cache(maxsize=1 << 16)(values.parse_date)
# A rate and its date, or why there is none.
_Rate = tuple[decimal.Decimal, datetime.date] | str


def _rate(currency: str, on: datetime.date) -> _Rate:
    try:
        found = usd_rate(currency, on)
    except UnknownCurrency as e:
        return str(e)
    return found.rate, found.on


def _parse(
    mapping: ImportMapping,
    picker: _Picker,
    record: Record,
    row: Row,
    notes: Counter[str],
    rates: Callable[[str, datetime.date], _Rate],
) -> None:
    assert record.fields is not None
    fields = record.fields
    if len(fields) < picker.width:
        raise RowError(None, f"expected at least {picker.width} fields, found {len(fields)}")
    row.source = _source(mapping, picker, fields)

    company = mapping.company
    slug = picker.get(fields, company.slug)
    if slug:
        # A vendor's permalink ("/company/acme") is a slug once its path is dropped.
        row.company_slug = slugify(slug.rstrip("/").rsplit("/", 1)[-1])
    row.company_name = _name(picker, fields, company.name, "company", row.company_slug, notes)
    place = _place(
        picker, fields, notes, company.website, company.country, company.city,
        company.categories, company.categories_separator,
    )  # fmt: skip
    row.website, row.country_code, row.city, row.categories = place
    if company.founded is not None:
        founded = _date(picker, fields, company.founded, company.founded_formats)
        if founded is not None and not company.founded_range.holds(founded.on):
            notes[f"{picker.names[company.founded]} a placeholder date: left out"] += 1
        elif founded is not None:
            row.founded_on, row.founded_precision = founded.on, founded.precision

    if mapping.acquisition is not None:
        _parse_acquisition(mapping, mapping.acquisition, picker, fields, row, notes, rates)
        return
    rnd = mapping.round
    if rnd is None:
        return
    word = " ".join(picker.get(fields, rnd.type).split())
    round_type = rnd.type_map.get(word.lower())
    if round_type is None and word.upper().replace(" ", "_").replace("-", "_") in ROUND_TYPES:
        round_type = word.upper().replace(" ", "_").replace("-", "_")
    if round_type is None:
        round_type = rnd.type_fallback
    if round_type is None:
        raise RowError(
            picker.names.get(rnd.type) if rnd.type else None,
            f"round type {word!r} is not in round.type_map and round.type gives no fallback",
        )
    row.round_type, row.label = round_type, word or None
    date = _date(picker, fields, rnd.date, rnd.date_formats)
    if date is not None and not rnd.date_range.holds(date.on):
        assert rnd.date is not None
        notes[f"{picker.names[rnd.date]} a placeholder date: imported without a date"] += 1
    elif date is not None:
        row.announced_on, row.announced_precision = date.on, date.precision
    _status_stage(picker, fields, row, rnd.status, rnd.stage)

    share: Money | None = None
    found = _money(mapping, picker, fields, row, rates)
    if found is not None and mapping.money is not None and mapping.money.amount_is == "investor":
        share = found
    else:
        row.amount = found
    if rnd.key:
        row.round_key = "\x1f".join(" ".join(picker.get(fields, k).split()) for k in rnd.key)
    else:
        date_key = "" if date is None else f"{date.on.isoformat()}/{date.precision}"
        row.round_key = f"{word.lower()}\x1f{date_key}"

    investors = mapping.investors
    if investors is None:
        return
    text = picker.get(fields, investors.name)
    names = [text]
    for separator in investors.separators:
        names = [part for name in names for part in name.split(separator)]
    lead_text = picker.get(fields, investors.lead).lower()
    row_lead = (lead_text in investors.lead_values) if investors.lead is not None else None
    kind_text = picker.value(fields, investors.kind)
    kind = None
    if kind_text is not None:
        kind = investors.kind_map.get(kind_text.strip().lower()) or (
            kind_text.strip().upper()
            if kind_text.strip().upper() in ("ORGANIZATION", "PERSON")
            else None
        )
        if kind is None:
            notes[f"investor kind {kind_text!r} not in investors.kind_map: either"] += 1
    for given in names:
        investor = " ".join(given.split())
        lead = row_lead
        for marker in investors.lead_markers:
            if marker and marker.lower() in investor.lower():
                at = investor.lower().index(marker.lower())
                investor = " ".join((investor[:at] + investor[at + len(marker) :]).split())
                lead = True
        if not investor:
            continue
        if len(investor) > NAME_MAX_LENGTH:
            raise RowError(
                picker.names[investors.name],
                f"investor name longer than {NAME_MAX_LENGTH} characters",
            )
        row.investors.append(
            Investor(
                investor,
                kind,
                lead,
                share,
            )
        )


_SPREADSHEET_ERRORS = frozenset(
    {"#NAME?", "#VALUE!", "#REF!", "#DIV/0!", "#N/A", "#NUM!", "#NULL!", "#ERROR!"}
)


def _name(
    picker: _Picker,
    fields: list[str],
    column: Column,
    what: str,
    slug: str | None = None,
    notes: Counter[str] | None = None,
) -> str:
    name = " ".join(picker.get(fields, column).split())
    if not name or name in _SPREADSHEET_ERRORS:
        if slug is not None and notes is not None:
            # The source's id still says who it is ("#NAME?" for /company/n-plusn).
            notes[f"{what} name blank or a spreadsheet error (#NAME?): the slug stands in"] += 1
            return slug
        raise RowError(picker.names[column], f"blank {what} name")
    if len(name) > NAME_MAX_LENGTH:
        raise RowError(
            picker.names[column], f"{what} name longer than {NAME_MAX_LENGTH} characters"
        )
    return name


def _source(mapping: ImportMapping, picker: _Picker, fields: list[str]) -> Source:
    spec = mapping.source

    def column_of(f: Field) -> str | None:
        return picker.names.get(f.column) if f.column is not None else None

    publisher = picker.value(fields, spec.publisher)
    if publisher is None:
        raise RowError(column_of(spec.publisher), "blank source publisher")
    kind = (picker.value(fields, spec.kind) or "").upper()
    if kind not in SOURCE_KINDS:
        raise RowError(
            column_of(spec.kind),
            f"source kind {kind!r} is not one of {', '.join(sorted(SOURCE_KINDS))}",
        )
    url = picker.value(fields, spec.url)
    if url is not None and not re.fullmatch(r"https?://\S{1,2000}", url):
        raise RowError(column_of(spec.url), f"source url {url!r} is not an http(s) URL")
    published_text = picker.value(fields, spec.published)
    published = None
    if published_text is not None:
        try:
            date = _parse_date(published_text, spec.published_formats)
        except ValueError as e:
            raise RowError(column_of(spec.published), str(e)) from None
        if date is not None:
            published = datetime.datetime.combine(date.on, datetime.time(), datetime.UTC)
    language = picker.value(fields, spec.language)
    if language is not None and not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*", language):
        raise RowError(
            column_of(spec.language), f"source language {language!r} is not a BCP 47 tag"
        )
    return Source(publisher, kind, url, picker.value(fields, spec.title), published, language)


def source_digest(source: Source) -> str:
    """What identifies a source without a URL: everything the mapping says of it."""
    text = "\x1f".join(
        str(v) for v in (source.publisher, source.kind, source.title, source.published_at)
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _date(
    picker: _Picker,
    fields: list[str],
    column: Column | None,
    formats: tuple[values.DateFormat, ...],
) -> values.FuzzyDate | None:
    try:
        return _parse_date(picker.get(fields, column), formats)
    except ValueError as e:
        raise RowError(picker.names.get(column) if column else None, str(e)) from None


def _place(
    picker: _Picker,
    fields: list[str],
    notes: Counter[str],
    website_column: Column | None,
    country_column: Column | None,
    city_column: Column | None,
    categories_column: Column | None,
    separator: str,
) -> tuple[str | None, str | None, str | None, list[str]]:
    """An organization's website, country, city and categories as the row gives them."""
    website: str | None = picker.get(fields, website_column)
    if website:
        if not website.lower().startswith(("http://", "https://")) and _DOMAIN.fullmatch(website):
            website = "https://" + website
        if not re.fullmatch(r"https?://\S{1,2000}", website):
            notes["website not a URL: left out"] += 1
            website = None
    country: str | None = picker.get(fields, country_column).upper()
    if country and not _COUNTRY.fullmatch(country):
        notes["country not an ISO 3166 alpha-3 code: left out"] += 1
        country = None
    city: str | None = picker.get(fields, city_column)
    if city and city.islower():
        city = string.capwords(city)
    text = picker.get(fields, categories_column)
    categories = [c.strip() for c in text.split(separator) if c.strip()] if text else []
    return website or None, country or None, city or None, categories


def _money(
    mapping: ImportMapping,
    picker: _Picker,
    fields: list[str],
    row: Row,
    rates: Callable[[str, datetime.date], _Rate],
) -> Money | None:
    """The row's amount (a round's total, an investor's part, an acquisition's price),
    with its rate to US dollars set on the row; None when undisclosed."""
    money = mapping.money
    if money is None:
        return None
    assert row.source is not None
    on = row.announced_on or (
        row.source.published_at.date() if row.source.published_at else datetime.date.today()
    )
    amount_text = picker.get(fields, money.amount)
    column = picker.names.get(money.amount) if money.amount else None
    try:
        amount = _parse_amount(amount_text, money.format)
    except ValueError as e:
        raise RowError(column, str(e)) from None
    if amount is None:
        return None
    currency_column = picker.names.get(money.currency.column) if money.currency.column else None
    try:
        declared = (
            values.currency_code(picker.get(fields, money.currency.column))
            if money.currency.column is not None
            else None
        )
    except ValueError as e:
        raise RowError(currency_column, str(e)) from None
    if declared and amount.currency and declared != amount.currency:
        raise RowError(
            column,
            f"the amount is written in {amount.currency}, the currency column says {declared}",
        )
    currency = declared or amount.currency or money.currency.fixed
    if currency is None:
        raise RowError(
            column,
            f"{amount_text!r} has no currency (give money.currency or currency_column)",
        )
    rate = rates(currency, on)
    if isinstance(rate, str):
        raise RowError(currency_column or column, f"unknown currency: {rate}")
    row.usd_rate, row.usd_rate_date = rate
    usd = (amount.value * rate[0]).quantize(decimal.Decimal(1), decimal.ROUND_HALF_EVEN)
    low = None if amount.qualifier == "UP_TO" else amount.value
    high = None if amount.qualifier == "AT_LEAST" else amount.value
    return Money(amount.qualifier, currency, low, high, usd)


def _status_stage(
    picker: _Picker, fields: list[str], row: Row, status: Field, stage: Field
) -> None:
    assert row.source is not None
    row.status = picker.value(fields, status) or (
        "CONFIRMED" if row.source.kind in PARTY_KINDS else "REPORTED"
    )
    row.stage = picker.value(fields, stage) or "CLOSED"
    for what, value, spec, allowed in (
        ("status", row.status, status, ("REPORTED", "CONFIRMED", "DENIED", "RETRACTED")),
        ("stage", row.stage, stage, ("IN_TALKS", "ANNOUNCED", "CLOSED", "ABANDONED")),
    ):
        if value.upper() not in allowed:
            raise RowError(
                picker.names.get(spec.column) if spec.column else None,
                f"{what} {value!r} is not one of {', '.join(allowed)}",
            )
    row.status, row.stage = row.status.upper(), row.stage.upper()


def _parse_acquisition(
    mapping: ImportMapping,
    acq: AcquisitionMap,
    picker: _Picker,
    fields: list[str],
    row: Row,
    notes: Counter[str],
    rates: Callable[[str, datetime.date], _Rate],
) -> None:
    slug_text = picker.get(fields, acq.acquirer_slug)
    slug = slugify(slug_text.rstrip("/").rsplit("/", 1)[-1]) if slug_text else None
    name = _name(picker, fields, acq.acquirer, "acquirer", slug, notes)
    if (slug is not None and slug == row.company_slug) or (
        slug is None and row.company_slug is None and name == row.company_name
    ):
        raise RowError(picker.names[acq.acquirer], "the acquirer is the company acquired")
    _, country, city, categories = _place(
        picker, fields, notes, None, acq.acquirer_country, acq.acquirer_city,
        acq.acquirer_categories, mapping.company.categories_separator,
    )  # fmt: skip
    row.acquirer = Party(name, slug, country, city, categories)
    date = _date(picker, fields, acq.date, acq.date_formats)
    if date is not None and not acq.date_range.holds(date.on):
        assert acq.date is not None
        notes[f"{picker.names[acq.date]} a placeholder date: imported without a date"] += 1
    elif date is not None:
        row.announced_on, row.announced_precision = date.on, date.precision
    _status_stage(picker, fields, row, acq.status, acq.stage)
    row.amount = _money(mapping, picker, fields, row, rates)
    if acq.key:
        row.round_key = "\x1f".join(" ".join(picker.get(fields, k).split()) for k in acq.key)
    else:
        date_key = "" if date is None else f"{date.on.isoformat()}/{date.precision}"
        row.round_key = f"{slug or name.lower()}\x1f{date_key}"

"""What each record means: the typed rows that go into the staging tables.

Everything that can be decided from one record alone is decided here (a date that is
no date, an unknown round type, a blank investor); such a row is still staged, with
its `problem`, so that the SQL accounts for every record in one place. What needs
the whole set (duplicates, slugs taken, matching investments to rounds) is `load.py`'s.
"""

import datetime
import operator
import re
import string
import unicodedata
import uuid
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, NamedTuple, TypeVar

from db.currency import UnknownCurrency, usd_rate
from db.imports.crunchbase.read import (
    ACQUISITIONS,
    COMPANIES,
    INVESTMENTS,
    ROUNDS,
    FileSpec,
    RawFile,
)

# CrunchBase's round types, and the wording kept as the round's reported label.
ROUND_TYPES = {
    "angel": "ANGEL",
    "series-a": "SERIES_A",
    "series-b": "SERIES_B",
    # "C or later": which letter is unknown, so the type says no more than that; the
    # label keeps "series-c+".
    "series-c+": "SERIES_UNKNOWN",
    "venture": "SERIES_UNKNOWN",
    "other": "OTHER",
    "private-equity": "PRIVATE_EQUITY",
    "post-ipo": "POST_IPO",
    "crowdfunding": "EQUITY_CROWDFUNDING",
}

_T = TypeVar("_T")

SLUG_MAX_LENGTH = 200
NAME_MAX_LENGTH = 500
_PERMALINK_PREFIX = "/company/"
# Values a spreadsheet wrote over the real ones ("#NAME?" for /company/n-plusn).
_SPREADSHEET_ERRORS = frozenset(
    {"#NAME?", "#VALUE!", "#REF!", "#DIV/0!", "#N/A", "#NUM!", "#NULL!", "#ERROR!"}
)
# The README lists 8 rounds dated before 1980, mostly 1960-01-01: placeholders for
# "date unknown", not dates.
PLACEHOLDER_BEFORE = datetime.date(1980, 1, 1)
# The export is from October 2013; a company "founded" after that is a typo.
EXPORT_END = datetime.date(2013, 10, 31)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_COUNTRY_CODE = re.compile(r"[A-Z]{3}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_NON_SLUG = re.compile(r"[^a-z0-9]+")
# Letters that Unicode decomposition does not turn into ASCII.
_TRANSLITERATION = str.maketrans(
    {"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ß": "ss", "ł": "l",
     "Ł": "L", "đ": "d", "Đ": "D", "þ": "th", "Þ": "Th", "ı": "i"}
)  # fmt: skip


class CompanyRow(NamedTuple):
    line: int
    permalink: str
    slug: str | None
    # Whether the permalink already was a valid slug: it wins a slug both normalize to.
    slug_is_permalink: bool
    name: str | None
    category: str | None
    country_code: str | None
    city: str | None
    founded_on: datetime.date | None
    problem: str | None


class RoundRow(NamedTuple):
    line: int
    permalink: str
    # The company name as investments.csv is matched on: trimmed and case-folded.
    company_key: str | None
    round_type: str | None
    label: str
    # The date as given, for matching; announced_on drops placeholder dates.
    funded_on: datetime.date | None
    announced_on: datetime.date | None
    amount: Decimal | None
    # Derived from the row's natural key; None when the row has a problem.
    round_id: uuid.UUID | None
    quote: str
    problem: str | None


class InvestmentRow(NamedTuple):
    line: int
    company_key: str | None
    investor_slug: str | None
    investor_name: str | None
    funded_on: datetime.date | None
    amount: Decimal | None
    problem: str | None


# A round has no id in the files and no natural key in the schema (a company can raise
# twice on one day), so its id is derived from what identifies it in the file: the
# company, type, date and amount. Importing the same round again finds the same id.
_ROUND_NAMESPACE = uuid.UUID("5c1f0a43-9a0e-4b39-8d5c-2013c0ffee01")


def round_uuid(key: str) -> uuid.UUID:
    """The id of the round whose natural key is `key`.

    The key is "<company_permalink>:<funding_round_type>:<funded_at>:<raised_amount_usd>",
    e.g. "/company/waywire:series-a:2012-06-30:1750000".
    """
    return uuid.uuid5(_ROUND_NAMESPACE, key)


def slugify(text: str) -> str | None:
    """The slug for a name or permalink ("Sequoia Capital" → "sequoia-capital"), if any."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATION))
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    slug = _NON_SLUG.sub("-", ascii_text).strip("-")
    return slug if 0 < len(slug) <= SLUG_MAX_LENGTH else None


class _Memo(dict[str, _T]):
    """A parse function's results by input: the files repeat dates, amounts and names."""

    def __init__(self, parse: Callable[[str], _T]) -> None:
        super().__init__()
        self._parse = parse

    def __missing__(self, text: str) -> _T:
        # A ValueError propagates and is not remembered: such text is rare.
        value = self[text] = self._parse(text)
        return value


def _date(text: str) -> datetime.date | None:
    """None when blank; ValueError when not an ISO date."""
    if not text:
        return None
    if not _ISO_DATE.fullmatch(text):
        raise ValueError(text)
    return datetime.date.fromisoformat(text)


def _amount(text: str) -> Decimal | None:
    """None when blank (undisclosed, not zero); ValueError when not an amount."""
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite() or value < 0:
        raise ValueError(text)
    return value


def _name(text: str) -> str | None:
    name = text.strip()
    return None if not name or name in _SPREADSHEET_ERRORS else name


def _columns(spec: FileSpec, *names: str) -> Callable[[list[str]], Any]:
    """Picks the named fields out of a record, in the order named."""
    return operator.itemgetter(*(spec.columns.index(name) for name in names))


_COMPANY_FIELDS = _columns(
    COMPANIES, "permalink", "name", "category_code", "country_code", "city", "founded_at"
)


def companies(raw: RawFile) -> list[CompanyRow]:
    rows = []
    dates = _Memo(_date)
    for line, fields in raw.records:
        permalink, name_text, category, country, city_text, founded_at = _COMPANY_FIELDS(fields)
        tail = permalink.removeprefix(_PERMALINK_PREFIX)
        slug = slugify(tail) if permalink.startswith(_PERMALINK_PREFIX) else None
        problem = None
        if not permalink.startswith(_PERMALINK_PREFIX):
            problem = "permalink is not /company/<name>"
        elif slug is None:
            problem = "permalink cannot be made into a slug"
        name = _name(name_text)
        if name is None and slug is not None:
            name = slug
            raw.notes["name blank or a spreadsheet error (#NAME?): the slug stands in"] += 1
        elif name is not None and len(name) > NAME_MAX_LENGTH:
            problem = problem or f"name longer than {NAME_MAX_LENGTH} characters"
        country_code = country if _COUNTRY_CODE.fullmatch(country) else None
        if country and country_code is None:
            raw.notes["country_code not ISO 3166 alpha-3: left out"] += 1
        city = city_text.strip() or None
        if city is not None and city.islower():
            city = string.capwords(city)
            raw.notes["city in lower case: capitalized"] += 1
        try:
            founded_on = dates[founded_at]
        except ValueError:
            founded_on = None
            raw.notes["founded_at not a date: left out"] += 1
        if founded_on is not None and founded_on > EXPORT_END:
            founded_on = None
            raw.notes["founded_at after the export (October 2013): left out"] += 1
        rows.append(
            CompanyRow(
                line,
                permalink,
                slug,
                slug == tail,
                name,
                category.strip() or None,
                country_code,
                city,
                founded_on,
                problem,
            )
        )
    return rows


_ROUND_FIELDS = _columns(
    ROUNDS, "company_permalink", "company_name", "funding_round_type", "funded_at",
    "raised_amount_usd",
)  # fmt: skip


def rounds(raw: RawFile) -> list[RoundRow]:
    rows = []
    dates, amounts, company_keys = _Memo(_date), _Memo(_amount), _Memo(_company_key)
    for line, fields in raw.records:
        permalink, company_name, label, funded_at, raised = _ROUND_FIELDS(fields)
        round_type = ROUND_TYPES.get(label)
        problem = None
        funded_on = announced_on = amount = None
        try:
            funded_on = dates[funded_at]
        except ValueError:
            problem = "funded_at is not a date"
        try:
            amount = amounts[raised]
        except ValueError:
            problem = problem or "raised_amount_usd is not an amount"
        if not permalink.startswith(_PERMALINK_PREFIX):
            problem = problem or "company_permalink is not /company/<name>"
        if round_type is None:
            problem = problem or "unknown funding_round_type"
        round_id = None
        if problem is None:
            if funded_on is None:
                raw.notes["no funded_at: imported without a date"] += 1
            elif funded_on < PLACEHOLDER_BEFORE:
                raw.notes["funded_at before 1980, a placeholder: imported without a date"] += 1
            else:
                announced_on = funded_on
            amount_text = "" if amount is None else format(amount.normalize(), "f")
            round_id = round_uuid(f"{permalink}:{label}:{funded_at}:{amount_text}")
        rows.append(
            RoundRow(
                line,
                permalink,
                company_keys[company_name],
                round_type,
                label,
                funded_on,
                announced_on,
                amount,
                round_id,
                raw.text(line),
                problem,
            )
        )
    return rows


def _company_key(name: str) -> str | None:
    """What investments.csv and crunchbase-rounds.csv are matched on: case-folded name."""
    cleaned = _name(name)
    return None if cleaned is None else cleaned.casefold()


_INVESTMENT_FIELDS = _columns(
    INVESTMENTS, "company_name", "investor_name", "funded_when", "amount_usd"
)


def investments(raw: RawFile) -> list[InvestmentRow]:
    rows = []
    dates, amounts, company_keys = _Memo(_date), _Memo(_amount), _Memo(_company_key)
    slugs = _Memo(slugify)
    for line, fields in raw.records:
        company_name, investor_text, funded_when, amount_usd = _INVESTMENT_FIELDS(fields)
        company_key, investor = company_keys[company_name], _name(investor_text)
        problem = funded_on = amount = slug = None
        if company_key is None:
            problem = "blank company_name"
        if investor is None:
            problem = problem or "blank investor_name"
        else:
            slug = slugs[investor]
            if slug is None:
                problem = problem or "investor_name cannot be made into a slug"
            elif len(investor) > NAME_MAX_LENGTH:
                problem = problem or f"investor_name longer than {NAME_MAX_LENGTH} characters"
        try:
            funded_on = dates[funded_when]
        except ValueError:
            problem = problem or "funded_when is not a date"
        else:
            if funded_on is None:
                problem = problem or "blank funded_when: no round to match"
        try:
            amount = amounts[amount_usd]
        except ValueError:
            problem = problem or "amount_usd is not an amount"
        rows.append(InvestmentRow(line, company_key, slug, investor, funded_on, amount, problem))
    return rows


class OrganizationRef(NamedTuple):
    """An organization as an acquisition row names it: the permalink and what describes it."""

    slug: str | None
    name: str | None
    category: str | None
    country_code: str | None
    city: str | None


class AcquisitionRow(NamedTuple):
    line: int
    target_permalink: str
    target_slug: str | None
    target_name: str | None
    target_category: str | None
    target_country_code: str | None
    target_city: str | None
    acquirer_permalink: str
    acquirer_slug: str | None
    acquirer_name: str | None
    acquirer_category: str | None
    acquirer_country_code: str | None
    acquirer_city: str | None
    acquired_on: datetime.date | None
    price: Decimal | None
    currency: str | None
    usd: Decimal | None
    usd_rate: Decimal | None
    usd_rate_date: datetime.date | None
    # Derived from the row's natural key; None when the row has a problem.
    acquisition_id: uuid.UUID | None
    quote: str
    problem: str | None


# As rounds (round_uuid), acquisitions get ids derived from their natural key:
# "<company_permalink>:<acquirer_permalink>:<acquired_at>:<price_amount>:<currency>".
_ACQUISITION_NAMESPACE = uuid.UUID("5c1f0a43-9a0e-4b39-8d5c-2013c0ffee02")

_ACQUISITION_FIELDS = _columns(
    ACQUISITIONS, "company_permalink", "company_name", "company_category_code",
    "company_country_code", "company_city", "acquirer_permalink", "acquirer_name",
    "acquirer_category_code", "acquirer_country_code", "acquirer_city", "acquired_at",
    "price_amount", "price_currency_code",
)  # fmt: skip


def _organization_ref(
    raw: RawFile, permalink: str, name_text: str, category: str, country: str, city_text: str
) -> OrganizationRef:
    """An organization named in an acquisition row, read as a company row is."""
    slug = None
    if permalink.startswith(_PERMALINK_PREFIX):
        slug = slugify(permalink.removeprefix(_PERMALINK_PREFIX))
    name = _name(name_text)
    if name is None or len(name) > NAME_MAX_LENGTH:
        name = slug
    city = city_text.strip() or None
    if city is not None and city.islower():
        city = string.capwords(city)
        raw.notes["city in lower case: capitalized"] += 1
    return OrganizationRef(
        slug,
        name,
        category.strip() or None,
        country if _COUNTRY_CODE.fullmatch(country) else None,
        city,
    )


def _usd(
    raw: RawFile, price: Decimal | None, currency: str | None, on: datetime.date | None
) -> tuple[Decimal | None, Decimal | None, datetime.date | None]:
    """The price in US dollars, with the rate and its date, as db/currency.py gives them;
    none when no reference rate reaches back to the row's date."""
    if price is None or currency is None:
        return None, None, None
    if currency == "USD":
        return price, None, None
    if on is None:
        raw.notes["price not in USD and no date: no USD value"] += 1
        return None, None, None
    try:
        rate = usd_rate(currency, on)
    except UnknownCurrency:
        raw.notes["price in a currency with no reference rate then: no USD value"] += 1
        return None, None, None
    usd = (price * rate.rate).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    return usd, rate.rate, rate.on


def acquisitions(raw: RawFile) -> list[AcquisitionRow]:
    """Empty rows are rejected here (the file ends with 1,534 of them); the rest staged."""
    rows = []
    dates, amounts = _Memo(_date), _Memo(_amount)
    for line, fields in raw.records:
        if not any(value.strip() for value in fields):
            raw.rejects.append(raw.reject(line, "empty row"))
            continue
        (target_permalink, target_name, target_category, target_country, target_city,
         acquirer_permalink, acquirer_name, acquirer_category, acquirer_country, acquirer_city,
         acquired_at, price_amount, currency_code) = _ACQUISITION_FIELDS(fields)  # fmt: skip
        target = _organization_ref(
            raw, target_permalink, target_name, target_category, target_country, target_city
        )
        acquirer = _organization_ref(
            raw, acquirer_permalink, acquirer_name, acquirer_category, acquirer_country,
            acquirer_city,
        )  # fmt: skip
        problem = acquired_on = price = None
        currency = currency_code.strip() or None
        try:
            acquired_on = dates[acquired_at]
        except ValueError:
            problem = "acquired_at is not a date"
        try:
            price = amounts[price_amount]
        except ValueError:
            problem = problem or "price_amount is not an amount"
        if not target_permalink.startswith(_PERMALINK_PREFIX):
            problem = problem or "company_permalink is not /company/<name>"
        elif target.slug is None:
            problem = problem or "company_permalink cannot be made into a slug"
        if not acquirer_permalink.startswith(_PERMALINK_PREFIX):
            problem = problem or "acquirer_permalink is not /company/<name>"
        elif acquirer.slug is None:
            problem = problem or "acquirer_permalink cannot be made into a slug"
        elif acquirer.slug == target.slug:
            problem = problem or "the acquirer is the company acquired"
        if price is not None and (currency is None or not _CURRENCY.fullmatch(currency)):
            problem = problem or "price_amount without an ISO 4217 price_currency_code"
        acquisition_id = None
        usd = rate = rate_on = None
        if problem is None:
            usd, rate, rate_on = _usd(raw, price, currency, acquired_on)
            price_text = "" if price is None else format(price.normalize(), "f")
            acquisition_id = uuid.uuid5(
                _ACQUISITION_NAMESPACE,
                f"{target_permalink}:{acquirer_permalink}:{acquired_at}:{price_text}:"
                f"{currency if price is not None else ''}",
            )
        rows.append(
            AcquisitionRow(
                line,
                target_permalink,
                *target,
                acquirer_permalink,
                *acquirer,
                acquired_on,
                price,
                currency if price is not None else None,
                usd,
                rate,
                rate_on,
                acquisition_id,
                raw.text(line),
                problem,
            )
        )
    return rows

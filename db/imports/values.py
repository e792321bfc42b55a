"""Text from a file into values: money as written anywhere, dates with their precision.

Each parser takes one field's text and returns the value, None for "not given", or
raises `ValueError` with a message fit for the reject report.
"""

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# Words that mean "undisclosed" unless the mapping says otherwise (compared in lower
# case, trimmed): a null amount, never zero.
UNDISCLOSED = ("", "undisclosed", "n/a", "na", "-", "--", "—", "?", "unknown", "not disclosed")

# Currency symbols and the ISO code each stands for. "$" alone is the US dollar; "¥" the
# yen. Longest first, so that "US$" is not read as "$".
SYMBOLS = {
    "US$": "USD", "USD$": "USD", "C$": "CAD", "CA$": "CAD", "A$": "AUD", "AU$": "AUD",
    "NZ$": "NZD", "HK$": "HKD", "S$": "SGD", "R$": "BRL", "Rs.": "INR", "Rs": "INR",
    "$": "USD", "€": "EUR", "£": "GBP", "₹": "INR", "¥": "JPY", "￥": "JPY", "₩": "KRW",
    "₪": "ILS", "CHF": "CHF", "kr": "SEK", "zł": "PLN", "₽": "RUB", "₺": "TRY",
}  # fmt: skip
# Scale words and suffixes, in lower case: "2.5M", "$1.2bn", "10 crore", "5 lakh".
SCALES = {
    "k": 10**3, "thousand": 10**3, "thousands": 10**3,
    "m": 10**6, "mm": 10**6, "mn": 10**6, "mio": 10**6, "million": 10**6, "millions": 10**6,
    "b": 10**9, "bn": 10**9, "billion": 10**9, "billions": 10**9,
    "t": 10**12, "tn": 10**12, "trillion": 10**12,
    "lakh": 10**5, "lakhs": 10**5, "lac": 10**5, "lacs": 10**5, "l": 10**5,
    "crore": 10**7, "crores": 10**7, "cr": 10**7,
}  # fmt: skip
# Words before the number that qualify it.
QUALIFIERS = {
    "~": "ABOUT", "about": "ABOUT", "approx.": "ABOUT", "approx": "ABOUT",
    "approximately": "ABOUT", "around": "ABOUT", "c.": "ABOUT", "circa": "ABOUT",
    "up to": "UP_TO", "<": "UP_TO", "<=": "UP_TO", "≤": "UP_TO",
    "over": "AT_LEAST", "more than": "AT_LEAST", "at least": "AT_LEAST", ">": "AT_LEAST",
    ">=": "AT_LEAST", "≥": "AT_LEAST", "+": "AT_LEAST",
}  # fmt: skip
MAX_AMOUNT = Decimal(10) ** 15
_CODE = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True, slots=True)
class MoneyFormat:
    decimal_comma: bool = False
    undisclosed: frozenset[str] = frozenset(UNDISCLOSED)
    # Every amount multiplied by this (a column "in millions": 1000000).
    multiplier: Decimal = Decimal(1)


@dataclass(frozen=True, slots=True)
class Amount:
    value: Decimal
    # The currency written with the amount ("€", "INR"), if any.
    currency: str | None
    qualifier: str


def _by_length(words: Sequence[str]) -> list[str]:
    return sorted(words, key=len, reverse=True)


_SYMBOL_ORDER = _by_length(list(SYMBOLS))
_QUALIFIER_ORDER = _by_length(list(QUALIFIERS))
_NUMBER = {
    # Any grouping of digits ("1,000,000", "1,00,00,000", "1 000 000"), then decimals.
    False: re.compile(r"\d+(?:[, '\u00a0\u202f]\d{2,3})*(?:\.\d+)?|\.\d+"),
    True: re.compile(r"\d+(?:[. '\u00a0\u202f]\d{2,3})*(?:,\d+)?|,\d+"),
}
_SCALE = re.compile(r"\s*([a-z]+\.?)$")
_EXPONENT = re.compile(r"[eE]([+-]?\d{1,2})(?![\d.])")


def parse_amount(text: str, fmt: MoneyFormat) -> Amount | None:
    """'$1.2bn' → 1200000000 USD; '10 crore' → 100000000; 'undisclosed' → None."""
    rest = " ".join(text.split())
    if rest.lower() in fmt.undisclosed:
        return None
    qualifier = "EXACT"
    lowered = rest.lower()
    for word in _QUALIFIER_ORDER:
        if lowered.startswith(word):
            qualifier = QUALIFIERS[word]
            rest = rest[len(word) :].strip()
            break
    currency = None
    rest, currency = _take_currency(rest)
    match = _NUMBER[fmt.decimal_comma].match(rest)
    if match is None:
        raise ValueError(f"{text!r} is not an amount")
    digits = match.group()
    # A spreadsheet's exponent ("2.6E+12"), right after the digits.
    exponent = _EXPONENT.match(rest, match.end())
    tail = rest[exponent.end() if exponent else match.end() :].strip()
    if tail.startswith("+") and qualifier == "EXACT":
        qualifier, tail = "AT_LEAST", tail[1:].strip()
    if currency is None:
        tail, currency = _take_currency(tail, suffix=True)
    scale = 1
    if tail:
        scale_match = _SCALE.fullmatch(" " + tail.lower())
        scale_word = scale_match.group(1).rstrip(".") if scale_match else ""
        if scale_word not in SCALES:
            raise ValueError(f"{text!r}: {tail!r} is no scale word (k, M, bn, lakh, crore)")
        scale = SCALES[scale_word]
    if fmt.decimal_comma:
        number = re.sub(r"[. '\u00a0\u202f]", "", digits).replace(",", ".")
    else:
        number = re.sub(r"[, '\u00a0\u202f]", "", digits)
    if exponent is not None:
        number += "e" + exponent.group(1)
    try:
        value = Decimal(number) * scale * fmt.multiplier
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount") from None
    if not value.is_finite() or not 0 <= value <= MAX_AMOUNT:
        raise ValueError(f"{text!r} is out of range (0 to {MAX_AMOUNT:,})")
    exact = value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize()
    return Amount(exact, currency, qualifier)


def _take_currency(text: str, *, suffix: bool = False) -> tuple[str, str | None]:
    """The text without a currency symbol or ISO code at its start (or end), and the code."""
    for symbol in _SYMBOL_ORDER:
        if suffix and text.endswith(symbol):
            return text[: -len(symbol)].strip(), SYMBOLS[symbol]
        if not suffix and text.startswith(symbol):
            return text[len(symbol) :].strip(), SYMBOLS[symbol]
    words = text.split()
    if words and _CODE.fullmatch(words[-1 if suffix else 0]):
        code = words[-1 if suffix else 0]
        return " ".join(words[:-1] if suffix else words[1:]), code
    return text, None


def currency_code(text: str) -> str | None:
    """A currency column's value: an ISO code ("eur" → "EUR") or a symbol ("€")."""
    value = text.strip()
    if not value:
        return None
    if value in SYMBOLS:
        return SYMBOLS[value]
    if _CODE.fullmatch(value.upper()):
        return value.upper()
    raise ValueError(f"{text!r} is not an ISO 4217 currency code or symbol")


# Dates --------------------------------------------------------------------------------

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january", "janv", "janvier", "januar", "enero"),
            ("feb", "february", "fev", "fevrier", "février", "februar", "febrero"),
            ("mar", "march", "mars", "marz", "märz", "marzo"),
            ("apr", "april", "avr", "avril", "abril"),
            ("may", "mai", "mayo"),
            ("jun", "june", "juin", "juni", "junio"),
            ("jul", "july", "juil", "juillet", "juli", "julio"),
            ("aug", "august", "aout", "août", "agosto"),
            ("sep", "sept", "september", "septembre", "septiembre"),
            ("oct", "october", "octobre", "oktober", "octubre"),
            ("nov", "november", "novembre", "noviembre"),
            ("dec", "december", "decembre", "décembre", "dezember", "diciembre"),
        ),
        start=1,
    )
    for name in names
}
# The directives a date format may use, as in strftime, plus %q for a quarter's number.
_DIRECTIVES = {
    "%Y": r"(?P<Y>\d{4})",
    "%y": r"(?P<y>\d{2})",
    "%m": r"(?P<m>\d{1,2})",
    "%d": r"(?P<d>\d{1,2})",
    "%b": r"(?P<b>[^\W\d_]+)\.?",
    "%B": r"(?P<b>[^\W\d_]+)",
    "%q": r"(?P<q>[1-4])",
    "%%": "%",
}
# Tried in order when a mapping gives no formats.
DEFAULT_DATE_FORMATS = (
    "%Y-%m-%d", "%Y/%m/%d", "%Y-%m", "%Y-Q%q", "Q%q %Y", "Q%q-%Y", "%b %Y", "%B %Y",
    "%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%Y",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class DateFormat:
    text: str
    pattern: re.Pattern[str]
    # DAY, MONTH, QUARTER or YEAR: what the format can tell.
    precision: str


def compile_date_format(text: str) -> DateFormat:
    """A strftime-like format ("%d/%m/%Y", "%Y-Q%q", "%b %Y"); ValueError if unusable."""
    parts, i = [], 0
    while i < len(text):
        if text[i] == "%":
            directive = text[i : i + 2]
            if directive not in _DIRECTIVES:
                raise ValueError(
                    f"{directive!r} is not a date directive (use %Y %y %m %d %b %B %q)"
                )
            parts.append(_DIRECTIVES[directive])
            i += 2
        else:
            parts.append(r"\s+" if text[i] == " " else re.escape(text[i]))
            i += 1
    pattern = "".join(parts)
    has = {name for name in ("Y", "y", "m", "d", "b", "q") if f"(?P<{name}>" in pattern}
    if not has & {"Y", "y"}:
        raise ValueError(f"{text!r} has no year (%Y or %y)")
    if "d" in has and not has & {"m", "b"}:
        raise ValueError(f"{text!r} has a day but no month")
    precision = (
        "DAY" if "d" in has else "MONTH" if has & {"m", "b"} else "QUARTER" if "q" in has
        else "YEAR"
    )  # fmt: skip
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
    except re.error as e:
        raise ValueError(f"{text!r}: {e}") from None
    return DateFormat(text, compiled, precision)


@dataclass(frozen=True, slots=True)
class FuzzyDate:
    # The first day of the period the text names.
    on: datetime.date
    precision: str


def parse_date(text: str, formats: Sequence[DateFormat]) -> FuzzyDate | None:
    """The first format that reads the whole text; None when blank."""
    value = " ".join(text.split())
    if not value:
        return None
    for fmt in formats:
        match = fmt.pattern.fullmatch(value)
        if match is None:
            continue
        groups = match.groupdict()
        year = int(groups["Y"]) if groups.get("Y") else 2000 + int(groups["y"])
        month, day = 1, 1
        if groups.get("b"):
            month_number = _MONTHS.get(groups["b"].lower().rstrip("."))
            if month_number is None:
                continue
            month = month_number
        elif groups.get("m"):
            month = int(groups["m"])
        elif groups.get("q"):
            month = 3 * int(groups["q"]) - 2
        if groups.get("d"):
            day = int(groups["d"])
        try:
            return FuzzyDate(datetime.date(year, month, day), fmt.precision)
        except ValueError:
            raise ValueError(f"{text!r} is no such date") from None
    raise ValueError(f"{text!r} matches none of the formats {[f.text for f in formats]}")


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


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

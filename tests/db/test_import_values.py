"""Money, dates and mappings as the import reads them (no database needed)."""

import datetime
from decimal import Decimal

import pytest

from db.imports.mapping import MappingError, parse_mapping
from db.imports.values import (
    DEFAULT_DATE_FORMATS,
    MoneyFormat,
    compile_date_format,
    parse_amount,
    parse_date,
)

PLAIN = MoneyFormat()
COMMA = MoneyFormat(decimal_comma=True)


@pytest.mark.parametrize(
    ("text", "value", "currency", "qualifier"),
    [
        ("2.5M", 2_500_000, None, "EXACT"),
        ("$1.2bn", 1_200_000_000, "USD", "EXACT"),
        ("10 crore", 100_000_000, None, "EXACT"),
        ("5 lakh", 500_000, None, "EXACT"),
        ("₹ 1,00,00,000", 10_000_000, "INR", "EXACT"),
        ("150k", 150_000, None, "EXACT"),
        ("£2,500,000", 2_500_000, "GBP", "EXACT"),
        ("¥300 million", 300_000_000, "JPY", "EXACT"),
        ("5M USD", 5_000_000, "USD", "EXACT"),
        ("~$3m", 3_000_000, "USD", "ABOUT"),
        ("up to €10M", 10_000_000, "EUR", "UP_TO"),
        ("more than $1B", 1_000_000_000, "USD", "AT_LEAST"),
        # A spreadsheet's exponent (the shared set's acquisitions have one).
        ("2.6E+12", 2_600_000_000_000, None, "EXACT"),
        ("$4.5e6", 4_500_000, "USD", "EXACT"),
        ("3E5 EUR", 300_000, "EUR", "EXACT"),
    ],
)
def test_amounts_as_written(text: str, value: int, currency: str | None, qualifier: str) -> None:
    amount = parse_amount(text, PLAIN)
    assert amount is not None
    assert (amount.value, amount.currency, amount.qualifier) == (
        Decimal(value),
        currency,
        qualifier,
    )


@pytest.mark.parametrize(
    ("text", "value"),
    [("1.200.000 €", 1_200_000), ("2,5 Mio", 2_500_000), ("EUR 3,75M", 3_750_000)],
)
def test_decimal_commas(text: str, value: int) -> None:
    amount = parse_amount(text, COMMA)
    assert amount is not None
    assert amount.value == Decimal(value)


@pytest.mark.parametrize("text", ["undisclosed", "N/A", "-", "", "  ", "Undisclosed"])
def test_undisclosed_is_none_never_zero(text: str) -> None:
    assert parse_amount(text, PLAIN) is None


@pytest.mark.parametrize("text", ["12 bazillion", "abc", "1,2,3", "$"])
def test_what_is_no_amount_says_so(text: str) -> None:
    with pytest.raises(ValueError, match=r"amount|scale word"):
        parse_amount(text, PLAIN)


@pytest.mark.parametrize(
    ("text", "on", "precision"),
    [
        ("2013", datetime.date(2013, 1, 1), "YEAR"),
        ("2013-Q2", datetime.date(2013, 4, 1), "QUARTER"),
        ("Mar 2014", datetime.date(2014, 3, 1), "MONTH"),
        ("2014-03-05", datetime.date(2014, 3, 5), "DAY"),
        ("March 5, 2014", datetime.date(2014, 3, 5), "DAY"),
    ],
)
def test_dates_carry_their_precision(text: str, on: datetime.date, precision: str) -> None:
    formats = [compile_date_format(f) for f in DEFAULT_DATE_FORMATS]
    found = parse_date(text, formats)
    assert found is not None
    assert (found.on, found.precision) == (on, precision)


MINIMAL = '[source]\npublisher = "X"\nkind = "DATA_VENDOR"\n\n[company]\nname_column = "name"\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (MINIMAL + "colour = 1\n", "line 7: company.colour: unknown key"),
        (MINIMAL.replace('"DATA_VENDOR"', '"BLOG"'), "line 3: source.kind: 'BLOG' is not one of"),
        (MINIMAL + '\n[file]\ndelimiter = ";;"\n', "line 9: file.delimiter: must be one character"),
        (MINIMAL + '\n[file]\nencoding = "klingon"\n', "line 9: file.encoding: 'klingon' is not"),
        (
            MINIMAL + "\n[round]\ntype_column = true\n",
            "line 9: round.type_column: must be a column",
        ),
        (
            MINIMAL + '\n[round]\ntype = "OTHER"\ndate_formats = ["%Y-%j"]\n',
            "line 10: round.date_formats: '%j' is not a date directive",
        ),
        (
            MINIMAL
            + '\n[round]\ntype = "OTHER"\n\n[money]\namount_column = "a"\ncurrency = "dollars"\n',
            "line 13: money.currency: 'dollars' is not an ISO 4217 currency code",
        ),
        ('[source]\npublisher = "X"\nkind = "DATA_VENDOR"\n', "[company] is missing"),
        ("[source\n", "not valid TOML"),
    ],
)
def test_mapping_errors_name_the_key_and_its_line(text: str, message: str) -> None:
    with pytest.raises(MappingError) as raised:
        parse_mapping(text)
    assert message in str(raised.value)

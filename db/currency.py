"""US-dollar values for money reported in any currency, at the European Central Bank's
reference rate of a given date, from the rates the `currencyconverter` package ships."""

import datetime
import decimal
import functools
from dataclasses import dataclass

from currency_converter import CurrencyConverter, RateNotFoundError

# ECB rates are published on business days; look back this far for the latest one.
_LOOKBACK_DAYS = 10


@dataclass(frozen=True, slots=True)
class UsdRate:
    """US dollars for one unit of a currency, and the date of that reference rate."""

    rate: decimal.Decimal
    on: datetime.date


class UnknownCurrency(ValueError):
    pass


@functools.cache
def _converter() -> CurrencyConverter:
    return CurrencyConverter(fallback_on_missing_rate=False, fallback_on_wrong_date=False)


def currencies() -> frozenset[str]:
    return frozenset(_converter().currencies) | {"USD"}


def usd_rate(currency: str, on: datetime.date) -> UsdRate:
    """The reference rate of `on`, or of the closest business day before it; past the
    last published rate, the last one."""
    if currency == "USD":
        return UsdRate(decimal.Decimal(1), on)
    converter = _converter()
    if currency not in converter.currencies:
        raise UnknownCurrency(f"{currency} has no reference rate")
    first, last = converter.bounds[currency]
    day = min(on, last)
    if day < first:
        raise UnknownCurrency(f"{currency} has no reference rate as early as {on.isoformat()}")
    for _ in range(_LOOKBACK_DAYS):
        try:
            rate = converter.convert(1, currency, "USD", date=day)
        except RateNotFoundError:
            day -= datetime.timedelta(days=1)
            continue
        # A cross rate through the euro: keep ten significant digits of it.
        return UsdRate(decimal.Context(prec=10).create_decimal(repr(rate)), day)
    raise UnknownCurrency(f"{currency} has no reference rate near {on.isoformat()}")

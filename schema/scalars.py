"""Custom scalars: exact decimals travel as strings and never as floats; a DateTime must
have a UTC form (db/infra/storable.py)."""

import datetime
import decimal

import strawberry
from strawberry.types.scalar import ScalarDefinition

from db.infra.storable import check_moment


def _parse_decimal(value: object) -> decimal.Decimal:
    if not isinstance(value, str):
        raise ValueError('a Decimal is written as a string, e.g. "12.50"')
    try:
        parsed = decimal.Decimal(value)
    except decimal.InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal number") from None
    if not parsed.is_finite():
        raise ValueError(f"{value!r} is not a finite decimal number")
    return parsed


def _parse_moment(value: object) -> datetime.datetime:
    if not isinstance(value, str):
        raise ValueError('a DateTime is written as a string, e.g. "2026-01-30T12:00:00Z"')
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 date and time") from None
    # Refused here, as the variable's or argument's error, rather than in the database.
    check_moment(parsed)
    return parsed


SCALARS: dict[object, ScalarDefinition] = {
    # strawberry's own DateTime, with a range check; the same name and description.
    datetime.datetime: strawberry.scalar(
        name="DateTime",
        description="Date with time (isoformat)",
        serialize=datetime.datetime.isoformat,
        parse_value=_parse_moment,
    ),
    decimal.Decimal: strawberry.scalar(
        name="Decimal",
        description='An exact decimal number, written as a string ("100000000000").',
        serialize=lambda value: format(value, "f"),
        parse_value=_parse_decimal,
    ),
}

"""Custom scalars: exact decimals travel as strings and never as floats."""

import decimal

import strawberry
from strawberry.types.scalar import ScalarDefinition


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


SCALARS: dict[object, ScalarDefinition] = {
    decimal.Decimal: strawberry.scalar(
        name="Decimal",
        description='An exact decimal number, written as a string ("100000000000").',
        serialize=lambda value: format(value, "f"),
        parse_value=_parse_decimal,
    ),
}

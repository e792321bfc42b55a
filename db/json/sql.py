"""SQL pieces of the statements that build JSON (db/json/select.py and its sources).

Names are spliced into the SQL as JSON keys, so only plain identifiers are accepted;
values always travel as parameters.
"""

import re

_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")


class UnsupportedSelection(ValueError):
    """The selection asks for something the compiler does not build."""


class SqlBuilder:
    """Builds one statement: positional parameters and fresh table aliases."""

    def __init__(self) -> None:
        self.args: list[object] = []
        self._aliases = 0

    def param(self, value: object, sql_type: str) -> str:
        self.args.append(value)
        return f"${len(self.args)}::{sql_type}"

    def alias(self, prefix: str) -> str:
        self._aliases += 1
        return f"{prefix}{self._aliases}"


def literal(text: str) -> str:
    """A constant of the code (never a user's string) as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _key(name: str) -> str:
    if not _NAME.match(name):
        raise UnsupportedSelection(f"{name!r} is not a plain name")
    return f"'{name}'"


def json_object_sql(pairs: list[tuple[str, str]]) -> str:
    if not pairs:
        return "json_build_object()"
    return "json_build_object(" + ", ".join(f"{_key(k)}, {v}" for k, v in pairs) + ")"


def fuzzy_date_text(day: str, precision: str) -> str:
    """The period as people write it (db/rows.py FuzzyDate.text): "2026-Q1", "2026-03"."""
    year = f"extract(year from {day})::int::text"
    month = f"lpad(extract(month from {day})::int::text, 2, '0')"
    return (
        f"case {precision} when 'YEAR' then {year}"
        f" when 'QUARTER' then {year} || '-Q' || extract(quarter from {day})::int::text"
        f" when 'MONTH' then {year} || '-' || {month} else {day}::text end"
    )


def datetime_text(moment: str) -> str:
    """A timestamptz as Python's isoformat() writes the UTC datetime asyncpg decodes:
    microseconds only when there are any, and always +00:00."""
    utc = f"({moment} at time zone 'UTC')"
    return (
        f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS')"
        f" || case when extract(microseconds from {utc})::bigint % 1000000 = 0 then ''"
        f" else to_char({utc}, '.US') end || '+00:00'"
    )


def cursor_sql(fp: str, table: str) -> str:
    # base64url, unpadded, of the JSON list db/infra/pagination.py encodes:
    # ["fp","key","hex","signature"], signed by cursor_signature() (migration 0020).
    id_hex = f"replace({table}.id::text, '-', '')"
    signature = f"cursor_signature({fp} || ':' || {id_hex} || ':' || {table}.sort_key)"
    text = (
        f"""'["' || {fp} || '","' || {table}.sort_key || '","'"""
        f""" || {id_hex} || '","' || {signature} || '"]'"""
    )
    return (
        f"rtrim(translate(replace(encode(convert_to({text}, 'UTF8'), 'base64'), E'\\n', ''),"
        f" '+/', '-_'), '=')"
    )


def fingerprint_sql(scope: str) -> str:
    """db/infra/pagination.py's fingerprint() of a scope computed in SQL."""
    return f"left(encode(sha256(convert_to({scope}, 'UTF8')), 'hex'), 12)"

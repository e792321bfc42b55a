"""roundStats on the fast path: its buckets written as JSON straight from the statement's
rows, without the executor completing each of their fields (some 20,000 for a thousand
buckets, three times the statement's own time). The selection is collected as the
executor collects it; one it does not know (an investor's fields beyond id, slug and
name) goes to the resolvers, which tests/schema/test_fastpath.py holds to one answer."""

from collections.abc import Callable
from dataclasses import replace
from enum import Enum
from typing import Any, TypeVar

import orjson
from graphql import FieldNode

from db import rows
from db import stats as db_stats
from db.infra.ids import Kind, encode_id
from db.infra.types import Pool
from schema.context import Context

# schema.fastpath imports this module when it meets roundStats, and shares its planning.
from schema.enums import DealStage, DealStatus, RoundType
from schema.fastpath import (
    _arguments,
    _Document,
    _enum_name,
    _input_fields,
    _name,
    _Unsupported,
)
from schema.filters import RoundFilter

E = TypeVar("E", bound=Enum)
Bucket = db_stats.RoundStatsBucket
Value = Callable[[Bucket], Any]

_DIMENSIONS: dict[str, db_stats.Dimension] = {d: d for d in db_stats.DIMENSIONS}
_PERIODS: dict[str, db_stats.Period] = {"MONTH": "MONTH", "QUARTER": "QUARTER", "YEAR": "YEAR"}


def _text(value: object) -> str | None:
    return None if value is None else str(value)


_BUCKET_SCALARS: dict[str, Value] = {
    "count": lambda b: b.count,
    "disclosedCount": lambda b: b.disclosed_count,
}
_AMOUNTS: dict[str, Value] = {
    "sum": lambda b: str(b.sum_usd),
    "median": lambda b: _text(b.median_usd),
    "p25": lambda b: _text(b.p25_usd),
    "p75": lambda b: _text(b.p75_usd),
    "min": lambda b: _text(b.min_usd),
    "max": lambda b: _text(b.max_usd),
}
_BOUNDED: dict[str, Value] = {
    "upTo": lambda b: b.up_to_count,
    "atLeast": lambda b: b.at_least_count,
    "range": lambda b: b.range_count,
    "about": lambda b: b.about_count,
}
_KEY_SCALARS: dict[str, Value] = {
    "roundType": lambda b: b.round_type,
    "status": lambda b: b.status,
    "stage": lambda b: b.stage,
    "countryCode": lambda b: b.country_code,
}


def _object(node: FieldNode, type_name: str, scalars: dict[str, Value], doc: _Document) -> Value:
    """A writer of one object of `type_name` whose fields are all in `scalars`."""
    parts: list[tuple[str, Value]] = []
    for field in doc.fields(node.selection_set, type_name):
        name = field.name.value
        if name == "__typename":
            parts.append((_name(field), _constant(type_name)))
        elif name in scalars:
            parts.append((_name(field), scalars[name]))
        else:
            raise _Unsupported(f"{type_name}.{name}")
    return lambda b: {key: value(b) for key, value in parts}


def _constant(value: str) -> Value:
    return lambda b: value


def _period(node: FieldNode, doc: _Document, precision: str) -> Value:
    def fuzzy(b: Bucket) -> rows.FuzzyDate:
        assert b.period is not None
        return rows.FuzzyDate(b.period, precision)

    write = _object(
        node,
        "FuzzyDate",
        {
            "date": lambda b: fuzzy(b).date.isoformat(),
            "precision": lambda b: precision,
            "text": lambda b: fuzzy(b).text,
        },
        doc,
    )
    return lambda b: None if b.period is None else write(b)


def _investor(node: FieldNode, doc: _Document) -> Value:
    """An investor's id, slug and name, which the statement gives: each bucket's investor
    written with the fields its own type (Organization or Person) collects."""

    def writer(type_name: str, kind: Kind, column: Callable[[Bucket], Any]) -> Value:
        return _object(
            node,
            type_name,
            {
                "id": lambda b: encode_id(kind, column(b)),
                "slug": lambda b: b.investor_slug,
                "name": lambda b: b.investor_name,
            },
            doc,
        )

    organization = writer("Organization", Kind.ORGANIZATION, lambda b: b.investor_organization_id)
    person = writer("Person", Kind.PERSON, lambda b: b.investor_person_id)

    def write(b: Bucket) -> Any:
        if b.investor_organization_id is not None:
            return organization(b)
        if b.investor_person_id is not None:
            return person(b)
        return None

    return write


def _bucket_writer(node: FieldNode, doc: _Document, precision: str) -> Value:
    parts: list[tuple[str, Value]] = []
    for field in doc.fields(node.selection_set, "RoundStatsBucket"):
        name = field.name.value
        if name == "key":
            key_parts = dict(_KEY_SCALARS)
            for key_field in doc.fields(field.selection_set, "RoundStatsKey"):
                if key_field.name.value == "period":
                    key_parts["period"] = _period(key_field, doc, precision)
                elif key_field.name.value == "investor":
                    key_parts["investor"] = _investor(key_field, doc)
            parts.append((_name(field), _object(field, "RoundStatsKey", key_parts, doc)))
        elif name == "amountUsd":
            parts.append((_name(field), _object(field, "AmountStats", _AMOUNTS, doc)))
        elif name == "boundedCount":
            parts.append((_name(field), _object(field, "BoundedCount", _BOUNDED, doc)))
        elif name == "__typename":
            parts.append((_name(field), _constant("RoundStatsBucket")))
        elif name in _BUCKET_SCALARS:
            parts.append((_name(field), _BUCKET_SCALARS[name]))
        else:
            raise _Unsupported(f"RoundStatsBucket.{name}")
    return lambda b: {key: value(b) for key, value in parts}


def _round_filter(value: object) -> RoundFilter:
    """The filter as the resolver gets it: graphql-core hands over strawberry's input or,
    from a variable, a dict by GraphQL names."""
    if value is None or isinstance(value, RoundFilter):
        return value or RoundFilter()
    given = _input_fields(value)

    def enums(name: str, enum: type[E]) -> list[E] | None:
        values = given.get(name)
        return None if values is None else [enum(_enum_name(v)) for v in values]

    return RoundFilter(
        status=enums("status", DealStatus),
        stage=enums("stage", DealStage),
        round_type=enums("roundType", RoundType),
        company_id=given.get("companyId"),
        investor_id=given.get("investorId"),
        announced_from=given.get("announcedFrom"),
        announced_to=given.get("announcedTo"),
        min_amount_usd=given.get("minAmountUsd"),
    )


async def round_stats_answer(pool: Pool, node: FieldNode, doc: _Document) -> bytes:
    args = _arguments("Query", node, doc)
    given = _round_filter(args.get("filter"))
    db_filter = replace(await given.to_db(Context(pool)), as_of=args.get("asOf"))
    period = _PERIODS[_enum_name(args.get("period", "QUARTER"))]
    write = _bucket_writer(node, doc, period)
    buckets = await db_stats.round_stats(
        pool,
        filter=db_filter,
        group_by=[_DIMENSIONS[_enum_name(d)] for d in args["groupBy"]],
        period=period,
        group_by_field="groupBy",
    )
    return orjson.dumps({_name(node): [write(b) for b in buckets]})

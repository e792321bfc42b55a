"""The hostile-input corpus against every REST parameter and body field the spec names,
on a real server: each answer a 4xx naming the parameter, and stored data unchanged.

Writes are sent as whole, valid requests with one value made hostile. So that none of
them can succeed whatever that value is, each names one investor that does not exist,
at the end of what the write checks: the rest of the request is checked first, and the
transaction is rolled back.
"""

import asyncio
import datetime
import json
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from api.app import create_app
from api.rest.docs import openapi_spec
from db.acquisition_reports import AcquisitionReport, report_acquisition
from db.infra.ids import Kind, encode_id
from db.infra.types import Pool
from db.reports import EntityRef, SourceInput
from db.seed import seed
from tests import figures
from tests.conftest import create_key
from tests.contract.hostile import (
    JSON_VALUES,
    MEGABYTE,
    URL_VALUES,
    Answer,
    JsonPath,
    dotted,
    leaf_paths,
    request,
    send,
    stored_data,
    with_hostile,
)
from tests.contract.live import serving

NOBODY = "no-such-investor-anywhere"
MONEY = {
    "qualifier": "RANGE",
    "low": {"amount": "1000", "currency": "USD"},
    "high": {"amount": "2000", "currency": "USD"},
}
SOURCE = {
    "publisher": "Hostile Times",
    "published_at": "2026-01-30T12:00:00Z",
    "kind": "PRESS_ON_RECORD",
    "url": "https://example.com/hostile",
    "title": "A title",
    "language": "en",
}
REPORT = {
    "company": {"slug": "openai", "name": "OpenAI"},
    "round_type": "SERIES_B",
    "stage": "IN_TALKS",
    "source": SOURCE,
    "reported_label": "Series B",
    "announced_on": "2026-01-30",
    "amount": MONEY,
    "post_money_valuation": MONEY,
    "participations": [
        {"investor": {"slug": "amazon", "name": "Amazon"}, "amount": MONEY, "is_lead": True},
        {"investor": {"slug": NOBODY}},
    ],
    "quote": "A quote",
}
STATEMENT = {
    "source": SOURCE,
    "quote": "A quote",
    "investor": {"slug": NOBODY, "name": "Nobody"},
    "amount": MONEY,
}
ACQUISITION_REPORT = {
    "target": {"slug": "openai", "name": "OpenAI"},
    "lead_acquirer": {"slug": "amazon", "name": "Amazon"},
    "stage": "CLOSED",
    "source": SOURCE,
    "other_acquirers": [{"slug": "microsoft", "name": "Microsoft"}, {"slug": NOBODY}],
    "announced_on": "2026-01-30",
    "closed_on": "2026-01-30",
    "price": MONEY,
    "terms": "CASH",
    "percent_acquired": "100",
    "quote": "A quote",
}
# An acquisition statement names no investor: a currency without a reference rate stops it.
ACQUISITION_STATEMENT = {
    "source": SOURCE,
    "quote": "A quote",
    "stage": "CLOSED",
    "closed_on": "2026-01-30",
    "price": {
        "qualifier": "RANGE",
        "low": {"amount": "1000", "currency": "XYZ"},
        "high": {"amount": "2000", "currency": "XYZ"},
    },
}
WEBHOOK = {
    "url": "https://example.com/hostile",
    "events": ["round.created"],
    "filter": {"company": NOBODY, "investor": NOBODY, "round_type": "SEED", "status": "REPORTED"},
}
# The body; the field whose refusal stops it when nothing else does; a part left as it is
# so that it keeps doing so.
BODIES: dict[str, tuple[dict[str, Any], JsonPath, JsonPath | None]] = {
    "postReport": (REPORT, ("participations", 1, "investor", "slug"), ("participations", 1)),
    "postConfirmation": (STATEMENT, ("investor", "slug"), None),
    "postDenial": (STATEMENT, ("investor", "slug"), None),
    "postAcquisitionReport": (
        ACQUISITION_REPORT,
        ("other_acquirers", 1, "slug"),
        ("other_acquirers", 1),
    ),
    "postAcquisitionConfirmation": (ACQUISITION_STATEMENT, ("price", "low", "currency"), None),
    "postAcquisitionDenial": (ACQUISITION_STATEMENT, ("price", "low", "currency"), None),
    "createWebhook": (WEBHOOK, ("filter", "company"), None),
}
# What uvicorn refuses itself, with a plain-text 400, before the app sees the request: a
# request line or a header over its size limit, bytes a request line cannot hold, a NUL
# in a header.
REFUSED_BY_HTTP = {"huge-1mb", "raw-invalid-utf8", "deep-json"}
REFUSED_IN_A_HEADER = {*REFUSED_BY_HTTP, "nul"}


@dataclass(frozen=True)
class Case:
    label: str
    value: str
    request: bytes
    # The parameters a refusal may name: the hostile one, or the one that stops a write.
    named: frozenset[str]
    refused_by_http: frozenset[str] = frozenset()
    too_large: bool = False


def _ref(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        found: Any = openapi_spec()
        for part in node["$ref"].removeprefix("#/").split("/"):
            found = found[part]
        node = found
    return node


def schema_paths(schema: dict[str, Any], path: JsonPath = ()) -> Iterator[JsonPath]:
    """Every property a request body's schema names; array items at index 0."""
    schema = _ref(schema)
    for option in schema.get("oneOf", []) + schema.get("anyOf", []):
        yield from schema_paths(option, path)
    for name, sub in schema.get("properties", {}).items():
        yield (*path, name)
        yield from schema_paths(sub, (*path, name))
    if "items" in schema:
        yield from schema_paths(schema["items"], (*path, 0))


PathValue = Callable[[str, str], str]


def cases(key: str, path_value: PathValue) -> Iterator[Case]:
    for path, item in openapi_spec()["paths"].items():
        for method, operation in item.items():
            yield from _operation_cases(key, path_value, method.upper(), path, operation)


def _operation_cases(
    key: str, path_value: PathValue, method: str, path: str, operation: dict[str, Any]
) -> Iterator[Case]:
    label = f"{method} {path}"
    parameters = [_ref(p) for p in operation.get("parameters", [])]
    body, stopper, untouched = BODIES.get(operation["operationId"], (None, None, None))
    stop = frozenset() if stopper is None else frozenset({dotted(stopper)})
    valid_body = None if body is None else json.dumps(body).encode()

    def url(hostile: str | None = None, value: bytes = b"") -> bytes:
        filled = path.encode()
        for p in parameters:
            if p["in"] == "path":
                given = value if p["name"] == hostile else path_value(path, p["name"]).encode()
                filled = filled.replace(b"{" + p["name"].encode() + b"}", given)
        return filled

    for p in parameters:
        name, where = p["name"], p["in"]
        for value_name, value in URL_VALUES.items():
            if where == "path" and not value:
                continue  # an empty segment makes another URL, not an empty parameter
            raw = value_name.startswith("raw-")
            encoded = value if raw else urllib.parse.quote_from_bytes(value).encode()
            headers = {}
            if where == "path":
                target = url(name, encoded)
            elif where == "query":
                target = url() + b"?" + name.encode() + b"=" + encoded
            else:
                target, headers = url(), {name: value}
            yield Case(
                f"{label} {where} {name}",
                value_name,
                request(method, target, key=key, headers=headers, body=valid_body),
                frozenset({name}) | stop,
                frozenset(REFUSED_IN_A_HEADER if where == "header" else REFUSED_BY_HTTP),
            )
    if body is None:
        return
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    fields = list(leaf_paths(body))
    assert set(schema_paths(schema)) <= set(fields), f"{label}: a body field is left out"
    for field in fields:
        if untouched is not None and field[: len(untouched)] == untouched:
            continue
        for value_name, value in JSON_VALUES.items():
            yield Case(
                f"{label} body {dotted(field)}",
                value_name,
                request(method, url(), key=key, body=with_hostile(body, field, value)),
                frozenset({dotted(field), "body"}) | stop,
            )
    huge = with_hostile(body, ("quote",), b'"' + b"x" * MEGABYTE + b'"')
    yield Case(
        f"{label} body quote",
        "huge-1mb",
        request(method, url(), key=key, body=huge),
        frozenset(),
        too_large=True,
    )


def judge(case: Case, answer: Answer) -> str | None:
    """What is wrong with the answer to a case, or None."""
    if not 400 <= answer.status < 500 or answer.status in (401, 403):
        return f"status {answer.status}: {answer.body[:300]!r}"
    if answer.headers.get("content-type") != "application/problem+json":
        by_http = answer.status == 400 and answer.body == b"Invalid HTTP request received."
        return None if by_http and case.value in case.refused_by_http else "not problem+json"
    problem = answer.json()
    if not problem.get("detail"):
        return "no detail"
    if case.too_large:
        return None if answer.status == 413 else f"status {answer.status} for a 1 MB body"
    if problem.get("parameter") not in case.named:
        return f"names {problem.get('parameter')!r}: {problem['detail'][:200]}"
    return None


@pytest.fixture(scope="module")
def server(db_url: str) -> Iterator[int]:
    with serving(create_app(db_url, pool_min_size=1, pool_max_size=4)) as url:
        yield int(url.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
async def round_id(pool: Pool) -> str:
    async with pool.acquire() as conn:
        await seed(conn)
        found = await conn.fetchval("select id from rounds order by created_at limit 1")
    return encode_id(Kind.ROUND, found)


@pytest.fixture(scope="module")
async def acquisition_id(pool: Pool, round_id: str) -> str:
    async with pool.acquire() as conn, conn.transaction():
        written = await report_acquisition(
            conn,
            AcquisitionReport(
                target=EntityRef(slug="openai"),
                lead_acquirer=EntityRef(slug="amazon"),
                stage="IN_TALKS",
                source=SourceInput(
                    publisher="Hostile Times",
                    published_at=datetime.datetime(2026, 1, 30, tzinfo=datetime.UTC),
                    kind="PRESS_ON_RECORD",
                ),
            ),
            api_key_id=None,
        )
    return encode_id(Kind.ACQUISITION, written.acquisition_id)


async def test_every_parameter_refuses_the_corpus_and_nothing_changes(
    server: int, db_url: str, round_id: str, acquisition_id: str
) -> None:
    key = await create_key(db_url)
    before = await stored_data(db_url)
    # Under /v1/webhooks {id} is a round's, which no endpoint has: refused as NOT_FOUND
    # naming `id` (or, first, a malformed `delivery_id`).
    path_values = {"id": round_id, "id_or_slug": "openai", "delivery_id": "msg_" + "0" * 32}

    def path_value(path: str, name: str) -> str:
        # {id} is an acquisition's under /v1/acquisitions, a round's elsewhere.
        if name == "id" and path.startswith("/v1/acquisitions/"):
            return acquisition_id
        return path_values[name]

    corpus = list(cases(key, path_value))
    gate = asyncio.Semaphore(8)

    async def run(case: Case) -> str | None:
        async with gate:
            answer = await send(server, case.request)
        wrong = judge(case, answer)
        return None if wrong is None else f"{case.label} <- {case.value}: {wrong}"

    found = await asyncio.gather(*(run(case) for case in corpus))
    failures = [f for f in found if f is not None]
    figures.record(
        f"fuzz, hostile corpus over REST: {len(corpus)} requests, {len(failures)} not refused "
        "as they should be"
    )
    assert failures == [], "\n".join(failures[:40])
    assert await stored_data(db_url) == before

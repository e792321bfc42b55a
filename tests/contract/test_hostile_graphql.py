"""The hostile-input corpus against every GraphQL argument and input field, through
variables, on a real server: each answer an error (or a userError) naming the argument,
never an internal error, and stored data unchanged.

A String argument may legitimately take SQL meta-characters: a lookup then finds
nothing, which is a correct answer. Mutations are stopped as over REST: each names one
investor that does not exist, checked after everything else.
"""

import asyncio
import datetime
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from graphql import (
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    get_nullable_type,
    is_input_type,
    parse,
    type_from_ast,
    visit,
)

from api.app import create_app
from db.acquisition_reports import AcquisitionReport, report_acquisition
from db.infra.ids import Kind, encode_id
from db.infra.types import Pool
from db.reports import EntityRef, SourceInput
from db.seed import seed
from schema.schema import schema
from tests import figures
from tests.conftest import create_key
from tests.contract.hostile import (
    JSON_VALUES,
    MEGABYTE,
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

GRAPHQL_RESPONSE = "application/graphql-response+json"
CLIENT_CODES = {"BAD_USER_INPUT", "BAD_REQUEST", "GRAPHQL_VALIDATION_FAILED", "NOT_FOUND"}
NOBODY = "no-such-investor-anywhere"
CONNECTION = "first: $first, after: $after, last: $last, before: $before"
PAGE = "$first: Int, $after: String, $last: Int, $before: String"
PAYLOAD = "{ round { id } userErrors { field message code } }"
MONEY = {
    "qualifier": "RANGE",
    "low": {"amount": "1000", "currency": "USD"},
    "high": {"amount": "2000", "currency": "USD"},
}
SOURCE = {
    "publisher": "Hostile Times",
    "publishedAt": "2026-01-30T12:00:00Z",
    "kind": "PRESS_ON_RECORD",
    "url": "https://example.com/hostile",
    "title": "A title",
    "language": "en",
}


@dataclass(frozen=True)
class Operation:
    document: str
    variables: dict[str, Any]
    # The userError field path that stops a mutation, and a part of it left as it is.
    stopper: tuple[str, ...] | None = None
    untouched: JsonPath | None = None


def operations(ids: dict[str, str]) -> dict[str, Operation]:
    report = {
        "company": {"slug": "openai", "name": "OpenAI"},
        "roundType": "SERIES_B",
        "stage": "IN_TALKS",
        "source": SOURCE,
        "reportedLabel": "Series B",
        "announcedOn": "2026-01-30",
        "amount": MONEY,
        "postMoneyValuation": MONEY,
        "participations": [
            {"investor": {"slug": "amazon", "name": "Amazon"}, "amount": MONEY, "isLead": True},
            {"investor": {"slug": NOBODY}},
        ],
        "quote": "A quote",
    }
    statement = {
        "roundId": ids["round"],
        "source": SOURCE,
        "quote": "A quote",
        "investor": {"slug": NOBODY, "name": "Nobody"},
        "amount": MONEY,
    }
    status_stopper = ("input", "investor", "slug")
    acquisition_report = {
        "target": {"slug": "openai", "name": "OpenAI"},
        "leadAcquirer": {"slug": "amazon", "name": "Amazon"},
        "stage": "CLOSED",
        "source": SOURCE,
        "otherAcquirers": [{"slug": "microsoft", "name": "Microsoft"}, {"slug": NOBODY}],
        "announcedOn": "2026-01-30",
        "closedOn": "2026-01-30",
        "price": MONEY,
        "terms": "CASH",
        "percentAcquired": "100",
        "quote": "A quote",
    }
    # An acquisition statement names no investor: a currency without a reference rate
    # stops it.
    acquisition_statement = {
        "acquisitionId": ids["acquisition"],
        "source": SOURCE,
        "quote": "A quote",
        "stage": "CLOSED",
        "closedOn": "2026-01-30",
        "price": {
            "qualifier": "RANGE",
            "low": {"amount": "1000", "currency": "XYZ"},
            "high": {"amount": "2000", "currency": "XYZ"},
        },
    }
    acquisition_stopper = ("input", "price", "low", "currency")
    acquisition_payload = "{ acquisition { id } userErrors { field message code } }"
    return {
        "node": Operation("query($id: ID!) { node(id: $id) { id } }", {"id": ids["round"]}),
        "round": Operation(
            "query($id: ID!, $asOf: DateTime) { round(id: $id, asOf: $asOf) { id status } }",
            {"id": ids["round"]},
        ),
        "rounds": Operation(
            f"query({PAGE}, $filter: RoundFilter, $orderBy: RoundOrder, $asOf: DateTime) {{"
            f" rounds({CONNECTION}, filter: $filter, orderBy: $orderBy, asOf: $asOf)"
            " { totalCount edges { node { id } } } }",
            {
                "filter": {
                    "status": ["REPORTED"],
                    "stage": ["IN_TALKS"],
                    "roundType": ["SERIES_UNKNOWN"],
                    "companyId": ids["openai"],
                    "investorId": ids["amazon"],
                    "announcedFrom": "2020-01-01",
                    "announcedTo": "2030-01-01",
                    "minAmountUsd": "0",
                },
                "orderBy": {"field": "ANNOUNCED_ON", "direction": "DESC"},
            },
        ),
        "acquisition": Operation(
            "query($id: ID!, $asOf: DateTime) { acquisition(id: $id, asOf: $asOf) { id } }",
            {"id": ids["acquisition"]},
        ),
        "acquisitions": Operation(
            f"query({PAGE}, $filter: AcquisitionFilter, $orderBy: AcquisitionOrder,"
            " $asOf: DateTime) {"
            f" acquisitions({CONNECTION}, filter: $filter, orderBy: $orderBy, asOf: $asOf)"
            " { totalCount edges { node { id } } } }",
            {
                "filter": {
                    "status": ["REPORTED"],
                    "stage": ["IN_TALKS"],
                    "acquirerId": ids["amazon"],
                    "targetId": ids["openai"],
                    "announcedFrom": "2020-01-01",
                    "announcedTo": "2030-01-01",
                    "minPriceUsd": "0",
                },
                "orderBy": {"field": "PRICE_USD", "direction": "DESC"},
            },
        ),
        "roundStats": Operation(
            "query($filter: RoundFilter, $groupBy: [RoundDimension!]!, $period: Period,"
            " $asOf: DateTime) { roundStats(filter: $filter, groupBy: $groupBy,"
            " period: $period, asOf: $asOf) { count key { investor { id } } } }",
            {
                "filter": {
                    "status": ["REPORTED"],
                    "stage": ["IN_TALKS"],
                    "roundType": ["SERIES_UNKNOWN"],
                    "companyId": ids["openai"],
                    "investorId": ids["amazon"],
                    "announcedFrom": "2020-01-01",
                    "announcedTo": "2030-01-01",
                    "minAmountUsd": "0",
                },
                "groupBy": ["PERIOD", "INVESTOR"],
                "period": "MONTH",
            },
        ),
        "organizations": Operation(
            f"query({PAGE}, $filter: OrganizationFilter) {{"
            f" organizations({CONNECTION}, filter: $filter)"
            " { totalCount edges { node { id } } } }",
            {
                "filter": {
                    "search": "open",
                    "countryCode": "USA",
                    "investorType": ["CORPORATE"],
                    "role": "RAISED",
                }
            },
        ),
        "organization by id": Operation(
            "query($id: ID) { organization(id: $id) { id } }", {"id": ids["openai"]}
        ),
        "organization by slug": Operation(
            "query($slug: String) { organization(slug: $slug) { id } }", {"slug": "openai"}
        ),
        "an organization's lists": Operation(
            f'query({PAGE}) {{ organization(slug: "openai") {{'
            f" rounds({CONNECTION}) {{ totalCount }}"
            f" investments({CONNECTION}) {{ totalCount }}"
            f" acquisitions({CONNECTION}) {{ totalCount }}"
            f" coInvestors({CONNECTION}) {{ totalCount }} }} }}",
            {},
        ),
        "a person's investments": Operation(
            f"query($id: ID!, {PAGE}) {{ node(id: $id) {{"
            f" ... on Person {{ investments({CONNECTION}) {{ totalCount }}"
            f" coInvestors({CONNECTION}) {{ totalCount }} }} }} }}",
            {"id": ids["person"]},
        ),
        "roundReport": Operation(
            f"mutation($input: RoundReportInput!) {{ roundReport(input: $input) {PAYLOAD} }}",
            {"input": report},
            ("input", "participations", "1", "investor", "slug"),
            ("input", "participations", 1),
        ),
        "roundConfirm": Operation(
            f"mutation($input: RoundStatusInput!) {{ roundConfirm(input: $input) {PAYLOAD} }}",
            {"input": statement},
            status_stopper,
        ),
        "roundDeny": Operation(
            f"mutation($input: RoundStatusInput!) {{ roundDeny(input: $input) {PAYLOAD} }}",
            {"input": statement},
            status_stopper,
        ),
        "acquisitionReport": Operation(
            "mutation($input: AcquisitionReportInput!) {"
            f" acquisitionReport(input: $input) {acquisition_payload} }}",
            {"input": acquisition_report},
            ("input", "otherAcquirers", "1", "slug"),
            ("input", "otherAcquirers", 1),
        ),
        "acquisitionConfirm": Operation(
            "mutation($input: AcquisitionStatusInput!) {"
            f" acquisitionConfirm(input: $input) {acquisition_payload} }}",
            {"input": acquisition_statement},
            acquisition_stopper,
        ),
        "acquisitionDeny": Operation(
            "mutation($input: AcquisitionStatusInput!) {"
            f" acquisitionDeny(input: $input) {acquisition_payload} }}",
            {"input": acquisition_statement},
            acquisition_stopper,
        ),
    }


def _definition(document: str) -> OperationDefinitionNode:
    [definition] = parse(document).definitions
    assert isinstance(definition, OperationDefinitionNode)
    return definition


def variable_types(document: str) -> dict[str, GraphQLInputType]:
    found: dict[str, GraphQLInputType] = {}
    for variable in _definition(document).variable_definitions or ():
        graphql_type = type_from_ast(schema._schema, variable.type)
        assert is_input_type(graphql_type)
        found[variable.variable.name.value] = graphql_type
    return found


def leaf_type(top: GraphQLInputType, path: JsonPath) -> GraphQLNamedType:
    """The named type of the value at `path` below a variable of type `top`."""
    current: Any = top
    for part in path:
        current = get_nullable_type(current)
        if isinstance(current, GraphQLList):
            current = current.of_type
        else:
            assert isinstance(current, GraphQLInputObjectType)
            current = current.fields[str(part)].type
    named: GraphQLNamedType = get_named_type(current)
    return named


def covered(operation: Operation) -> set[str]:
    """The arguments and input fields the operation's variables reach, as `Type.field(arg:)`
    and `InputType.field`."""
    found: set[str] = set()
    types = variable_types(operation.document)
    info = TypeInfo(schema._schema)

    class Arguments(Visitor):
        def enter_argument(self, node: Any, *_: Any) -> None:
            parent, field = info.get_parent_type(), info.get_field_def()
            if (
                isinstance(parent, GraphQLObjectType | GraphQLInterfaceType)
                and field is not None
                and node.value.kind == "variable"
            ):
                name = next(n for n, f in parent.fields.items() if f is field)
                found.add(f"{parent.name}.{name}({node.name.value}:)")

    visit(_definition(operation.document), TypeInfoVisitor(info, Arguments()))
    for variable, value in operation.variables.items():
        for path in leaf_paths(value):
            if isinstance(path[-1], str):
                owner = leaf_type(types[variable], path[:-1])
                found.add(f"{owner.name}.{path[-1]}")
    return found


def schema_coordinates() -> set[str]:
    found: set[str] = set()
    for graphql_type in schema._schema.type_map.values():
        # Subscriptions run over WebSocket only, where this corpus (sent over HTTP) does
        # not go; their arguments are the RoundFilter and ID that queries take.
        if graphql_type.name.startswith("__") or graphql_type.name == "Subscription":
            continue
        if isinstance(graphql_type, GraphQLInputObjectType):
            found |= {f"{graphql_type.name}.{name}" for name in graphql_type.fields}
        for name, field in getattr(graphql_type, "fields", {}).items():
            found |= {f"{graphql_type.name}.{name}({arg}:)" for arg in getattr(field, "args", {})}
    return found


@dataclass(frozen=True)
class Case:
    label: str
    value: str
    body: bytes
    leaf: str
    # The argument may take the value: then a plain answer (found nothing) is right.
    legitimate: bool
    stopper: tuple[str, ...] | None
    too_large: bool = False


def cases(ids: dict[str, str]) -> Iterator[Case]:
    for label, operation in operations(ids).items():
        types = variable_types(operation.document)
        request_body = {"query": operation.document, "variables": operation.variables}
        paths: list[JsonPath] = [(name,) for name in types]
        for name, value in operation.variables.items():
            paths += [
                path
                for path in leaf_paths(value, (name,))
                if operation.untouched is None
                or path[: len(operation.untouched)] != operation.untouched
            ]
        for path in dict.fromkeys(paths):
            leaf = next(str(part) for part in reversed(path) if isinstance(part, str))
            type_name = leaf_type(types[str(path[0])], path[1:]).name
            for value_name, value in JSON_VALUES.items():
                # Any string is a String; JSON's -0 is the Int 0, a page size Relay allows.
                legitimate = (type_name == "String" and value.startswith(b'"')) or (
                    type_name == "Int" and value == b"-0"
                )
                yield Case(
                    f"{label} ${dotted(path)}",
                    value_name,
                    with_hostile(request_body, ("variables", *path), value),
                    leaf,
                    legitimate,
                    operation.stopper,
                )
        first = next(iter(types))
        huge = with_hostile(request_body, ("variables", first), b'"' + b"x" * MEGABYTE + b'"')
        yield Case(f"{label} ${first}", "huge-1mb", huge, first, False, None, too_large=True)


def judge(case: Case, answer: Answer) -> str | None:
    """What is wrong with the answer to a case, or None."""
    if answer.status not in (200, 400, 413):
        return f"status {answer.status}: {answer.body[:300]!r}"
    if case.too_large:
        return None if answer.status == 413 else f"status {answer.status} for a 1 MB body"
    result = answer.json()
    errors = result.get("errors", [])
    codes = {e.get("extensions", {}).get("code") for e in errors}
    if not codes <= CLIENT_CODES:
        return f"codes {codes}: {errors}"
    if errors:
        messages = " ".join(e["message"] for e in errors)
        if case.leaf in messages or "not valid JSON" in messages:
            return None
        return f"no error names {case.leaf}: {messages[:300]}"
    payload = next(iter((result.get("data") or {}).values()), None)
    if isinstance(payload, dict) and "userErrors" in payload:
        fields = [tuple(e["field"] or ()) for e in payload["userErrors"]]
        written = [v for k, v in payload.items() if k != "userErrors"]
        if written == [None] and any(f == case.stopper or case.leaf in f for f in fields):
            return None
        return f"the write was not refused: {payload}"
    return None if case.legitimate else f"answered without an error: {result}"


@pytest.fixture(scope="module")
def server(db_url: str) -> Iterator[int]:
    with serving(create_app(db_url, pool_min_size=1, pool_max_size=4)) as url:
        yield int(url.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
async def ids(pool: Pool) -> dict[str, str]:
    async with pool.acquire() as conn:
        await seed(conn)
        orgs = {r["slug"]: r["id"] for r in await conn.fetch("select slug, id from organizations")}
        person = await conn.fetchval("select id from people where slug = 'sam-altman'")
        round_id = await conn.fetchval("select id from rounds order by created_at limit 1")
        async with conn.transaction():
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
    return {
        "acquisition": encode_id(Kind.ACQUISITION, written.acquisition_id),
        "openai": encode_id(Kind.ORGANIZATION, orgs["openai"]),
        "amazon": encode_id(Kind.ORGANIZATION, orgs["amazon"]),
        "person": encode_id(Kind.PERSON, person),
        "round": encode_id(Kind.ROUND, round_id),
    }


def test_the_corpus_reaches_every_argument_and_input_field() -> None:
    placeholder = {"round": "r", "openai": "o", "amazon": "a", "person": "p", "acquisition": "q"}
    reached = set().union(*(covered(op) for op in operations(placeholder).values()))
    assert schema_coordinates() - reached == set()


async def test_every_argument_refuses_the_corpus_and_nothing_changes(
    server: int, db_url: str, ids: dict[str, str]
) -> None:
    key = await create_key(db_url)
    before = await stored_data(db_url)
    corpus = list(cases(ids))
    gate = asyncio.Semaphore(8)

    async def run(case: Case) -> str | None:
        sent = request("POST", b"/graphql", key=key, body=case.body, accept=GRAPHQL_RESPONSE)
        async with gate:
            answer = await send(server, sent)
        wrong = judge(case, answer)
        return None if wrong is None else f"{case.label} <- {case.value}: {wrong}"

    failures = [f for f in await asyncio.gather(*(run(case) for case in corpus)) if f]
    figures.record(
        f"fuzz, hostile corpus over GraphQL: {len(corpus)} requests, {len(failures)} not "
        "refused as they should be"
    )
    assert failures == [], "\n".join(failures[:40])
    assert await stored_data(db_url) == before


async def test_a_nul_in_a_literal_is_refused_naming_the_argument(server: int, db_url: str) -> None:
    body = json.dumps({"query": '{ organization(slug: "open\\u0000ai") { id } }'}).encode()
    sent = request(
        "POST", b"/graphql", key=await create_key(db_url), body=body, accept=GRAPHQL_RESPONSE
    )
    answer = await send(server, sent)
    assert answer.status == 400
    [error] = answer.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "'slug'" in error["message"]


@pytest.mark.parametrize(
    "target",
    [
        b"/graphql?query=%FF%FE%FD",
        b"/graphql?query=%7B__typename%7D&variables=%FF%FE",
        b"/graphql?query=%7B__typename%7D&variables=" + b"%5B" * 10_000,
        b"/graphql?query=%7B__typename%7D&variables=%7B%22a%22%3A%22%5Cu0000%22%7D",
    ],
    ids=["invalid-utf8-query", "invalid-utf8-variables", "deep-json", "nul"],
)
async def test_a_get_with_a_hostile_url_is_refused(server: int, db_url: str, target: bytes) -> None:
    sent = request("GET", target, key=await create_key(db_url), accept=GRAPHQL_RESPONSE)
    answer = await send(server, sent)
    assert answer.status == 400
    [error] = answer.json()["errors"]
    assert error["extensions"]["code"] in CLIENT_CODES | {"GRAPHQL_PARSE_FAILED"}


@pytest.mark.parametrize(
    "target", [b"/graphql?query=\xff\xfe", b"/graphql?query=" + b"x" * MEGABYTE]
)
async def test_a_url_no_http_request_can_hold_is_refused_by_uvicorn(
    server: int, db_url: str, target: bytes
) -> None:
    answer = await send(server, request("GET", target, key=await create_key(db_url)))
    assert (answer.status, answer.body) == (400, b"Invalid HTTP request received.")

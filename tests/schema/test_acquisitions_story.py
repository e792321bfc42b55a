"""An acquisition's story: a press report of talks, the target's confirmation, the
closing; read as of each step, through GraphQL and REST alike."""

import datetime
from typing import Any

import httpx
import pytest

from tests.graphql import graphql, graphql_data

ACQUISITION = """
  id status stage
  target { slug }
  leadAcquirer { slug }
  acquirers { slug }
  price { qualifier low { amount currency } high { amount currency } usd }
  terms percentAcquired
  announced { date precision }
  closedOn
  claims { status stage quote amount { qualifier } closedOn source { publisher kind } }
  history { status stage source { publisher } }
"""
REPORT = f"""
mutation ($input: AcquisitionReportInput!) {{
  acquisitionReport(input: $input) {{
    acquisition {{ {ACQUISITION} }} userErrors {{ message field code }}
  }}
}}
"""
CONFIRM = f"""
mutation ($input: AcquisitionStatusInput!) {{
  acquisitionConfirm(input: $input) {{
    acquisition {{ {ACQUISITION} }} userErrors {{ message field code }}
  }}
}}
"""
DENY = CONFIRM.replace("acquisitionConfirm", "acquisitionDeny")
AS_OF = (
    f"query ($id: ID!, $asOf: DateTime) {{ acquisition(id: $id, asOf: $asOf) {{ {ACQUISITION} }} }}"
)

PRESS = {
    "publisher": "Bloomberg",
    "kind": "PRESS_ANONYMOUS",
    "language": "en",
    "publishedAt": "2025-06-02T08:00:00Z",
    "url": "https://www.bloomberg.com/news/acme-widgetco-talks",
}
TARGET_STATEMENT = {
    "publisher": "WidgetCo",
    "kind": "COMPANY_STATEMENT",
    "publishedAt": "2025-06-20T12:00:00Z",
}
CLOSING_STATEMENT = {
    "publisher": "Acme Industries",
    "kind": "COMPANY_STATEMENT",
    "publishedAt": "2025-09-30T12:00:00Z",
}


def _now() -> str:
    # A moment between two writes (the database and the tests share this machine's clock).
    return datetime.datetime.now(datetime.UTC).isoformat()


@pytest.fixture(scope="module")
async def story(client: httpx.AsyncClient) -> dict[str, Any]:
    """Run the story once; each test reads a part of it."""
    steps: dict[str, Any] = {"before": _now()}
    reported = await graphql_data(
        client,
        REPORT,
        {
            "input": {
                "target": {"name": "WidgetCo"},
                "leadAcquirer": {"name": "Acme Industries"},
                "stage": "IN_TALKS",
                "price": {
                    "qualifier": "ABOUT",
                    "low": {"amount": "1500000000", "currency": "EUR"},
                },
                "terms": "CASH",
                "source": PRESS,
                "quote": "Acme is in talks to acquire WidgetCo for about €1.5 billion",
            }
        },
    )
    steps["reported"] = reported["acquisitionReport"]
    steps["after_report"] = _now()
    acquisition_id = steps["reported"]["acquisition"]["id"]

    confirmed = await graphql_data(
        client,
        CONFIRM,
        {
            "input": {
                "acquisitionId": acquisition_id,
                "stage": "ANNOUNCED",
                "price": {
                    "qualifier": "EXACT",
                    "low": {"amount": "1450000000", "currency": "EUR"},
                },
                "source": TARGET_STATEMENT,
                "quote": "WidgetCo has agreed to be acquired by Acme for €1.45 billion.",
            }
        },
    )
    steps["confirmed"] = confirmed["acquisitionConfirm"]
    steps["after_confirm"] = _now()

    closed = await graphql_data(
        client,
        CONFIRM,
        {
            "input": {
                "acquisitionId": acquisition_id,
                "stage": "CLOSED",
                "closedOn": "2025-09-30",
                "source": CLOSING_STATEMENT,
                "quote": "Acme has completed its acquisition of WidgetCo.",
            }
        },
    )
    steps["closed"] = closed["acquisitionConfirm"]
    steps["after_close"] = _now()
    return steps


async def test_the_press_report_creates_a_reported_acquisition_in_talks(
    story: dict[str, Any],
) -> None:
    payload = story["reported"]
    assert payload["userErrors"] == []
    a = payload["acquisition"]
    assert (a["status"], a["stage"]) == ("REPORTED", "IN_TALKS")
    assert a["target"]["slug"] == "widgetco"
    assert a["leadAcquirer"]["slug"] == "acme-industries"
    assert a["acquirers"] == [{"slug": "acme-industries"}]
    assert a["price"]["low"] == {"amount": "1500000000", "currency": "EUR"}
    # Euros kept as reported, with a US-dollar value at the reference rate of the day.
    assert 1_500_000_000 < int(a["price"]["usd"]) < 2_000_000_000
    assert a["terms"] == "CASH"
    assert [(h["status"], h["stage"]) for h in a["history"]] == [("REPORTED", "IN_TALKS")]


async def test_the_targets_statement_confirms_and_announces(story: dict[str, Any]) -> None:
    a = story["confirmed"]["acquisition"]
    assert a["id"] == story["reported"]["acquisition"]["id"]
    assert (a["status"], a["stage"]) == ("CONFIRMED", "ANNOUNCED")
    assert a["price"]["qualifier"] == "EXACT"
    assert a["price"]["low"]["amount"] == "1450000000"
    # The press's figure stays visible among the claims.
    assert {c["amount"]["qualifier"] for c in a["claims"] if c["amount"]} == {"ABOUT", "EXACT"}
    assert [(h["status"], h["stage"]) for h in a["history"]] == [
        ("REPORTED", "IN_TALKS"),
        ("CONFIRMED", "ANNOUNCED"),
    ]


async def test_the_closing_closes_it(story: dict[str, Any]) -> None:
    a = story["closed"]["acquisition"]
    assert (a["status"], a["stage"], a["closedOn"]) == ("CONFIRMED", "CLOSED", "2025-09-30")
    # The closing statement says nothing of the price: the target's figure stands.
    assert a["price"]["low"]["amount"] == "1450000000"
    assert [h["stage"] for h in a["history"]] == ["IN_TALKS", "ANNOUNCED", "CLOSED"]


def _essentials(graphql_acquisition: dict[str, Any]) -> tuple[Any, ...]:
    a = graphql_acquisition
    return (
        a["id"],
        a["status"],
        a["stage"],
        a["target"]["slug"],
        [x["slug"] for x in a["acquirers"]],
        a["price"] and (a["price"]["qualifier"], a["price"]["usd"]),
        a["closedOn"],
        len(a["claims"]),
        [(h["status"], h["stage"]) for h in a["history"]],
    )


def _rest_essentials(rest: dict[str, Any]) -> tuple[Any, ...]:
    return (
        rest["id"],
        rest["status"],
        rest["stage"],
        rest["target"]["slug"],
        [x["slug"] for x in rest["acquirers"]],
        rest["price"] and (rest["price"]["qualifier"], rest["price"]["usd"]),
        rest["closed_on"],
        len(rest["claims"]),
        [(h["status"], h["stage"]) for h in rest["history"]],
    )


async def test_reads_as_of_each_step_differ_and_both_faces_agree(
    client: httpx.AsyncClient, story: dict[str, Any]
) -> None:
    acquisition_id = story["reported"]["acquisition"]["id"]

    async def graphql_as_of(moment: str) -> dict[str, Any] | None:
        data = await graphql_data(client, AS_OF, {"id": acquisition_id, "asOf": moment})
        found: dict[str, Any] | None = data["acquisition"]
        return found

    async def rest_as_of(moment: str) -> httpx.Response:
        return await client.get(f"/v1/acquisitions/{acquisition_id}", params={"as_of": moment})

    assert await graphql_as_of(story["before"]) is None
    assert (await rest_as_of(story["before"])).status_code == 404

    seen = []
    for step in ("after_report", "after_confirm", "after_close"):
        then = await graphql_as_of(story[step])
        assert then is not None
        answer = await rest_as_of(story[step])
        assert answer.status_code == 200, answer.text
        assert _rest_essentials(answer.json()) == _essentials(then)
        seen.append((then["status"], then["stage"], then["price"]["qualifier"], then["closedOn"]))
    assert seen == [
        ("REPORTED", "IN_TALKS", "ABOUT", None),
        ("CONFIRMED", "ANNOUNCED", "EXACT", None),
        ("CONFIRMED", "CLOSED", "EXACT", "2025-09-30"),
    ]
    now = (await graphql_data(client, AS_OF, {"id": acquisition_id}))["acquisition"]
    assert _essentials(now) == _essentials(story["closed"]["acquisition"])


async def test_lists_as_of_and_by_organization(
    client: httpx.AsyncClient, story: dict[str, Any]
) -> None:
    query = """
    query ($asOf: DateTime, $filter: AcquisitionFilter) {
      acquisitions(asOf: $asOf, filter: $filter) { totalCount edges { node { stage } } }
    }"""

    async def listed(moment: str | None, **filter: Any) -> list[str]:
        data = await graphql_data(client, query, {"asOf": moment, "filter": filter or None})
        edges = data["acquisitions"]["edges"]
        assert data["acquisitions"]["totalCount"] == len(edges)
        return [e["node"]["stage"] for e in edges]

    assert await listed(story["before"]) == []
    assert await listed(story["after_report"]) == ["IN_TALKS"]
    assert await listed(story["after_confirm"], stage=["ANNOUNCED"]) == ["ANNOUNCED"]
    assert await listed(story["after_report"], stage=["ANNOUNCED"]) == []
    assert await listed(None, minPriceUsd="1000000000") == ["CLOSED"]
    assert await listed(None, minPriceUsd="9000000000") == []

    orgs = await graphql_data(
        client,
        """{
          acme: organization(slug: "acme-industries") {
            id acquisitions { totalCount edges { node { target { slug } } } } acquiredBy { id }
          }
          widgetco: organization(slug: "widgetco") { id acquiredBy { leadAcquirer { slug } } }
        }""",
    )
    assert orgs["acme"]["acquisitions"]["totalCount"] == 1
    assert orgs["acme"]["acquisitions"]["edges"][0]["node"]["target"] == {"slug": "widgetco"}
    assert orgs["acme"]["acquiredBy"] == []
    assert orgs["widgetco"]["acquiredBy"] == [{"leadAcquirer": {"slug": "acme-industries"}}]
    by_acquirer = await listed(None, acquirerId=orgs["acme"]["id"])
    assert by_acquirer == ["CLOSED"]
    assert await listed(None, targetId=orgs["acme"]["id"]) == []

    rest = await client.get("/v1/acquisitions", params={"acquirer": "acme-industries"})
    assert rest.status_code == 200, rest.text
    assert [a["stage"] for a in rest.json()["data"]] == ["CLOSED"]
    rest_then = await client.get(
        "/v1/acquisitions", params={"as_of": story["after_report"], "target": "widgetco"}
    )
    assert [(a["status"], a["stage"]) for a in rest_then.json()["data"]] == [
        ("REPORTED", "IN_TALKS")
    ]


async def test_node_finds_an_acquisition(client: httpx.AsyncClient, story: dict[str, Any]) -> None:
    acquisition_id = story["reported"]["acquisition"]["id"]
    data = await graphql_data(
        client,
        "query ($id: ID!) { node(id: $id) { id ... on Acquisition { stage } } }",
        {"id": acquisition_id},
    )
    assert data["node"] == {"id": acquisition_id, "stage": "CLOSED"}


async def test_the_change_feed_carries_acquisitions(
    client: httpx.AsyncClient, story: dict[str, Any]
) -> None:
    acquisition_id = story["reported"]["acquisition"]["id"]
    entries: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 100}
        if cursor is not None:
            params["cursor"] = cursor
        page = (await client.get("/v1/changes", params=params)).json()
        entries += page["data"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    mine = [e for e in entries if e["entity"] == "acquisition" and e["entity_id"] == acquisition_id]
    assert mine[0]["operation"] == "create"
    assert mine[-1]["state"]["stage"] == "CLOSED"
    # As GET /v1/acquisitions/{id} shows it: the lead acquirer first among the acquirers.
    assert mine[-1]["state"]["acquirers"][0] == mine[-1]["state"]["lead_acquirer"]
    claims = [
        e
        for e in entries
        if e["entity"] == "claim" and (e["state"] or {}).get("acquisition_id") == acquisition_id
    ]
    assert len(claims) == 3


async def test_a_second_report_adds_to_the_same_acquisition_a_new_lead_makes_another(
    client: httpx.AsyncClient,
) -> None:
    base = {
        "target": {"name": "Gizmo Labs"},
        "leadAcquirer": {"name": "Bigco"},
        "stage": "IN_TALKS",
        "source": {**PRESS, "url": None},
    }
    first = (await graphql_data(client, REPORT, {"input": base}))["acquisitionReport"]
    second = (
        await graphql_data(
            client,
            REPORT,
            {"input": {**base, "otherAcquirers": [{"name": "Partner Fund"}]}},
        )
    )["acquisitionReport"]
    assert second["acquisition"]["id"] == first["acquisition"]["id"]
    assert [a["slug"] for a in second["acquisition"]["acquirers"]] == ["bigco", "partner-fund"]
    rival = (
        await graphql_data(
            client, REPORT, {"input": {**base, "leadAcquirer": {"name": "Rival Corp"}}}
        )
    )["acquisitionReport"]
    assert rival["acquisition"]["id"] != first["acquisition"]["id"]
    denied = (
        await graphql_data(
            client,
            DENY,
            {
                "input": {
                    "acquisitionId": rival["acquisition"]["id"],
                    "source": {**TARGET_STATEMENT, "publisher": "Gizmo Labs"},
                    "quote": "We are not in talks with Rival Corp.",
                }
            },
        )
    )["acquisitionDeny"]
    assert denied["acquisition"]["status"] == "DENIED"


@pytest.mark.parametrize(
    ("change", "field", "needle"),
    [
        ({"target": {"slug": "no-such-company"}}, ["input", "target", "slug"], "no organization"),
        ({"leadAcquirer": {"name": "Brand New Target"}}, ["input", "leadAcquirer"], "itself"),
        ({"percentAcquired": "0"}, ["input", "percentAcquired"], "above 0"),
        ({"closedOn": "2025-01-01"}, ["input", "closedOn"], "CLOSED"),
        (
            {"price": {"qualifier": "EXACT", "low": {"amount": "5", "currency": "XYZ"}}},
            ["input", "price", "low", "currency"],
            "XYZ has no reference rate",
        ),
    ],
)
async def test_bad_reports_are_user_errors_and_write_nothing(
    client: httpx.AsyncClient, change: dict[str, Any], field: list[str], needle: str
) -> None:
    count = "{ acquisitions { totalCount } organizations { totalCount } }"
    before = await graphql_data(client, count)
    base = {
        "target": {"name": "Brand New Target"},
        "leadAcquirer": {"name": "Brand New Buyer"},
        "stage": "IN_TALKS",
        "source": PRESS,
    }
    payload = (await graphql_data(client, REPORT, {"input": {**base, **change}}))[
        "acquisitionReport"
    ]
    assert payload["acquisition"] is None
    [error] = payload["userErrors"]
    assert error["field"] == field
    assert needle in error["message"]
    assert await graphql_data(client, count) == before


async def test_confirming_an_unknown_acquisition(client: httpx.AsyncClient) -> None:
    data = await graphql_data(
        client,
        CONFIRM,
        {"input": {"acquisitionId": "acq_" + "0" * 32, "source": TARGET_STATEMENT}},
    )
    assert data["acquisitionConfirm"]["userErrors"][0]["code"] == "NOT_FOUND"
    wrong_kind = await graphql(
        client, CONFIRM, {"input": {"acquisitionId": "rnd_" + "0" * 32, "source": PRESS}}
    )
    assert wrong_kind["data"]["acquisitionConfirm"]["userErrors"][0]["field"] == [
        "input",
        "acquisitionId",
    ]


async def test_pages_walk_forward_and_back_in_either_order(client: httpx.AsyncClient) -> None:
    for index, price in enumerate((None, 10, 30, 20)):
        money = {"amount": str((price or 0) * 10**6), "currency": "USD"}
        given = {} if price is None else {"price": {"qualifier": "EXACT", "low": money}}
        await graphql_data(
            client,
            REPORT,
            {
                "input": {
                    "target": {"name": f"Paged Target {index}"},
                    "leadAcquirer": {"name": "Paging Buyer"},
                    "stage": "ANNOUNCED",
                    "announcedOn": f"2024-0{index + 1}-15",
                    "source": {**PRESS, "url": None},
                    **given,
                }
            },
        )
    buyer = await graphql_data(client, '{ organization(slug: "paging-buyer") { id } }')
    query = """
    query ($filter: AcquisitionFilter, $order: AcquisitionOrder, $first: Int, $after: String,
           $last: Int, $before: String) {
      acquisitions(filter: $filter, orderBy: $order, first: $first, after: $after,
                   last: $last, before: $before) {
        edges { cursor node { target { slug } } }
        pageInfo { hasNextPage hasPreviousPage }
      }
    }"""
    by_buyer = {"acquirerId": buyer["organization"]["id"]}

    async def page(order: dict[str, str], **args: Any) -> tuple[list[str], dict[str, Any]]:
        data = await graphql_data(client, query, {"filter": by_buyer, "order": order, **args})
        found = data["acquisitions"]
        return [e["node"]["target"]["slug"][-1] for e in found["edges"]], found

    by_price = {"field": "PRICE_USD", "direction": "DESC"}
    first, found = await page(by_price, first=2)
    assert first == ["2", "3"]
    rest, _ = await page(by_price, first=2, after=found["edges"][-1]["cursor"])
    assert rest == ["1", "0"]  # the undisclosed price last
    back, found = await page(by_price, last=2, before=found["edges"][-1]["cursor"])
    assert back == ["2"]
    assert found["pageInfo"] == {"hasNextPage": True, "hasPreviousPage": False}
    by_date, _ = await page({"field": "ANNOUNCED_ON", "direction": "ASC"}, last=3)
    assert by_date == ["1", "2", "3"]

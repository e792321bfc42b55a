"""Cursors changed by hand (issue 14, item 11): a 400 naming the cursor, never a 500.

Before cursors were signed, a sort key changed to something PostgreSQL cannot cast gave a
plain-text 500 on REST and INTERNAL_SERVER_ERROR on GraphQL; a change-feed cursor past
int64 gave a 500, and `changes:-1:0` an empty page for ever.
"""

import base64
from typing import Any

import httpx
import orjson
import pytest

from db.infra.types import Pool
from db.seed import seed
from tests.graphql import graphql, graphql_data

TAMPERED_KEYS = ["not-a-date", "NaN-x", "1e1000000", "2019-01-01"]


@pytest.fixture(scope="module", autouse=True)
async def data(pool: Pool) -> None:
    async with pool.acquire() as conn:
        await seed(conn)


def _parts(cursor: str) -> list[Any]:
    parts: list[Any] = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    return parts


def _cursor(parts: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(parts)).decode().rstrip("=")


def _tampered(cursor: str) -> list[str]:
    """The cursor with its sort key changed, signature kept or dropped (the old form)."""
    made_under, _, id_hex, signature = _parts(cursor)
    changed = []
    for key in TAMPERED_KEYS:
        changed.append(_cursor([made_under, key, id_hex, signature]))
        changed.append(_cursor([made_under, key, id_hex]))
    changed.append(_cursor([made_under, 1, id_hex, signature]))
    changed.append(_cursor([made_under, "x", id_hex, "é" * 32]))
    return changed


@pytest.mark.parametrize("sort", ["-announced_on", "amount_usd"])
async def test_rest_rounds_refuses_a_changed_cursor(client: httpx.AsyncClient, sort: str) -> None:
    first = (await client.get("/v1/rounds", params={"limit": 1, "sort": sort})).json()
    good = await client.get(
        "/v1/rounds", params={"limit": 1, "sort": sort, "cursor": first["next_cursor"]}
    )
    assert good.status_code == 200
    for cursor in _tampered(first["next_cursor"]):
        response = await client.get(
            "/v1/rounds", params={"limit": 1, "sort": sort, "cursor": cursor}
        )
        assert response.status_code == 400, (cursor, response.text)
        assert response.json()["parameter"] == "cursor"


ROUNDS = """query($after: String, $order: RoundOrder) {
  rounds(first: 1, after: $after, orderBy: $order) { pageInfo { endCursor } edges { node { id } } }
}"""
SEARCH = """query($after: String) {
  organizations(first: 1, after: $after, filter: {search: "open"}) { pageInfo { endCursor } }
}"""


@pytest.mark.parametrize(
    ("query", "variables", "path"),
    [
        (ROUNDS, {"order": {"field": "ANNOUNCED_ON", "direction": "DESC"}}, "rounds"),
        (ROUNDS, {"order": {"field": "AMOUNT_USD", "direction": "ASC"}}, "rounds"),
        (SEARCH, {}, "organizations"),
    ],
)
async def test_graphql_refuses_a_changed_cursor(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], path: str
) -> None:
    end = (await graphql_data(client, query, variables))[path]["pageInfo"]["endCursor"]
    assert "errors" not in await graphql(client, query, {**variables, "after": end})
    for cursor in _tampered(end):
        answer = await graphql(client, query, {**variables, "after": cursor})
        [error] = answer["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", (cursor, answer)
        assert error["message"].startswith("after:")


def _feed_cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "position",
    [
        "changes:-1:0",
        "changes:0:-1",
        f"changes:{2**63}:0",
        f"changes:0:{2**64}",
        "changes:1e3:0",
        "changes:99999999999:0",
    ],
)
async def test_the_change_feed_refuses_a_changed_cursor(
    client: httpx.AsyncClient, position: str
) -> None:
    response = await client.get("/v1/changes", params={"after": _feed_cursor(position)})
    assert response.status_code == 400, response.text
    assert response.json()["parameter"] == "after"


async def test_the_change_feed_still_follows_its_own_cursors(client: httpx.AsyncClient) -> None:
    first = (await client.get("/v1/changes", params={"limit": 2})).json()
    assert first["has_more"]
    response = await client.get("/v1/changes", params={"after": first["next_cursor"]})
    assert response.status_code == 200
    # The end of the feed is an empty page, not an error.
    last = response.json()
    while last["has_more"]:
        last = (await client.get("/v1/changes", params={"after": last["next_cursor"]})).json()
    response = await client.get("/v1/changes", params={"after": last["next_cursor"]})
    assert response.status_code == 200
    assert response.json()["data"] == []

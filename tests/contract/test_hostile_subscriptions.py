"""The hostile-input corpus against subscriptions, over WebSocket (graphql-transport-ws)
on a real server: every field of roundChanged's filter, through variables, takes each
hostile value. Each is answered as the protocol allows, never as an internal error: an
`error` message for the subscription with a client's code, the subscription taken (a
value that is valid), or the socket closed with 4400 when the message itself is not
JSON. The server goes on answering others meanwhile, and its log shows no traceback.
"""

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from tests.api.serving import Server, environment, serve
from tests.conftest import create_key
from tests.contract.hostile import JSON_VALUES, with_hostile

PROTOCOL = "graphql-transport-ws"
CLIENT_CODES = {"BAD_USER_INPUT", "BAD_REQUEST", "GRAPHQL_VALIDATION_FAILED", "NOT_FOUND"}
QUERY = """
subscription ($filter: RoundFilter) {
  roundChanged(filter: $filter) { event round { id } }
}
"""
FIELDS = (
    "status", "stage", "roundType", "companyId", "investorId", "announcedFrom",
    "announcedTo", "minAmountUsd",
)  # fmt: skip
# A bound, not a measurement: far above what an answer takes.
WAIT = 10.0


@pytest.fixture(scope="module")
def server(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("hostile-ws"), environment(DATABASE_URL=db_url)) as s:
        yield s


async def _receive(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = orjson.loads(await asyncio.wait_for(ws.recv(), WAIT))
    return message


async def _answer_to(server: Server, key: str, message: bytes) -> tuple[str, Any]:
    """What the server does with one subscribe message on a new socket: ("error",
    errors) when they come before the answer to a ping sent after it, ("taken",
    None) when the ping is answered first, or ("closed", its close code)."""
    url = server.url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}
        await ws.send(json.dumps(init))
        assert (await _receive(ws))["type"] == "connection_ack"
        try:
            text = message.decode()
        except UnicodeDecodeError:
            await ws.send(message)
        else:
            await ws.send(text)
        await ws.send(json.dumps({"type": "ping"}))
        try:
            answer = await _receive(ws)
        except websockets.ConnectionClosed as closed:
            # None when it was dropped without a close frame.
            return "closed", None if closed.rcvd is None else closed.rcvd.code
        if answer["type"] == "pong":
            # Taken, or its error is still on the way (variables are coerced as the
            # operation starts, in a task of its own): either way it is left behind as
            # a client that goes away leaves it, which must cost the server nothing.
            return "taken", None
        assert answer["id"] == "s", answer
        if answer["type"] == "next":
            # An argument the subscription's resolver refuses: its first result is the
            # error, as a query's would be.
            assert answer["payload"]["data"] is None, answer
            return "error", answer["payload"]["errors"]
        assert answer["type"] == "error", answer
        return "error", answer["payload"]


@pytest.mark.parametrize("field", FIELDS)
async def test_every_filter_field_refuses_the_corpus_over_websocket(
    server: Server, db_url: str, field: str
) -> None:
    key = await create_key(db_url)
    subscribe = {
        "id": "s",
        "type": "subscribe",
        "payload": {"query": QUERY, "variables": {"filter": {field: None}}},
    }
    path = ("payload", "variables", "filter", field)
    for name, hostile in JSON_VALUES.items():
        outcome, detail = await _answer_to(server, key, with_hostile(subscribe, path, hostile))
        if outcome == "error":
            (error,) = detail
            assert error["extensions"]["code"] in CLIENT_CODES, (name, error)
            assert field in error["message"] or "filter" in error["message"], (name, error)
        elif outcome == "closed":
            # Not JSON (NaN, Infinity) or not UTF-8: the protocol's "invalid message".
            assert detail == 4400, (name, detail)
            with pytest.raises(orjson.JSONDecodeError):
                orjson.loads(with_hostile(subscribe, path, hostile))
    assert "Traceback" not in server.output()


def _nested(depth: int) -> str:
    inner = "name"
    for _ in range(depth):
        inner = f"rounds(first: 1) {{ edges {{ node {{ company {{ {inner} }} }} }} }}"
    return f"subscription {{ roundChanged {{ round {{ company {{ {inner} }} }} }} }}"


# Each document limit of queries, asked of a subscription: the same code, before it
# starts (README, "Limits").
LIMITED = {
    "QUERY_TOO_DEEP": _nested(3),
    "TOO_MANY_ALIASES": "subscription { roundChanged { "
    + " ".join(f"a{i}: event" for i in range(31))
    + " } }",
    "TOO_MANY_TOKENS": "subscription { roundChanged { " + "event " * 2_100 + "} }",
    "QUERY_TOO_COSTLY": "subscription { roundChanged { round { company {"
    " rounds(first: 100) { edges { node { company { rounds(first: 100) {"
    " edges { node { id } } } } } } } } } } }",
}


@pytest.mark.parametrize("code", LIMITED)
async def test_a_subscription_past_a_query_limit_is_refused_with_its_code(
    server: Server, db_url: str, code: str
) -> None:
    key = await create_key(db_url)
    message = {"id": "s", "type": "subscribe", "payload": {"query": LIMITED[code]}}
    outcome, detail = await _answer_to(server, key, orjson.dumps(message))
    assert outcome == "error", (outcome, detail)
    assert [e["extensions"]["code"] for e in detail] == [code]

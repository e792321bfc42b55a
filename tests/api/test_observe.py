"""The request id on every line logged while a request runs, and secrets masked in logs.

A small app of its own: a route that logs, itself and from a task it starts.
"""

import asyncio
import io
import logging

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from api.ops.logs import JsonFormatter
from api.ops.observe import ObserveMiddleware

logger = logging.getLogger("tests.observe")


async def chatty(request: Request) -> Response:
    logger.warning("in the route")

    async def later() -> None:
        logger.warning("in a task of the route")

    await asyncio.create_task(later())
    return PlainTextResponse("ok")


async def _get(headers: dict[str, str]) -> httpx.Response:
    app = Starlette(routes=[Route("/chatty", chatty)], middleware=[Middleware(ObserveMiddleware)])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        return await http.get("/chatty", headers=headers)


async def test_every_line_of_a_request_carries_its_id(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="dealgraph.access")
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        answer = await _get({"x-request-id": "lb-7f3a"})
        logger.warning("after the request")
    finally:
        root.removeHandler(handler)
    lines = [orjson.loads(line) for line in written.getvalue().splitlines()]

    assert answer.headers["x-request-id"] == "lb-7f3a"
    during = [line for line in lines if line["message"] != "after the request"]
    assert [line["message"] for line in during] == [
        "in the route",
        "in a task of the route",
        "GET /chatty 200",
    ]
    assert {line["request_id"] for line in during} == {"lb-7f3a"}
    [after] = [line for line in lines if line["message"] == "after the request"]
    assert "request_id" not in after


@pytest.mark.parametrize("offered", [None, "", "has spaces", "x" * 129, "semi;colon"])
async def test_a_missing_or_odd_request_id_is_replaced(offered: str | None) -> None:
    headers = {} if offered is None else {"x-request-id": offered}
    answer = await _get(headers)
    made = answer.headers["x-request-id"]
    assert made != offered
    assert len(made) == 32
    int(made, 16)


def test_secrets_are_masked_whatever_logs_them() -> None:
    secret = "dg_live_" + "A1b2" * 11
    record = logging.makeLogRecord(
        {
            "msg": "key %s sent as Bearer %s to %s",
            "args": (secret, "opaque-token", "postgresql://app:hunter2@db.internal/deals"),
            "fields": {"detail": f"authorization: Bearer {secret}"},
        }
    )
    line = JsonFormatter().format(record)
    for leaked in (secret, "opaque-token", "hunter2"):
        assert leaked not in line
    entry = orjson.loads(line)
    assert entry["message"] == (
        "key dg_live_[redacted] sent as Bearer [redacted] to "
        "postgresql://app:[redacted]@db.internal/deals"
    )
    assert entry["detail"] == "authorization: Bearer [redacted]"

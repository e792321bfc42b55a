"""Sending GraphQL over HTTP in tests, the way a client does."""

import re
from typing import Any

import httpx


def points_aside(body: bytes) -> bytes:
    """A GraphQL answer (still valid JSON) without the points its key has left: they are
    the key's, not the answer's, and a process on a lease (api/guard/leases.py) tells what
    it holds, so two apps answering alike tell different figures."""
    return re.sub(rb'"remaining":[0-9]+', b'"remaining":0', body)


async def graphql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """POST a query; return the whole JSON answer (data and errors)."""
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
    answer: dict[str, Any] = response.json()
    return answer


async def graphql_data(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """POST a query that must succeed; return its data."""
    answer = await graphql(client, query, variables)
    assert "errors" not in answer, answer["errors"]
    data: dict[str, Any] = answer["data"]
    return data


def error_codes(answer: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in answer.get("errors", [])]

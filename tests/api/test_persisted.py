"""Automatic persisted queries: a hash in place of the document, over POST and GET."""

import hashlib
from typing import Any

import httpx
import orjson

from db.infra.types import Pool
from db.seed import seed

QUERY = '{ organization(slug: "openai") { name } }'
HASH = hashlib.sha256(QUERY.encode()).hexdigest()
GRAPHQL_RESPONSE = "application/graphql-response+json"


def _persisted(digest: str = HASH, version: int = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": digest}}


async def test_a_hash_alone_is_answered_once_the_document_was_sent(
    client: httpx.AsyncClient, pool: Pool
) -> None:
    async with pool.acquire() as conn:
        await seed(conn)
    unknown = hashlib.sha256(b"{ never sent }").hexdigest()
    first = await client.post(
        "/graphql", json={"extensions": _persisted(unknown)}, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert first.status_code == 400
    assert first.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert first.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"

    registered = await client.post("/graphql", json={"query": QUERY, "extensions": _persisted()})
    assert registered.json()["data"] == {"organization": {"name": "OpenAI"}}
    by_post = await client.post("/graphql", json={"extensions": _persisted()})
    assert by_post.json()["data"] == {"organization": {"name": "OpenAI"}}
    # A hash fits in a URL: GET, cacheable by HTTP caches that key on it.
    by_get = await client.get(
        "/graphql", params={"extensions": orjson.dumps(_persisted()).decode()}
    )
    assert by_get.status_code == 200
    assert by_get.json()["data"] == {"organization": {"name": "OpenAI"}}


async def test_a_hash_that_is_not_the_documents_is_refused(client: httpx.AsyncClient) -> None:
    wrong = hashlib.sha256(b"something else").hexdigest()
    answer = await client.post(
        "/graphql",
        json={"query": QUERY, "extensions": _persisted(wrong)},
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert answer.status_code == 400
    assert "not the SHA-256 of the query" in answer.json()["errors"][0]["message"]
    # Nothing was remembered under the wrong hash.
    again = await client.post("/graphql", json={"extensions": _persisted(wrong)})
    assert again.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_malformed_persisted_queries_are_refused(client: httpx.AsyncClient) -> None:
    for extensions, code in (
        (_persisted(version=2), "PERSISTED_QUERY_NOT_SUPPORTED"),
        (_persisted(digest="ABC"), "BAD_REQUEST"),
        ({"persistedQuery": "yes"}, "PERSISTED_QUERY_NOT_SUPPORTED"),
    ):
        answer = await client.post("/graphql", json={"extensions": extensions})
        assert answer.json()["errors"][0]["extensions"]["code"] == code, extensions
    bad_json = await client.get("/graphql", params={"query": QUERY, "extensions": "{"})
    assert bad_json.status_code == 400
    assert "`extensions` is not valid JSON" in bad_json.json()["errors"][0]["message"]


async def test_only_documents_that_parse_and_validate_are_remembered(
    client: httpx.AsyncClient,
) -> None:
    # Issue 14, item 13: 1,000 junk 97 kB documents sent with their hashes were all
    # kept (RSS 101 -> 202 MiB) and evicted real entries.
    junk = {
        "does not parse": "{ organization(slug: " + "x" * 1000,
        "does not validate": "{ organization(slug: 1) { noSuchField } }",
        "over the limits": "{ " + " ".join(f"a{i}: __typename" for i in range(40)) + " }",
    }
    for what, document in junk.items():
        digest = hashlib.sha256(document.encode()).hexdigest()
        sent = await client.post(
            "/graphql", json={"query": document, "extensions": _persisted(digest)}
        )
        assert "errors" in sent.json(), what
        again = await client.post("/graphql", json={"extensions": _persisted(digest)})
        assert again.json()["errors"][0]["message"] == "PersistedQueryNotFound", what

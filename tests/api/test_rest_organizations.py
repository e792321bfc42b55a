"""GET /v1/organizations/{id_or_slug} and its rounds and investments."""

import httpx
import pytest

from db.infra.types import Pool
from db.seed import seed


@pytest.fixture(scope="module", autouse=True)
async def demo(pool: Pool) -> None:
    async with pool.acquire() as conn:
        await seed(conn)


async def test_by_slug_and_by_id_agree(client: httpx.AsyncClient) -> None:
    by_slug = await client.get("/v1/organizations/amazon")
    assert by_slug.status_code == 200
    body = by_slug.json()
    assert body["name"] == "Amazon"
    assert body["investor_types"] == ["CORPORATE"]
    by_id = await client.get(f"/v1/organizations/{body['id']}")
    assert by_id.json() == body


async def test_investments_list_each_round(client: httpx.AsyncClient) -> None:
    body = (await client.get("/v1/organizations/amazon/investments")).json()
    assert body["next_cursor"] is None
    rounds = {i["round"]["company"]["slug"]: i for i in body["data"]}
    assert set(rounds) == {"openai", "anthropic"}
    assert rounds["anthropic"]["amount"]["qualifier"] == "AT_LEAST"
    assert rounds["openai"]["status"] == "REPORTED"


async def test_rounds_page_through(client: httpx.AsyncClient) -> None:
    first = (await client.get("/v1/organizations/openai/rounds", params={"limit": 1})).json()
    assert len(first["data"]) == 1
    assert first["data"][0]["company"]["slug"] == "openai"
    assert first["next_cursor"] is None
    none = (await client.get("/v1/organizations/amazon/rounds")).json()
    assert none == {"data": [], "next_cursor": None}


@pytest.mark.parametrize(
    "path",
    [
        "/v1/organizations/nope",
        "/v1/organizations/nope/rounds",
        "/v1/organizations/nope/investments",
    ],
)
async def test_unknown_organization_is_404(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert response.json()["parameter"] == "id_or_slug"


async def test_unknown_parameter_on_entity_route(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/organizations/amazon", params={"expand": "rounds"})
    assert response.status_code == 400
    assert response.json()["parameter"] == "expand"


async def test_docs_work_offline(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    # Every asset the page loads is served by the app itself, none from a CDN.
    for asset in ("/docs/assets/swagger-ui.css", "/docs/assets/swagger-ui-bundle.js"):
        assert asset in page.text
        assert (await client.get(asset)).status_code == 200
    assert "https://" not in page.text
    spec = (await client.get("/openapi.json")).json()
    assert spec["openapi"] == "3.1.0"

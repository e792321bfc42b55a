"""GraphiQL's page without a browser: it opens on the README's example, and every asset it
names is served by the app with the bytes its integrity hash promises
(tests/api/test_graphiql_browser.py runs it in chromium)."""

import base64
import hashlib
import re
from pathlib import Path

import httpx

from api.graphql.graphiql import EXAMPLE_QUERY

README = Path(__file__).parents[2] / "README.md"
ASSET = re.compile(r'(?:src|href)="(/graphiql/assets/[^"]+)"\s+integrity="(sha384-[^"]+)"')


def _without_comments(query: str) -> str:
    return "\n".join(line for line in query.splitlines() if not line.startswith("#")).strip()


def test_graphiql_opens_on_the_readme_example() -> None:
    example = README.read_text().split("```graphql\n", 1)[1].split("```", 1)[0]
    assert _without_comments(EXAMPLE_QUERY) == example.strip()


async def test_every_asset_is_served_with_its_integrity_hash(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers={"accept": "text/html"})
    assets = ASSET.findall(page.text)
    assert len(assets) == 6
    assert "unpkg.com" not in page.text
    assert "https://" not in page.text
    for path, integrity in assets:
        served = await client.get(path)
        assert served.status_code == 200, path
        digest = base64.b64encode(hashlib.sha384(served.content).digest()).decode()
        assert integrity == f"sha384-{digest}", path

"""GraphiQL and /docs in a real headless browser (Debian's chromium, driven by playwright),
against a real server on loopback: the pages work with no network beyond this machine.

Every request the pages make is recorded; one to any other host fails the test. The
browser is the system's (`/usr/bin/chromium`, installed by .ci/run), never one that
playwright downloads (no `playwright install`).
"""

import contextlib
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit

import asyncpg
import pytest
from playwright.async_api import Browser, Page, Request, async_playwright

from api.app import create_app
from api.guard.keys import issue_key
from db.access.principal import Scope
from db.seed import seed
from tests import figures
from tests.contract.live import serving

CHROMIUM = "/usr/bin/chromium"
# As root there is no sandbox to drop into; the rest keeps chromium from reaching out to
# Google's services on its own (update checks, sync, field trials).
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1"}

# Skipped on a machine without it, unless the run requires it (.ci/run does).
pytestmark = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None and os.environ.get("DEALGRAPH_BROWSER_TESTS") != "required",
    reason=f"{CHROMIUM} is missing (apt-get install chromium; .ci/run does)",
)


@pytest.fixture(scope="module")
async def demo_key(db_url: str) -> str:
    conn = await asyncpg.connect(db_url)
    try:
        await seed(conn)
        issued = await issue_key(conn, name="demo", scope=Scope.WRITE, rate_limit_per_minute=None)
    finally:
        await conn.close()
    return issued.secret


@pytest.fixture(scope="module")
def server(db_url: str, demo_key: str) -> Iterator[str]:
    with serving(create_app(db_url, pool_min_size=1, pool_max_size=4, demo_key=demo_key)) as url:
        yield url


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield launched
        finally:
            await launched.close()


@contextlib.asynccontextmanager
async def _page(browser: Browser, requests: list[str]) -> AsyncIterator[Page]:
    context = await browser.new_context()
    page = await context.new_page()

    def record(request: Request) -> None:
        requests.append(request.url)

    page.on("request", record)
    try:
        yield page
    finally:
        await context.close()


def _elsewhere(requests: list[str]) -> list[str]:
    return [url for url in requests if urlsplit(url).hostname not in LOCAL_HOSTS | {None}]


async def test_graphiql_runs_the_example_query_offline(
    browser: Browser, server: str, demo_key: str
) -> None:
    requests: list[str] = []
    async with _page(browser, requests) as page:
        await page.goto(f"{server}/graphql")
        # The editor opens on the README's example, the demo key in its headers.
        editor = page.locator(".graphiql-query-editor")
        await editor.get_by_text('organization(slug: "openai")').wait_for(timeout=30_000)
        await page.locator(".graphiql-editor-tool").get_by_text(demo_key).wait_for()

        # Not GraphiQL's own introspection query, which may still be under way.
        async with page.expect_response(
            lambda r: r.request.method == "POST" and "openai" in (r.request.post_data or "")
        ) as answered:
            await page.locator(".graphiql-execute-button").click()
        answer = await (await answered.value).json()
        # The answer shows in the result pane (which draws only the lines in view).
        shown = page.locator(".graphiql-response")
        await shown.get_by_text('"IN_TALKS"').wait_for()

    assert "errors" not in answer
    [edge] = answer["data"]["organization"]["rounds"]["edges"]
    round_ = edge["node"]
    assert (round_["status"], round_["stage"]) == ("REPORTED", "IN_TALKS")
    # Each claim says what it is about: Amazon's part, cited from the WSJ, among them.
    about = {(c["participation"] or {}).get("investor", {}).get("name") for c in round_["claims"]}
    assert {"Amazon", None} <= about
    assert "The Wall Street Journal" in {c["source"]["publisher"] for c in round_["claims"]}
    assert any(url.startswith(f"{server}/graphiql/assets/graphiql-") for url in requests)
    assert _elsewhere(requests) == []
    figures.record(f"graphiql in chromium: {len(requests)} requests, all to {server}")


async def test_docs_come_authorized_with_the_demo_key_offline(
    browser: Browser, server: str, demo_key: str
) -> None:
    requests: list[str] = []
    async with _page(browser, requests) as page:
        await page.goto(f"{server}/docs")
        # Authorize shows as locked (a key is set) and a call made from the page sends it.
        await page.locator(".auth-wrapper .authorize.locked").wait_for(timeout=30_000)
        operation = page.locator("#operations-rounds-listRounds")
        await operation.locator(".opblock-summary").click()
        await operation.get_by_role("button", name="Try it out").click()
        async with page.expect_response(lambda r: "/v1/rounds" in r.url) as answered:
            await operation.get_by_role("button", name="Execute").click()
        response = await answered.value
        sent = await response.request.all_headers()

    assert response.status == 200
    assert sent["authorization"] == f"Bearer {demo_key}"
    assert _elsewhere(requests) == []
    figures.record(f"/docs in chromium: {len(requests)} requests, all to {server}")

"""GraphiQL's page and its assets, served by the app itself so that it works offline.

The page (`graphiql.html`) loads React, GraphiQL and the explorer plugin from
`/graphiql/assets/` (the pinned files in `static/`, see `static/SOURCES.md`), opens on the
README's example query (`example.graphql`) and, for a browser on this machine, starts its
headers editor with the demo key's Authorization header.
"""

import functools
from pathlib import Path

import orjson
from starlette.requests import Request
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from api.guard.local import is_local_browser

_HERE = Path(__file__).parent
ASSETS_PATH = "/graphiql/assets"
EXAMPLE_QUERY = (_HERE / "example.graphql").read_text()


@functools.cache
def _template() -> str:
    return (_HERE / "graphiql.html").read_text()


def page_with_key(secret: str | None) -> str:
    headers = None
    if secret is not None:
        # A header set in the editor goes with every request GraphiQL makes.
        headers = orjson.dumps(
            {"Authorization": f"Bearer {secret}"}, option=orjson.OPT_INDENT_2
        ).decode()
    settings = orjson.dumps({"query": EXAMPLE_QUERY, "headers": headers}).decode()
    # JSON inside a <script> element: "<" escaped, so that nothing in it can close it.
    return _template().replace("__SETTINGS__", settings.replace("<", "\\u003c"))


def graphiql_page(request: Request, demo_key: str | None) -> str:
    """The page; with the demo key only for a browser on this machine, since a page that
    hands out a write key must not reach others when the port is opened wider."""
    return page_with_key(demo_key if is_local_browser(request) else None)


routes = [Mount(ASSETS_PATH, app=StaticFiles(directory=_HERE / "static"), name="graphiql-assets")]

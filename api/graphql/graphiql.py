"""GraphiQL's page, filled in with the demo key on the embedded default.

strawberry's page starts its headers editor from `parameters.headers` (taken from the
URL); we start it from the demo key's Authorization header instead, unless the URL
brings headers of its own. The headers show in the editor, where a user can change them.
"""

import functools
import ipaddress

import orjson
from starlette.requests import Request
from strawberry.http.ides import get_graphql_ide_html

_HEADERS_STATE = "React.useState(parameters.headers)"


@functools.cache
def _page() -> str:
    return get_graphql_ide_html()


def page_with_key(secret: str | None) -> str:
    page = _page()
    if secret is None:
        return page
    # A header set in the editor goes with every request GraphiQL makes.
    headers = orjson.dumps({"Authorization": f"Bearer {secret}"}, option=orjson.OPT_INDENT_2)
    # A JavaScript string holding the JSON text: json is valid JavaScript, and "<" is
    # escaped so that nothing in it can close the <script> element.
    literal = orjson.dumps(headers.decode()).decode().replace("<", "\\u003c")
    if _HEADERS_STATE not in page:
        raise RuntimeError("strawberry's GraphiQL page changed: update api/graphql/graphiql.py")
    return page.replace(_HEADERS_STATE, f"React.useState(parameters.headers || {literal})")


def _is_loopback(request: Request) -> bool:
    if request.client is None:
        return False
    try:
        return ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:
        return False


def graphiql_page(request: Request, demo_key: str | None) -> str:
    """The page; with the demo key only for a browser on this machine, since a page that
    hands out a write key must not reach others when the port is opened wider."""
    return page_with_key(demo_key if _is_loopback(request) else None)

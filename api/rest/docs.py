"""The REST contract: /openapi.json from openapi/openapi.yaml, and /docs to read it.

The documentation page and its Swagger UI assets are served from the installed
`swagger-ui-bundle-v2` package, so /docs works with no internet access. For a browser on
this machine, the embedded default's demo key is filled into Authorize, as in GraphiQL.
"""

import functools
from pathlib import Path
from typing import Any

import orjson
import yaml
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from api.guard.local import is_local_browser
from api.state import demo_key_of

SPEC_PATH = Path(__file__).parents[2] / "openapi" / "openapi.yaml"


@functools.cache
def openapi_spec() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text())
    return spec


async def openapi_json(request: Request) -> Response:
    return JSONResponse(openapi_spec())


_DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>dealgraph REST API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="docs"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script id="settings" type="application/json">__SETTINGS__</script>
  <script>
    const settings = JSON.parse(document.getElementById("settings").textContent);
    const ui = SwaggerUIBundle({
      url: "/openapi.json",
      dom_id: "#docs",
      deepLinking: true,
      onComplete: () => {
        if (settings.key) ui.preauthorizeApiKey("bearer", settings.key);
      },
    });
  </script>
</body>
</html>
"""


async def docs_page(request: Request) -> Response:
    """The page; with the demo key only for a browser on this machine (api/guard/local.py)."""
    key = demo_key_of(request) if is_local_browser(request) else None
    # JSON inside a <script> element: "<" escaped, so that nothing in it can close it.
    settings = orjson.dumps({"key": key}).decode().replace("<", "\\u003c")
    return HTMLResponse(_DOCS_PAGE.replace("__SETTINGS__", settings))


# What the page above loads, and nothing else of the package: not its stock index.html
# (pointed at the petstore), its template, nor its source maps.
_ASSETS = StaticFiles(directory=str(swagger_ui_path))
DOCS_ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js"})


async def docs_asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in DOCS_ASSETS:
        return Response("not found", 404, media_type="text/plain")
    return await _ASSETS.get_response(name, request.scope)


routes = [
    Route("/openapi.json", openapi_json, methods=["GET"]),
    Route("/docs", docs_page, methods=["GET"]),
    Route("/docs/assets/{name}", docs_asset, methods=["GET", "HEAD"]),
]

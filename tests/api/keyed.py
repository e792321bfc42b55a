"""An app with a REST route that shows who is asking, and a client with no key of its own."""

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.app import create_app
from api.guard.auth import principal_of

# Under /v1, so behind the key check like every REST route; it reads the whole body.
ECHO = "/v1/test-echo"


async def echo(request: Request) -> Response:
    body = await request.body()
    principal = principal_of(request)
    return JSONResponse(
        {
            "key_id": str(principal.key_id),
            "key_name": principal.key_name,
            "scope": principal.scope.value,
            "bytes": len(body),
        }
    )


def guarded_app(db_url: str, **options: Any) -> Starlette:
    app = create_app(db_url, pool_min_size=1, pool_max_size=4, **options)
    app.router.routes.insert(0, Route(ECHO, echo, methods=["GET", "POST"]))
    return app


@contextlib.asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http

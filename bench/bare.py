"""The floor for REST: a bare Starlette + asyncpg handler, no key, no checks, no
middleware, serving the same JSON as GET /v1/rounds?limit=50: it runs the very statement
that builds that answer in PostgreSQL (db/json/rest.py), made once, and sends the bytes.
What dealgraph spends beyond this is its own: keys, limits, parsing, metrics, logs.

    DATABASE_URL=... uvicorn --factory bench.bare:app
"""

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from db.infra.pagination import page_request
from db.json.rest import rest_rounds_statement
from db.rounds import RoundFilter, RoundOrder, rounds_scope

_FILTER, _ORDER = RoundFilter(), RoundOrder()
_SCOPE = rounds_scope(_FILTER, _ORDER)
_STATEMENT, _ARGS = rest_rounds_statement(
    filter=_FILTER, order=_ORDER, page=page_request(_SCOPE, first=50), scope=_SCOPE
)


def app() -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        async with asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=2) as pool:
            yield {"pool": pool}

    async def rounds(request: Request) -> Response:
        text: str = await request.state.pool.fetchval(_STATEMENT, *_ARGS)
        return Response(text.encode(), media_type="application/json")

    return Starlette(routes=[Route("/v1/rounds", rounds)], lifespan=lifespan)

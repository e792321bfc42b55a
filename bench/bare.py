"""The floor for REST: a bare Starlette + asyncpg handler, no key, no checks, no
middleware, serving the same JSON as GET /v1/rounds?limit=50: it runs the very statement
that builds that answer in PostgreSQL (the compiler's, api/rest/views.py), made once, and
sends the bytes.
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

from api.rest.views import ROUND, page_of
from db.infra.pagination import page_request
from db.json.select import field_statement
from db.json.sources import RoundsArgs
from db.rounds import RoundFilter, RoundOrder, rounds_scope

_FILTER, _ORDER = RoundFilter(), RoundOrder()
_SCOPE = rounds_scope(_FILTER, _ORDER)
_ARGUMENTS = RoundsArgs(_FILTER, _ORDER, page_request(_SCOPE, first=50), _SCOPE)
_PAGE = field_statement(page_of("rounds", _ARGUMENTS, "Round", ROUND), counted=True)
_STATEMENT, _ARGS = _PAGE.sql, _PAGE.args


def app() -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        async with asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=2) as pool:
            yield {"pool": pool}

    async def rounds(request: Request) -> Response:
        text: str = await request.state.pool.fetchval(_STATEMENT, *_ARGS)
        return Response(text.encode(), media_type="application/json")

    return Starlette(routes=[Route("/v1/rounds", rounds)], lifespan=lifespan)

"""The floor for REST: a bare Starlette + asyncpg + orjson handler, no key, no checks,
serving what GET /v1/rounds?limit=50 serves (rounds with company and participations),
read in one statement and shaped in Python.

    DATABASE_URL=... uvicorn --factory bench.bare:app
"""

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_QUERY = """
select public_id('rnd', r.id) as id,
       json_build_object('id', public_id('org', o.id), 'slug', o.slug, 'name', o.name)::text
           as company,
       r.round_type, r.reported_label, r.status, r.stage, r.announced_on,
       money_json(r.amount)::text as amount,
       coalesce((select json_agg(json_build_object(
                    'id', public_id('par', p.id), 'investor_id',
                    coalesce(public_id('org', p.investor_organization_id),
                             public_id('per', p.investor_person_id)),
                    'amount', money_json(p.amount), 'is_lead', p.is_lead,
                    'status', p.status, 'stage', p.stage)
                  order by p.is_lead desc, (p.amount).usd desc nulls last, p.id)
                 from participations p where p.round_id = r.id), '[]')::text as participations
from rounds r join organizations o on o.id = r.company_id
order by coalesce(r.announced_on, '-infinity'::date) desc, r.id desc
limit $1
"""


def app() -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        async with asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=2) as pool:
            yield {"pool": pool}

    async def rounds(request: Request) -> Response:
        records = await request.state.pool.fetch(_QUERY, 50)
        data = [
            {
                "id": r["id"],
                "company": orjson.loads(r["company"]),
                "round_type": r["round_type"],
                "reported_label": r["reported_label"],
                "status": r["status"],
                "stage": r["stage"],
                "announced_on": r["announced_on"],
                "amount": None if r["amount"] is None else orjson.loads(r["amount"]),
                "participations": orjson.loads(r["participations"]),
            }
            for r in records
        ]
        return Response(
            orjson.dumps({"data": data, "next_cursor": None}), media_type="application/json"
        )

    return Starlette(routes=[Route("/v1/rounds", rounds)], lifespan=lifespan)

"""GET /v1/organizations/{id_or_slug} and its rounds and investments."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.ops.replica import read_pool
from api.rest.protocol import QueryParams, json_answer, list_body
from api.rest.representations import (
    co_investors_json,
    investments_json,
    organization_json,
    rounds_json,
)
from db.co_investors import co_investors_scope, list_co_investors
from db.infra.errors import NotFound
from db.infra.storable import NUL
from db.infra.types import Pool
from db.organizations import fetch_organization
from db.participations import investments_scope, list_investments_of_investors
from db.rounds import company_rounds_scope, list_rounds_of_companies
from db.rows import Organization


async def _organization(pool: Pool, request: Request) -> Organization:
    id_or_slug = request.path_params["id_or_slug"]
    # Nothing stored holds a NUL, and PostgreSQL would refuse to compare with one.
    found = None if NUL in id_or_slug else await fetch_organization(pool, id_or_slug)
    if found is None:
        raise NotFound(f"no organization has the id or slug {id_or_slug!r}", field="id_or_slug")
    return found


async def get_organization_endpoint(request: Request) -> Response:
    pool = await read_pool(request)
    QueryParams(request, ())
    return json_answer(request, organization_json(await _organization(pool, request)))


async def organization_rounds_endpoint(request: Request) -> Response:
    pool = await read_pool(request)
    params = QueryParams(request, ("limit", "cursor"))
    org = await _organization(pool, request)
    [page] = await list_rounds_of_companies(
        pool, [org.id], params.page(company_rounds_scope(org.id))
    )
    return json_answer(request, list_body(await rounds_json(pool, page.items), page))


async def organization_investments_endpoint(request: Request) -> Response:
    pool = await read_pool(request)
    params = QueryParams(request, ("limit", "cursor"))
    org = await _organization(pool, request)
    [page] = await list_investments_of_investors(
        pool, [org.id], params.page(investments_scope(org.id))
    )
    return json_answer(request, list_body(await investments_json(pool, page.items), page))


async def organization_co_investors_endpoint(request: Request) -> Response:
    pool = await read_pool(request)
    params = QueryParams(request, ("limit", "cursor"))
    org = await _organization(pool, request)
    [page] = await list_co_investors(pool, [org.id], params.page(co_investors_scope(org.id)))
    return json_answer(request, list_body(co_investors_json(page.items), page))


routes = [
    Route("/organizations/{id_or_slug}", get_organization_endpoint, methods=["GET"]),
    Route("/organizations/{id_or_slug}/rounds", organization_rounds_endpoint, methods=["GET"]),
    Route(
        "/organizations/{id_or_slug}/investments",
        organization_investments_endpoint,
        methods=["GET"],
    ),
    Route(
        "/organizations/{id_or_slug}/co-investors",
        organization_co_investors_endpoint,
        methods=["GET"],
    ),
]

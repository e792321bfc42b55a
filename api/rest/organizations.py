"""GET /v1/organizations/{id_or_slug} and its rounds, investments and co-investors."""

import uuid
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.ops.replica import read_pool
from api.rest.protocol import QueryParams, json_bytes_answer
from api.rest.views import (
    CO_INVESTOR,
    INVESTMENT,
    ORGANIZATION,
    ROUND,
    Selection,
    page_of,
    shown,
)
from db.co_investors import co_investors_scope
from db.infra.errors import NotFound
from db.infra.ids import InvalidId, Kind, decode_id
from db.infra.storable import NUL
from db.infra.types import Pool
from db.json.select import Field, Key
from db.organizations import fetch_organization
from db.participations import investments_scope
from db.rounds import company_rounds_scope


async def _organization_id(pool: Pool, request: Request) -> uuid.UUID:
    id_or_slug = request.path_params["id_or_slug"]
    # Nothing stored holds a NUL, and PostgreSQL would refuse to compare with one.
    found = None if NUL in id_or_slug else await fetch_organization(pool, id_or_slug)
    if found is None:
        raise _unknown(id_or_slug)
    return found.id


def _unknown(id_or_slug: str) -> NotFound:
    return NotFound(f"no organization has the id or slug {id_or_slug!r}", field="id_or_slug")


async def get_organization_endpoint(request: Request) -> Response:
    pool = await read_pool(request)
    QueryParams(request, ())
    id_or_slug = request.path_params["id_or_slug"]
    # As fetch_organization() finds it, in the statement that shows it: by its id, or
    # else by its slug.
    try:
        key = Key("Organization", "id", decode_id(Kind.ORGANIZATION, id_or_slug), "uuid")
    except InvalidId:
        key = Key("Organization", "slug", id_or_slug, "text")
    body = None
    if NUL not in id_or_slug:
        shape = {"Organization": ORGANIZATION}
        body = await shown(pool, Field("organization", "organization", key, shape))
    if body is None:
        raise _unknown(id_or_slug)
    return json_bytes_answer(request, body)


def _page_endpoint(
    name: str,
    scope_of: Callable[[uuid.UUID], str],
    type_name: str,
    item: Selection,
    *,
    edges: bool = False,
) -> Callable[[Request], Awaitable[Response]]:
    """A page of the organization's connection `name`, each item shown as `item`."""

    async def endpoint(request: Request) -> Response:
        pool = await read_pool(request)
        params = QueryParams(request, ("limit", "cursor"))
        org_id = await _organization_id(pool, request)
        page = page_of(name, params.page(scope_of(org_id)), type_name, item, edges=edges)
        body = await shown(pool, page, Key("Organization", "id", org_id, "uuid"))
        assert body is not None  # just found
        return json_bytes_answer(request, body)

    return endpoint


routes = [
    Route("/organizations/{id_or_slug}", get_organization_endpoint, methods=["GET"]),
    Route(
        "/organizations/{id_or_slug}/rounds",
        _page_endpoint("rounds", company_rounds_scope, "Round", ROUND),
        methods=["GET"],
    ),
    Route(
        "/organizations/{id_or_slug}/investments",
        _page_endpoint("investments", investments_scope, "Participation", INVESTMENT),
        methods=["GET"],
    ),
    Route(
        "/organizations/{id_or_slug}/co-investors",
        _page_endpoint("coInvestors", co_investors_scope, "CoInvestor", CO_INVESTOR, edges=True),
        methods=["GET"],
    ),
]

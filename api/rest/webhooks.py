"""/v1/webhooks: endpoints managed by the key that owns them (admin keys see all), their
secrets, and their delivery log. Every route needs scope write."""

import datetime
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.guard.auth import principal_of
from api.guard.refusals import forbidden
from api.push import sender, signing
from api.push.events import EVENT_TYPES
from api.push.options import PushOptions
from api.rest.protocol import QueryParams, json_answer, list_body, problem
from api.rest.writes import Written, run_write
from api.state import pool_of
from db.access.principal import Principal, Scope
from db.infra.errors import BadInput, NotFound
from db.infra.ids import Kind, encode_id
from db.infra.storable import NUL
from db.infra.types import Connection, Executor
from db.organizations import fetch_investor_id, fetch_organization, list_organizations_by_ids
from db.webhooks import endpoints as db
from db.webhooks.ids import ENDPOINT, MESSAGE, decode, encode
from db.webhooks.queue import DELIVERIES_SCOPE, Delivery, list_deliveries, redeliver
from schema.enums import DealStatus, RoundType

_Ref = Annotated[str, Field(min_length=1, max_length=200)]
# Matches PushOptions' default: a redelivery is retried for as long as a new delivery.
_RETRY_WINDOW = PushOptions().retry_window
MAX_OVERLAP_SECONDS = 7 * 24 * 3600
M = TypeVar("M", bound=BaseModel)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*")
    @classmethod
    def _storable(cls, value: object) -> object:
        if isinstance(value, str) and NUL in value:
            raise ValueError("must not contain NUL characters")
        return value


class FilterBody(_Body):
    company: _Ref | None = None
    investor: _Ref | None = None
    round_type: RoundType | None = None
    status: DealStatus | None = None


def _check_url(url: str) -> str:
    try:
        sender.check_url(url)
    except sender.UnsafeTarget as e:
        raise ValueError(str(e)) from None
    return url


def _check_event(event: str) -> str:
    if event not in EVENT_TYPES:
        raise ValueError(f"unknown event {event!r}; known: {', '.join(EVENT_TYPES)}")
    return event


def _check_events(events: list[str]) -> list[str]:
    return sorted(set(events), key=EVENT_TYPES.index)


_Url = Annotated[str, Field(min_length=1, max_length=2000)]
# Each event checked on its own, so that a refusal names its place (`events.2`).
_Event = Annotated[str, AfterValidator(_check_event)]
_Events = Annotated[list[_Event], Field(min_length=1, max_length=len(EVENT_TYPES))]


class CreateBody(_Body):
    url: _Url
    events: _Events
    filter: FilterBody = FilterBody()

    _url = field_validator("url")(_check_url)
    _events = field_validator("events")(_check_events)


class UpdateBody(_Body):
    url: _Url | None = None
    events: _Events | None = None
    filter: FilterBody | None = None
    enabled: bool | None = None

    _url = field_validator("url")(_check_url)
    _events = field_validator("events")(_check_events)


class RotateBody(_Body):
    overlap_seconds: Annotated[int, Field(ge=0, le=MAX_OVERLAP_SECONDS)] = 24 * 3600


class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def _parse(model: type[M], raw: bytes) -> M:
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as e:
        errors = e.errors(include_url=False)
        where = ".".join(str(part) for part in errors[0]["loc"]) or "body"
        detail = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}" for err in errors
        )
        raise _Refused(problem(400, detail, parameter=where, code="BAD_USER_INPUT")) from None


async def _json_body(request: Request, *, optional: bool = False) -> bytes:
    raw = await request.body()
    if optional and not raw:
        return raw
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise _Refused(
            problem(415, f"send the body as application/json, not {content_type or 'nothing'}")
        )
    return raw


async def _filter(pool: Executor, body: FilterBody) -> db.EndpointFilter:
    """The filter with its organizations named by public id, whatever the body named them by."""
    company = None
    if body.company is not None:
        org = await fetch_organization(pool, body.company)
        if org is None:
            raise BadInput(
                f"filter.company: no organization has the id or slug {body.company!r}",
                field="filter.company",
            )
        company = encode_id(Kind.ORGANIZATION, org.id)
    investor = None
    if body.investor is not None:
        investor_id = await fetch_investor_id(pool, body.investor)
        if investor_id is None:
            raise BadInput(
                f"filter.investor: no organization or person has the id or slug {body.investor!r}",
                field="filter.investor",
            )
        [org] = await list_organizations_by_ids(pool, [investor_id])
        investor = encode_id(Kind.ORGANIZATION if org else Kind.PERSON, investor_id)
    return db.EndpointFilter(
        company=company,
        investor=investor,
        round_type=None if body.round_type is None else body.round_type.value,
        status=None if body.status is None else body.status.value,
    )


def _moment(value: datetime.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def endpoint_json(e: db.Endpoint) -> dict[str, Any]:
    return {
        "id": encode(ENDPOINT, e.id),
        "url": e.url,
        "events": e.events,
        "filter": {
            "company": e.filter.company,
            "investor": e.filter.investor,
            "round_type": e.filter.round_type,
            "status": e.filter.status,
        },
        "enabled": e.enabled,
        "disabled_reason": e.disabled_reason,
        "failing_since": _moment(e.failing_since),
        "previous_secret_expires_at": _moment(e.previous_secret_expires_at),
        "created_at": e.created_at.isoformat(),
        "updated_at": e.updated_at.isoformat(),
    }


def delivery_json(d: Delivery) -> dict[str, Any]:
    return {
        "id": encode(MESSAGE, d.id),
        "event_type": d.event_type,
        "status": d.status,
        "attempts": [
            {
                "at": a.at.isoformat(),
                "status_code": a.status_code,
                "latency_ms": round(a.latency_ms, 3),
                "error": a.error,
            }
            for a in d.attempts
        ],
        "next_attempt_at": _moment(d.next_attempt_at),
        "created_at": d.created_at.isoformat(),
        "delivered_at": _moment(d.delivered_at),
    }


def _owner(principal: Principal) -> Any:
    """Whose endpoints a key sees: its own, or everyone's for an admin key."""
    return None if principal.may(Scope.ADMIN) else principal.key_id


Handler = Callable[[Request, Principal], Awaitable[Response]]


def _guarded(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def guarded(request: Request) -> Response:
        principal = principal_of(request)
        if not principal.may(Scope.WRITE):
            return forbidden(Scope.WRITE, principal.scope).problem()
        try:
            return await handler(request, principal)
        except _Refused as refused:
            return refused.response

    return guarded


def _endpoint_id(request: Request) -> Any:
    public_id = request.path_params["id"]
    found = decode(ENDPOINT, public_id)
    if found is None:
        raise NotFound(f"id: {public_id!r} is not a webhook endpoint id", field="id")
    return found


def _not_found(request: Request) -> NotFound:
    return NotFound(
        f"no webhook endpoint of this key has the id {request.path_params['id']!r}", field="id"
    )


@_guarded
async def create_endpoint(request: Request, principal: Principal) -> Response:
    raw = await _json_body(request)
    body = _parse(CreateBody, raw)

    async def create(conn: Connection, api_key_id: uuid.UUID) -> Written:
        secret = signing.new_secret()
        created = await db.insert_endpoint(
            conn,
            api_key_id=api_key_id,
            url=body.url,
            events=body.events,
            filter=await _filter(conn, body.filter),
            secret=secret,
        )
        location = f"/v1/webhooks/{encode(ENDPOINT, created.id)}"
        return Written({**endpoint_json(created), "secret": secret}, True, location)

    # With an Idempotency-Key, a retry after a lost answer gets the endpoint (and the
    # secret) made the first time, not a second endpoint whose secret it never saw.
    return await run_write(request, raw, create)


@_guarded
async def list_endpoints(request: Request, principal: Principal) -> Response:
    page = QueryParams(request, ("limit", "cursor")).page(db.ENDPOINTS_SCOPE)
    found = await db.list_endpoints(pool_of(request), owner=_owner(principal), page=page)
    return json_answer(request, list_body([endpoint_json(e) for e in found.items], found))


@_guarded
async def get_endpoint(request: Request, principal: Principal) -> Response:
    QueryParams(request, ())
    found = await db.fetch_endpoint(
        pool_of(request), _endpoint_id(request), owner=_owner(principal)
    )
    if found is None:
        raise _not_found(request)
    return json_answer(request, endpoint_json(found))


@_guarded
async def update_endpoint(request: Request, principal: Principal) -> Response:
    endpoint_id = _endpoint_id(request)
    body = _parse(UpdateBody, await _json_body(request))
    pool = pool_of(request)
    changes = db.EndpointChanges(
        url=body.url,
        events=body.events,
        filter=None if body.filter is None else await _filter(pool, body.filter),
        enabled=body.enabled,
    )
    updated = await db.update_endpoint(pool, endpoint_id, owner=_owner(principal), changes=changes)
    if updated is None:
        raise _not_found(request)
    return json_answer(request, endpoint_json(updated))


@_guarded
async def delete_endpoint(request: Request, principal: Principal) -> Response:
    if not await db.delete_endpoint(
        pool_of(request), _endpoint_id(request), owner=_owner(principal)
    ):
        raise _not_found(request)
    return Response(status_code=204)


@_guarded
async def rotate_secret(request: Request, principal: Principal) -> Response:
    endpoint_id = _endpoint_id(request)
    body = _parse(RotateBody, await _json_body(request, optional=True))
    secret = signing.new_secret()
    rotated = await db.rotate_secret(
        pool_of(request),
        endpoint_id,
        owner=_owner(principal),
        secret=secret,
        overlap=datetime.timedelta(seconds=body.overlap_seconds),
    )
    if rotated is None:
        raise _not_found(request)
    return json_answer(request, {**endpoint_json(rotated), "secret": secret})


async def _owned(request: Request, principal: Principal) -> db.Endpoint:
    found = await db.fetch_endpoint(
        pool_of(request), _endpoint_id(request), owner=_owner(principal)
    )
    if found is None:
        raise _not_found(request)
    return found


@_guarded
async def deliveries(request: Request, principal: Principal) -> Response:
    # The query first: a bad one is named whatever the endpoint.
    page = QueryParams(request, ("limit", "cursor")).page(DELIVERIES_SCOPE)
    endpoint = await _owned(request, principal)
    found = await list_deliveries(pool_of(request), endpoint.id, page=page)
    return json_answer(request, list_body([delivery_json(d) for d in found.items], found))


@_guarded
async def redeliver_endpoint(request: Request, principal: Principal) -> Response:
    public_id = request.path_params["delivery_id"]
    delivery_id = decode(MESSAGE, public_id)
    if delivery_id is None:
        raise NotFound(f"delivery_id: {public_id!r} is not a delivery id", field="delivery_id")
    endpoint = await _owned(request, principal)
    if not await redeliver(pool_of(request), endpoint.id, delivery_id, retry_window=_RETRY_WINDOW):
        raise NotFound(
            f"delivery_id: this endpoint has no delivery {public_id!r}", field="delivery_id"
        )
    response = json_answer(request, {"id": public_id, "status": "pending"})
    response.status_code = 202
    return response


def _by_method(
    handlers: dict[str, Callable[[Request], Awaitable[Response]]],
) -> Callable[[Request], Awaitable[Response]]:
    """One route per path, so that a 405's Allow header names all of its methods."""

    async def dispatch(request: Request) -> Response:
        # Starlette answers HEAD with the GET handler, as it does for any GET route.
        return await handlers["GET" if request.method == "HEAD" else request.method](request)

    return dispatch


routes = [
    Route(
        "/webhooks",
        _by_method({"GET": list_endpoints, "POST": create_endpoint}),
        methods=["GET", "POST"],
    ),
    Route(
        "/webhooks/{id}",
        _by_method({"GET": get_endpoint, "PATCH": update_endpoint, "DELETE": delete_endpoint}),
        methods=["GET", "PATCH", "DELETE"],
    ),
    Route("/webhooks/{id}/rotate-secret", rotate_secret, methods=["POST"]),
    Route("/webhooks/{id}/deliveries", deliveries, methods=["GET"]),
    Route(
        "/webhooks/{id}/deliveries/{delivery_id}/redeliver",
        redeliver_endpoint,
        methods=["POST"],
    ),
]

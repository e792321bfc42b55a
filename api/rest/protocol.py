"""What every REST route shares: strict query parameters, problem+json errors, and
JSON answers with a strong ETag and conditional 304s."""

import datetime
import decimal
import hashlib
import re
import urllib.parse
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any, TypeVar

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from db.infra.errors import BadInput, DealgraphError, NotFound
from db.infra.pagination import MAX_PAGE_SIZE, Page, PageRequest, page_request
from db.infra.storable import NUL, check_moment

PROBLEM_JSON = "application/problem+json"
# Answers are for the key that asked: private caches only, and revalidate each time.
CACHE_CONTROL = "private, no-cache"

_STATUS_BY_CODE = {BadInput.code: 400, NotFound.code: 404}
_TITLES = {
    400: "Invalid parameter",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    408: "Request timeout",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    429: "Too many requests",
    503: "Service unavailable",
}
_TYPES = {400: "/problems/invalid-parameter", 404: "/problems/not-found"}

E = TypeVar("E", bound=Enum)


def problem(
    status: int,
    detail: str,
    *,
    parameter: str | None = None,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": _TYPES.get(status, "about:blank"),
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if parameter is not None:
        body["parameter"] = parameter
    if code is not None:
        body["code"] = code
    return Response(orjson.dumps(body), status, headers=headers, media_type=PROBLEM_JSON)


async def dealgraph_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DealgraphError)
    status = _STATUS_BY_CODE.get(exc.code, 400)
    return problem(status, exc.message, parameter=exc.field, code=exc.code)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return problem(exc.status_code, exc.detail, headers=exc.headers)


def _check_utf8(query_string: bytes) -> None:
    """Refuse a value that is not UTF-8 once percent-decoded: Starlette would hand it on
    with U+FFFD in place of the bytes, and the answer would be about a value never sent."""
    for pair in query_string.split(b"&"):
        name, _, value = pair.partition(b"=")
        try:
            urllib.parse.unquote_to_bytes(value.replace(b"+", b" ")).decode()
        except UnicodeDecodeError:
            where = urllib.parse.unquote_plus(name.decode("ascii", errors="replace"))
            raise BadInput(f"{where}: is not UTF-8 once percent-decoded", field=where) from None


class QueryParams:
    """The query string, refusing names the route does not know and repeated names."""

    def __init__(self, request: Request, allowed: Iterable[str]) -> None:
        allowed = set(allowed)
        items = request.query_params.multi_items()
        for name, _ in items:
            if name not in allowed:
                known = ", ".join(sorted(allowed)) or "none"
                raise BadInput(
                    f"{name}: unknown query parameter (this route takes: {known})", field=name
                )
        self.values: dict[str, str] = {}
        for name, value in items:
            if name in self.values:
                raise BadInput(f"{name}: given more than once", field=name)
            if NUL in value:
                raise BadInput(f"{name}: must not contain NUL characters", field=name)
            self.values[name] = value
        _check_utf8(request.scope.get("query_string", b""))

    def text(self, name: str, *, max_length: int = 200) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        if not value or len(value) > max_length:
            raise BadInput(f"{name}: must have 1 to {max_length} characters", field=name)
        return value

    def enums(self, name: str, enum: type[E]) -> list[E] | None:
        value = self.values.get(name)
        if value is None:
            return None
        chosen = []
        for part in value.split(","):
            try:
                chosen.append(enum(part))
            except ValueError:
                options = ", ".join(e.value for e in enum)
                raise BadInput(f"{name}: {part!r} is not one of {options}", field=name) from None
        return chosen

    def date(self, name: str) -> datetime.date | None:
        value = self.values.get(name)
        if value is None:
            return None
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            raise BadInput(f"{name}: {value!r} is not a date (YYYY-MM-DD)", field=name) from None

    def moment(self, name: str) -> datetime.datetime | None:
        value = self.values.get(name)
        if value is None:
            return None
        try:
            moment = datetime.datetime.fromisoformat(value)
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise BadInput(
                f"{name}: {value!r} is not a time with a zone, such as 2026-01-30T12:00:00Z",
                field=name,
            )
        try:
            check_moment(moment)
        except ValueError as e:
            raise BadInput(f"{name}: {e}", field=name) from None
        return moment

    def decimal(self, name: str) -> decimal.Decimal | None:
        value = self.values.get(name)
        if value is None:
            return None
        if not re.fullmatch(r"[0-9]{1,20}(\.[0-9]{1,6})?", value):
            raise BadInput(
                f"{name}: {value!r} is not a non-negative decimal such as 1000000", field=name
            )
        return decimal.Decimal(value)

    def limit(self) -> int:
        value = self.values.get("limit")
        if value is None:
            return 20
        # ASCII digits only: str.isdigit() also takes "²", which int() refuses.
        if not re.fullmatch(r"[0-9]{1,3}", value) or not 1 <= int(value) <= MAX_PAGE_SIZE:
            raise BadInput(
                f"limit: must be a whole number from 1 to {MAX_PAGE_SIZE}, got {value!r}",
                field="limit",
            )
        return int(value)

    def page(self, scope: str) -> PageRequest:
        """The page that `limit` and `cursor` ask for, in a list of this scope."""
        return page_request(
            scope,
            first=self.limit(),
            after=self.text("cursor", max_length=500),
            cursor_field="cursor",
        )

    def choice(self, name: str, options: Iterable[str], default: str) -> str:
        value = self.values.get(name, default)
        options = list(options)
        if value not in options:
            raise BadInput(f"{name}: {value!r} is not one of {', '.join(options)}", field=name)
        return value


def _etag_matches(header: str | None, etag: str) -> bool:
    if header is None:
        return False
    # If-None-Match compares weakly: a W/ prefix does not stop a match.
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


def _accepts_json(accept: str | None) -> bool:
    if not accept:
        return True
    types = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    return any(t in ("application/json", "application/*", "*/*") for t in types)


def list_body(data: list[Any], page: Page[Any]) -> dict[str, Any]:
    """A list answer: the items, and the cursor of the next page (None on the last)."""
    return {"data": data, "next_cursor": page.cursors[-1] if page.has_next else None}


def json_answer(request: Request, payload: Any) -> Response:
    return json_bytes_answer(request, orjson.dumps(payload))


def json_bytes_answer(request: Request, body: bytes) -> Response:
    """An answer whose JSON is already bytes (built by the database, for one)."""
    if not _accepts_json(request.headers.get("accept")):
        return problem(406, "this API answers application/json")
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "Vary": "Authorization, Accept"}
    if _etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, headers=headers, media_type="application/json")

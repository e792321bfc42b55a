"""Keyset pagination shared by every list, in GraphQL and REST alike.

A cursor carries the sort key and id of one row plus a fingerprint of the ordering
and filter it was made under, so a cursor from another list is refused rather than
silently giving a wrong page. It is signed (HMAC-SHA256 with the database's cursor key,
migration 0020), so that a sort key reaching SQL is always one the server made: a
changed cursor is refused as a whole, never cast and failed on in the database.
"""

import base64
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from typing import Generic, TypeVar

import orjson

from db.infra.errors import BadInput
from db.infra.types import Executor

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Keyset:
    sort_key: str
    id: uuid.UUID


@dataclass(frozen=True, slots=True)
class PageRequest:
    size: int
    backward: bool
    cursor: Keyset | None
    # The fingerprint the cursor was made under, when the scope it must match is known
    # only later (a page under each of many objects, compared in SQL).
    made_under: str | None = None

    @property
    def fetch_limit(self) -> int:
        # One row more than asked tells whether another page follows.
        return self.size + 1

    @property
    def cursor_args(self) -> tuple[str | None, uuid.UUID | None]:
        if self.cursor is None:
            return None, None
        return self.cursor.sort_key, self.cursor.id

    def order_sql(self, *, descending: bool) -> tuple[str, str]:
        """SQL direction and keyset comparison for a list whose own order is as given."""
        # A backward page walks the list the other way, then build_page reverses it.
        if descending != self.backward:
            return "desc", "<"
        return "asc", ">"


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    cursors: list[str]
    has_next: bool
    has_previous: bool


def fingerprint(scope: str) -> str:
    return hashlib.sha256(scope.encode()).hexdigest()[:12]


class _CursorKey:
    # A key of this process's own until load_cursor_key() reads the database's: cursors
    # made before then are good in this process only (tests of db/ without an app).
    secret: bytes = secrets.token_bytes(32)
    # How many times a key was read: what was checked under an older key is checked again.
    generation: int = 0


async def load_cursor_key(db: Executor) -> None:
    """Sign and check cursors with the database's key from now on (at the app's start)."""
    secret = await db.fetchval("select secret from cursor_key")
    if not isinstance(secret, bytes):
        raise LookupError("the database has no cursor key: run `dealgraph migrate`")
    _CursorKey.secret = secret
    _CursorKey.generation += 1


def cursor_key_generation() -> int:
    """Changes whenever cursors start being signed with another key."""
    return _CursorKey.generation


def _signature(made_under: str, sort_key: str, id_hex: str) -> str:
    # The SQL function cursor_signature() (migration 0020) computes the same.
    message = f"{made_under}:{id_hex}:{sort_key}".encode()
    return hmac.new(_CursorKey.secret, message, hashlib.sha256).hexdigest()[:32]


def encode_cursor(scope: str, keyset: Keyset) -> str:
    made_under, id_hex = fingerprint(scope), keyset.id.hex
    signature = _signature(made_under, keyset.sort_key, id_hex)
    raw = orjson.dumps([made_under, keyset.sort_key, id_hex, signature])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(scope: str, cursor: str, *, field: str) -> Keyset:
    made_under, keyset = read_cursor(cursor, field=field)
    if made_under != fingerprint(scope):
        raise another_scope(field)
    return keyset


def another_scope(field: str) -> BadInput:
    return BadInput(
        f"{field}: this cursor was made for another ordering or filter; start again without it",
        field=field,
    )


def read_cursor(cursor: str, *, field: str) -> tuple[str, Keyset]:
    """A cursor's fingerprint and keyset, once its signature is checked."""
    invalid = BadInput(
        f"{field}: {cursor[:200]!r} is not a valid cursor: pass one exactly as a page "
        "gave it, or start again without it",
        field=field,
    )
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        made_under, sort_key, id_hex, signature = orjson.loads(raw)
        if not all(isinstance(p, str) for p in (made_under, sort_key, id_hex, signature)):
            raise TypeError
        keyset = Keyset(sort_key, uuid.UUID(hex=id_hex))
        # compare_digest raises TypeError for a signature that is not ASCII.
        if not hmac.compare_digest(signature, _signature(made_under, sort_key, id_hex)):
            raise ValueError
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise invalid from None
    return made_under, keyset


def page_request(
    scope: str | None,
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    cursor_field: str | None = None,
) -> PageRequest:
    """Check Relay-style arguments and turn them into one direction and size.

    `cursor_field` names the cursor in errors where the caller calls it otherwise. Without
    a scope, the cursor's fingerprint is left in `made_under` for the caller to compare.
    """
    if first is not None and last is not None:
        raise BadInput("pass either first or last, not both", field="last")
    if after is not None and before is not None:
        raise BadInput("pass either after or before, not both", field="before")
    if last is not None and after is not None:
        raise BadInput("last goes with before, not after", field="after")
    if first is not None and before is not None:
        raise BadInput("first goes with after, not before", field="before")
    for name, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= MAX_PAGE_SIZE:
            raise BadInput(f"{name} must be between 0 and {MAX_PAGE_SIZE}, got {value}", field=name)
    backward = last is not None or before is not None
    requested = last if backward else first
    size = DEFAULT_PAGE_SIZE if requested is None else requested
    cursor_text, field = (before, "before") if backward else (after, "after")
    if cursor_text is None:
        return PageRequest(size=size, backward=backward, cursor=None)
    if scope is None:
        made_under, cursor = read_cursor(cursor_text, field=cursor_field or field)
        return PageRequest(size, backward, cursor, made_under)
    return PageRequest(
        size, backward, decode_cursor(scope, cursor_text, field=cursor_field or field)
    )


def build_page(
    scope: str,
    request: PageRequest,
    rows: list[tuple[T, Keyset]],
) -> Page[T]:
    """Trim the extra row and restore forward order for a backward page."""
    more = len(rows) > request.size
    rows = rows[: request.size]
    if request.backward:
        rows.reverse()
    items = [item for item, _ in rows]
    cursors = [encode_cursor(scope, keyset) for _, keyset in rows]
    came_from_cursor = request.cursor is not None
    return Page(
        items=items,
        cursors=cursors,
        has_next=came_from_cursor if request.backward else more,
        has_previous=more if request.backward else came_from_cursor,
    )

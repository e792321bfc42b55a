"""The hostile-input corpus, a raw HTTP client to send it, and a checksum of stored data.

Every value goes to every parameter the tests find: SQL meta-characters, NUL, huge
strings, invalid UTF-8, JSON nested 10,000 deep, NaN and infinities, out-of-range dates
and times, negative and enormous numbers.
"""

import asyncio
import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg

MEGABYTE = 1_000_000
DEEP = 10_000

# For a query, path or header parameter: the bytes of the value, percent-encoded when sent
# in a URL. "raw-invalid-utf8" alone goes into the URL as it is, not encoded.
URL_VALUES: dict[str, bytes] = {
    "sql-or": b"' OR 1=1 --",
    "sql-drop": b'"; drop table rounds; --',
    "nul": b"\x00",
    "huge-1mb": b"x" * MEGABYTE,
    "invalid-utf8": b"\xff\xfe\xfd",
    "raw-invalid-utf8": b"\xff\xfe\xfd",
    "utf8-surrogate": b"\xed\xa0\x80",
    "deep-json": b"[" * DEEP + b"]" * DEEP,
    "nan": b"NaN",
    "infinity": b"Infinity",
    "-infinity": b"-Infinity",
    "-0": b"-0",
    "1e309": b"1e309",
    "-1": b"-1",
    "1e30": b"1e30",
    "enormous": b"99999999999999999999999",
    "year-0": b"0000-01-01",
    "year-10000": b"10000-01-01",
    "feb-30": b"2026-02-30",
    "utc-before-year-1": b"0001-01-01T00:00:00+01:00",
    "utc-after-year-9999": b"9999-12-31T23:59:59-01:00",
    "empty": b"",
}


def _string(text: str) -> bytes:
    return json.dumps(text).encode()


# For a JSON field or GraphQL variable: the JSON text that takes the value's place.
JSON_VALUES: dict[str, bytes] = {
    "sql-or": _string("' OR 1=1 --"),
    "sql-drop": _string('"; drop table rounds; --'),
    "nul": _string("\x00"),
    "nul-inside": _string("a\x00b"),
    # Over every field's length limit, under the 100 kB body limit: the field must say so.
    # A 1 MB value is sent once per operation (see huge_body), as the body limit answers it.
    "huge-60kb": _string("x" * 60_000),
    "invalid-utf8": b'"\xff\xfe\xfd"',
    "lone-surrogate": b'"\\ud800"',
    "deep-array": b"[" * DEEP + b"]" * DEEP,
    "deep-object": b'{"a":' * DEEP + b"1" + b"}" * DEEP,
    "nan": b"NaN",
    "infinity": b"Infinity",
    "-infinity": b"-Infinity",
    "-0": b"-0",
    "1e309": b"1e309",
    "-1": b"-1",
    "1e30": b"1e30",
    "enormous": b"99999999999999999999999",
    "nan-string": _string("NaN"),
    "infinity-string": _string("Infinity"),
    "-1-string": _string("-1"),
    "1e30-string": _string("1e30"),
    "enormous-string": _string("99999999999999999999999"),
    "huge-exponent-string": _string("1e1000000"),
    "year-0": _string("0000-01-01"),
    "year-10000": _string("10000-01-01"),
    "feb-30": _string("2026-02-30"),
    "utc-before-year-1": _string("0001-01-01T00:00:00+01:00"),
    "utc-after-year-9999": _string("9999-12-31T23:59:59-01:00"),
}

JsonPath = tuple[str | int, ...]
_HOLE = "\x01hostile\x01"


def leaf_paths(value: Any, path: JsonPath = ()) -> Iterator[JsonPath]:
    """Every member and element of a JSON value, containers included, outermost first."""
    items: list[tuple[str | int, Any]] = []
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    for key, item in items:
        yield (*path, key)
        yield from leaf_paths(item, (*path, key))


def with_hostile(document: Any, path: JsonPath, hostile: bytes) -> bytes:
    """The JSON text of `document` with `hostile` at `path` (in place of a value, or added
    to an object without it)."""
    # Through JSON, not deepcopy: a dict used twice in `document` must become two.
    changed = json.loads(json.dumps(document))
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = _HOLE
    return json.dumps(changed).encode().replace(_string(_HOLE), hostile)


def dotted(path: JsonPath) -> str:
    return ".".join(str(part) for part in path)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


async def send(port: int, request: bytes) -> Answer:
    """One HTTP/1.1 request as given (`Connection: close`), and its answer.

    The server may answer before it has read all of a huge request and then close the
    connection: the request is written while the answer is read, and an answer that came
    before the connection was reset counts.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def push() -> None:
        with contextlib.suppress(ConnectionError):
            writer.write(request)
            await writer.drain()

    pushing = asyncio.create_task(push())
    received = b""
    try:
        async with asyncio.timeout(30):
            while chunk := await reader.read(65536):
                received += chunk
    except ConnectionError:
        pass
    finally:
        await pushing
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 "), f"no HTTP answer: {received[:200]!r}"
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Answer(int(lines[0].split()[1]), headers, body)


def request(
    method: str,
    target: bytes,
    *,
    key: str,
    headers: dict[str, bytes] | None = None,
    body: bytes | None = None,
    accept: str = "application/json",
) -> bytes:
    lines = [
        method.encode() + b" " + target + b" HTTP/1.1",
        b"Host: 127.0.0.1",
        b"Connection: close",
        b"Accept: " + accept.encode(),
        b"Authorization: Bearer " + key.encode(),
    ]
    lines += [name.encode() + b": " + value for name, value in (headers or {}).items()]
    if body is not None:
        lines += [b"Content-Type: application/json", b"Content-Length: %d" % len(body)]
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")


# Everything a client's request could change; keys, rate limits and migrations left out.
_STORED = (
    "organizations",
    "organization_aliases",
    "people",
    "person_roles",
    "rounds",
    "participations",
    "claims",
    "sources",
    "status_events",
    "round_negotiators",
    "changes",
    "idempotent_requests",
)


async def stored_data(db_url: str) -> dict[str, str]:
    """A digest of every table a request could write, by table."""
    conn = await asyncpg.connect(db_url)
    try:
        return {
            table: await conn.fetchval(
                f"select md5(coalesce(string_agg(t::text, '|' order by t::text), ''))"
                f" from {table} t"
            )
            for table in _STORED
        }
    finally:
        await conn.close()

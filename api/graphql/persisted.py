"""Automatic persisted queries (Apollo's protocol): a client may send a document's
SHA-256 in place of the document, once the server has seen the document with it, so a
query fits in a GET URL and HTTP caches can hold its answers.

Documents are remembered per process, the most recently used first; a process that has
not seen a hash answers PersistedQueryNotFound, and the client sends the document again.
A document is remembered only once it has parsed, validated and run (`remember`), so
junk sent with hashes neither fills the memory nor evicts real entries.
"""

import hashlib
import re
from collections import OrderedDict
from typing import Any

MAX_REMEMBERED = 1_000

_remembered: OrderedDict[str, str] = OrderedDict()
_HASH = re.compile(r"^[0-9a-f]{64}$")


class PersistedQueryError(Exception):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def resolve(extensions: Any, query: str | None) -> tuple[str | None, str | None]:
    """The document to run: `query`, or the one remembered for the hash in `extensions`;
    and the hash to `remember` the document by once it has run, if any.

    Raises PersistedQueryError for a malformed or unknown hash, or a hash that is not the
    query's.
    """
    if not isinstance(extensions, dict) or "persistedQuery" not in extensions:
        return query, None
    persisted = extensions["persistedQuery"]
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise PersistedQueryError(
            "extensions.persistedQuery must be {version: 1, sha256Hash: ...}",
            "PERSISTED_QUERY_NOT_SUPPORTED",
        )
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or not _HASH.match(digest):
        raise PersistedQueryError(
            "extensions.persistedQuery.sha256Hash must be 64 lower-case hex digits",
            "BAD_REQUEST",
        )
    if query is None:
        found = _remembered.get(digest)
        if found is None:
            # The message is what Apollo's clients look for to send the document again.
            raise PersistedQueryError("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")
        _remembered.move_to_end(digest)
        return found, None
    if hashlib.sha256(query.encode()).hexdigest() != digest:
        raise PersistedQueryError(
            "extensions.persistedQuery.sha256Hash is not the SHA-256 of the query",
            "BAD_REQUEST",
        )
    return query, digest


def remember(digest: str, query: str) -> None:
    """Keep a document that parsed, validated and ran, by its hash."""
    _remembered[digest] = query
    _remembered.move_to_end(digest)
    while len(_remembered) > MAX_REMEMBERED:
        _remembered.popitem(last=False)

"""A function of a parsed document, computed once per document object.

`schema/limits.py` parses each distinct query text once and hands back the same
DocumentNode for the same text, so a result can be kept by the document's identity.
functools.lru_cache keys by hash instead, and graphql-core hashes a node by hashing its
whole tree: two such lookups a request walked every node of its document twice (about 4%
of a screen request's time, profiled).
"""

from collections.abc import Callable
from typing import TypeVar

from graphql import DocumentNode

T = TypeVar("T")
# As many as the parsed documents kept (schema/limits.py): past that, start again.
_SIZE = 512


def per_document(compute: Callable[[DocumentNode], T]) -> Callable[[DocumentNode], T]:
    # The document is kept with its result, so its id cannot be reused while cached.
    cache: dict[int, tuple[DocumentNode, T]] = {}

    def cached(document: DocumentNode) -> T:
        found = cache.get(id(document))
        if found is not None and found[0] is document:
            return found[1]
        value = compute(document)
        if len(cache) >= _SIZE:
            cache.clear()
        cache[id(document)] = (document, value)
        return value

    return cached

"""Batch queries answered in the order of the keys asked for (the DataLoader contract)."""

from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import TypeVar

from db.infra.pagination import Page, PageRequest

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def one_per_key(keys: list[K], pairs: Iterable[tuple[K, V]]) -> list[V | None]:
    found = dict(pairs)
    return [found.get(k) for k in keys]


def many_per_key(keys: list[K], pairs: Iterable[tuple[K, V]]) -> list[list[V]]:
    grouped: defaultdict[K, list[V]] = defaultdict(list)
    for key, value in pairs:
        grouped[key].append(value)
    return [grouped[k] for k in keys]


async def pages_per_parent(
    keys: list[tuple[K, PageRequest]],
    fetch: Callable[[list[K], PageRequest], Awaitable[list[Page[V]]]],
) -> list[Page[V]]:
    """Load one page of children for each parent, one query per distinct page request.

    First pages, the common case, all share one request and so one query.
    """
    parents_by_request: defaultdict[PageRequest, list[K]] = defaultdict(list)
    for parent, request in keys:
        parents_by_request[request].append(parent)
    found: dict[tuple[K, PageRequest], Page[V]] = {}
    for request, parents in parents_by_request.items():
        pages = await fetch(parents, request)
        found.update(zip(((p, request) for p in parents), pages, strict=True))
    return [found[key] for key in keys]

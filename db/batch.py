"""Arrange batch query results in the order of the keys asked for (DataLoader contract)."""

from collections import defaultdict
from collections.abc import Hashable, Iterable
from typing import TypeVar

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

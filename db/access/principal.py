"""Who is asking: the API key behind a request, and what its scope allows.

It lives in db/ because both faces pass it down, and the write path records its key id
with every write (the `api_key_id` columns).
"""

import enum
import uuid
from dataclasses import dataclass


class Scope(enum.StrEnum):
    """Levels, not sets: each allows everything the ones before it allow."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"

    @property
    def level(self) -> int:
        return list(Scope).index(self)

    def allows(self, needed: "Scope") -> bool:
        return self.level >= needed.level


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: uuid.UUID
    key_name: str
    scope: Scope

    def may(self, needed: Scope) -> bool:
        return self.scope.allows(needed)

"""Public ids: the same opaque strings in GraphQL and REST.

An id is a short kind prefix and the row's UUID ("rnd_0f3c…"), so that `node(id)` can
tell which table to read without a lookup, and a round id passed where an
organization is expected is refused rather than silently not found.
"""

import enum
import uuid


class Kind(enum.Enum):
    ORGANIZATION = "org"
    PERSON = "per"
    ROUND = "rnd"
    PARTICIPATION = "par"
    SOURCE = "src"
    CLAIM = "clm"
    ACQUISITION = "acq"


class InvalidId(ValueError):
    """A string that is not a dealgraph id, or an id of another kind than expected."""


def encode_id(kind: Kind, value: uuid.UUID) -> str:
    return f"{kind.value}_{value.hex}"


def decode_any_id(public_id: str) -> tuple[Kind, uuid.UUID]:
    prefix, sep, hex_part = public_id.partition("_")
    try:
        kind = Kind(prefix)
        if not sep or len(hex_part) != 32:
            raise ValueError
        return kind, uuid.UUID(hex=hex_part)
    except ValueError:
        raise InvalidId(f"{public_id!r} is not a dealgraph id") from None


def decode_id(kind: Kind, public_id: str) -> uuid.UUID:
    actual, value = decode_any_id(public_id)
    if actual is not kind:
        raise InvalidId(
            f"{public_id!r} is the id of a {actual.name.lower()}, not of a {kind.name.lower()}"
        )
    return value

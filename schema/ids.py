"""Decoding ids from arguments, with the argument named in the error."""

import uuid

from db.infra.errors import BadInput
from db.infra.ids import InvalidId, Kind, decode_any_id, decode_id


def id_argument(kind: Kind, public_id: str, field: str) -> uuid.UUID:
    try:
        return decode_id(kind, public_id)
    except InvalidId as e:
        raise BadInput(f"{field}: {e}", field=field) from None


def any_id_argument(public_id: str, field: str) -> tuple[Kind, uuid.UUID]:
    try:
        return decode_any_id(public_id)
    except InvalidId as e:
        raise BadInput(f"{field}: {e}", field=field) from None

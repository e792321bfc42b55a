"""Public ids of webhook endpoints ("wh_…") and deliveries ("msg_…", also the
`webhook-id` header of Standard Webhooks). Not GraphQL nodes, so not in db.infra.ids."""

import uuid

ENDPOINT = "wh"
MESSAGE = "msg"


def encode(prefix: str, value: uuid.UUID) -> str:
    return f"{prefix}_{value.hex}"


def decode(prefix: str, public_id: str) -> uuid.UUID | None:
    """The UUID of a well-formed id with this prefix; None for anything else."""
    given, sep, hex_part = public_id.partition("_")
    if given != prefix or not sep or len(hex_part) != 32:
        return None
    try:
        return uuid.UUID(hex=hex_part)
    except ValueError:
        return None

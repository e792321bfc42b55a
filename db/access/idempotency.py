"""Idempotency keys for REST writes (migration 0006)."""

import uuid
from dataclasses import dataclass

from db.infra.types import Connection


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    request_hash: bytes
    status: int
    body: bytes
    # Where the first answer said the created object is; None when it created nothing.
    location: str | None


async def claim_key(
    conn: Connection, *, api_key_id: uuid.UUID, key: str, request_hash: bytes
) -> StoredAnswer | None:
    """Take the key for this transaction's write; or, if an earlier request holds it,
    its answer. A concurrent request with the same key waits here until the first one
    commits (then gets its answer) or rolls back (then takes the key itself)."""
    taken = await conn.fetchval(
        """
        insert into idempotent_requests (api_key_id, idempotency_key, request_hash)
        values ($1, $2, $3)
        on conflict do nothing
        returning true
        """,
        api_key_id,
        key,
        request_hash,
    )
    if taken:
        return None
    row = await conn.fetchrow(
        """
        select request_hash, status, response, location from idempotent_requests
        where api_key_id = $1 and idempotency_key = $2
        """,
        api_key_id,
        key,
    )
    # The holder committed (we waited for it) and stored its answer in that transaction.
    assert row is not None
    assert row["status"] is not None
    return StoredAnswer(
        bytes(row["request_hash"]), row["status"], bytes(row["response"]), row["location"]
    )


async def store_answer(
    conn: Connection,
    *,
    api_key_id: uuid.UUID,
    key: str,
    status: int,
    body: bytes,
    location: str | None,
) -> None:
    await conn.execute(
        """
        update idempotent_requests set status = $3, response = $4, location = $5
        where api_key_id = $1 and idempotency_key = $2
        """,
        api_key_id,
        key,
        status,
        body,
        location,
    )

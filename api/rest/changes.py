"""GET /v1/changes: the feed a partner follows to keep a mirror."""

import uuid
from typing import get_args

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.rest.protocol import QueryParams, json_answer
from api.rest.views import JSON, Entity, feed_states
from api.state import pool_of
from db.changes import START, Change, FeedPosition, list_changes
from db.infra.errors import BadInput
from db.infra.types import Pool

# The feed's entity names (the check constraint on changes.entity) are the views'.
_ENTITIES: dict[str, Entity] = {name: name for name in get_args(Entity)}


async def list_changes_endpoint(request: Request) -> Response:
    # `cursor` as on every list; `after`, its first name, still works (deprecated).
    params = QueryParams(request, ("cursor", "after", "limit"))
    cursor, after = params.text("cursor"), params.text("after")
    if cursor is not None and after is not None:
        raise BadInput("give `cursor` or its deprecated name `after`, not both", field="after")
    field, given = ("after", after) if after is not None else ("cursor", cursor)
    position = START if given is None else FeedPosition.decode(given, field=field)
    # The primary, never the replica. On a hot standby pg_current_snapshot() lists no
    # running transaction (a standby's snapshot keeps them among the subtransactions, which
    # it leaves out), so feed_horizon() there would pass a transaction still running on the
    # primary: its entries, committed later, would sort behind cursors already handed out
    # and be skipped (tests/api/test_replica.py shows it).
    pool = pool_of(request)
    page = await list_changes(pool, after=position, limit=params.limit())
    states = await _states(pool, page.changes)
    return json_answer(
        request,
        {
            "data": [
                {
                    "entity": c.entity,
                    "entity_id": c.entity_id,
                    "operation": c.operation,
                    "at": c.at.isoformat(),
                    "state": state,
                }
                for c, state in zip(page.changes, states, strict=True)
            ],
            "next_cursor": page.next_position.encode(),
            "has_more": page.has_more,
        },
    )


async def _states(pool: Pool, changes: list[Change]) -> list[JSON | None]:
    """Each entry's entity as its route shows it now (one statement for the page); None
    after a delete, and for an entity deleted since (a later entry says so)."""
    wanted: dict[Entity, set[uuid.UUID]] = {}
    for c in changes:
        if c.operation != "delete":
            wanted.setdefault(_ENTITIES[c.entity], set()).add(c.row_id)
    ordered = {entity: sorted(ids) for entity, ids in wanted.items()}
    states = await feed_states(pool, ordered)
    shown: dict[tuple[str, uuid.UUID], JSON | None] = {}
    for entity, ids in ordered.items():
        shown.update(((entity, i), a) for i, a in zip(ids, states[entity], strict=True))
    return [shown.get((c.entity, c.row_id)) for c in changes]


routes = [Route("/changes", list_changes_endpoint, methods=["GET"])]

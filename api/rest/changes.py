"""GET /v1/changes: the feed a partner follows to keep a mirror."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.rest.protocol import QueryParams, json_answer
from api.rest.representations import states_json
from api.state import pool_of
from db.changes import START, FeedPosition, list_changes
from db.infra.errors import BadInput


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
    states = await states_json(pool, [c.state for c in page.changes])
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


routes = [Route("/changes", list_changes_endpoint, methods=["GET"])]

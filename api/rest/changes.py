"""GET /v1/changes: the feed a partner follows to keep a mirror."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.rest.protocol import QueryParams, json_answer
from api.state import pool_of
from db.changes import START, FeedPosition, list_changes


async def list_changes_endpoint(request: Request) -> Response:
    params = QueryParams(request, ("after", "limit"))
    after = params.text("after")
    position = START if after is None else FeedPosition.decode(after, field="after")
    # The primary, never the replica. On a hot standby pg_current_snapshot() lists no
    # running transaction (a standby's snapshot keeps them among the subtransactions, which
    # it leaves out), so feed_horizon() there would pass a transaction still running on the
    # primary: its entries, committed later, would sort behind cursors already handed out
    # and be skipped (tests/api/test_replica.py shows it).
    page = await list_changes(pool_of(request), after=position, limit=params.limit())
    return json_answer(
        request,
        {
            "data": [
                {
                    "entity": c.entity,
                    "entity_id": c.entity_id,
                    "operation": c.operation,
                    "at": c.at.isoformat(),
                    "state": c.state,
                }
                for c in page.changes
            ],
            "next_cursor": page.next_position.encode(),
            "has_more": page.has_more,
        },
    )


routes = [Route("/changes", list_changes_endpoint, methods=["GET"])]

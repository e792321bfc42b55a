"""The REST views (api/rest/views.py), answered by the compiler, on the demo set and the
CrunchBase fixture: a page says how many objects it holds, webhook events and the change
feed carry what the routes show, and a view as of a time shows what was known then.

(Until the Python renderers were deleted, this module held every view to their bytes:
every round, organization and acquisition, now and as of the moments their claims were
recorded, their pages cursor after cursor, the figures, the feed and the events.)
"""

import datetime
import json
import uuid
from pathlib import Path

import orjson
import pytest

from api.guard.answer_size import objects_in
from api.rest.views import (
    ACQUISITION,
    ROUND,
    acquisition_detail,
    event_states,
    feed_states,
    page_of,
    round_detail,
    shown_page,
)
from db.acquisitions import AcquisitionFilter, AcquisitionOrder, acquisitions_scope
from db.imports.crunchbase import import_crunchbase
from db.infra.ids import Kind, encode_id
from db.infra.pagination import load_cursor_key, page_request
from db.infra.types import Pool
from db.json.acquisitions import AcquisitionsArgs
from db.json.sources import RoundsArgs
from db.rounds import RoundFilter, RoundOrder, rounds_scope
from db.seed import seed

FIXTURES = Path(__file__).parent.parent / "fixtures" / "crunchbase"


@pytest.fixture(scope="module", autouse=True)
async def data(pool: Pool) -> None:
    async with pool.acquire() as conn:
        await seed(conn)
        await import_crunchbase(conn, FIXTURES)
    await load_cursor_key(pool)


async def _ids(pool: Pool, table: str) -> list[uuid.UUID]:
    return [r["id"] for r in await pool.fetch(f"select id from {table} order by id")]


async def _moments(pool: Pool) -> list[datetime.datetime | None]:
    """Now, before anything was recorded, and moments claims were recorded at."""
    recorded = sorted(
        r["at"] for r in await pool.fetch("select distinct recorded_at as at from claims")
    )
    return [
        None,
        recorded[0] - datetime.timedelta(seconds=1),
        *recorded[:: max(1, len(recorded) // 6)],
    ]


@pytest.mark.parametrize("size", [3, 50])
async def test_a_page_of_rounds_counts_what_it_holds_and_pages_through_all(
    pool: Pool, size: int
) -> None:
    for as_of in await _moments(pool):
        known = await pool.fetchval(
            "select count(*) from rounds r where $1::timestamptz is null"
            " or exists (select 1 from claims c where c.round_id = r.id and c.recorded_at <= $1)",
            as_of,
        )
        for order in (RoundOrder(), RoundOrder("AMOUNT_USD", "ASC")):
            f = RoundFilter(as_of=as_of)
            scope = rounds_scope(f, order)
            cursor, seen = None, []
            while True:
                request = page_request(scope, first=size, after=cursor, cursor_field="cursor")
                args = RoundsArgs(f, order, request, scope)
                body, objects = await shown_page(pool, page_of("rounds", args, "Round", ROUND))
                # What the answer's price counts, counted by the statement: as the body holds.
                assert objects == objects_in(body, more_than=0)
                page = json.loads(body)
                seen += [r["id"] for r in page["data"]]
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            assert len(seen) == len(set(seen)) == known


async def test_events_and_the_feed_carry_what_the_routes_show(pool: Pool) -> None:
    gone = uuid.uuid4()
    ids = {
        "round": [gone, *await _ids(pool, "rounds")],
        "participation": await _ids(pool, "participations"),
        "acquisition": await _ids(pool, "acquisitions"),
        "claim": await _ids(pool, "claims"),
    }
    events = await event_states(pool, ids)  # type: ignore[arg-type]
    feed = await feed_states(pool, ids)  # type: ignore[arg-type]
    assert events["round"][0] is None
    assert feed["round"][0] is None
    details = {}
    for round_id, event, state in zip(
        ids["round"][1:], events["round"][1:], feed["round"][1:], strict=True
    ):
        detail = await round_detail(pool, round_id)
        assert detail is not None
        assert orjson.dumps(event) == detail
        shown = orjson.loads(detail)
        lists = ("participations", "claims", "history", "negotiators")
        assert state == {k: v for k, v in shown.items() if k not in lists}
        details[shown["id"]] = shown
    for deal_id, event in zip(ids["acquisition"], events["acquisition"], strict=True):
        assert orjson.dumps(event) == await acquisition_detail(pool, deal_id)
    participations = {p["id"]: p for d in details.values() for p in d["participations"]}
    for investment, state in zip(events["participation"], feed["participation"], strict=True):
        assert investment is not None
        in_round = {k: v for k, v in investment.items() if k != "round"}
        assert in_round == participations[investment["id"]] == state
        assert investment["round"]["id"] == investment["round_id"]
    claims = {c["id"]: c for d in details.values() for c in d["claims"]}
    for claim in feed["claim"]:
        assert claim is not None
        if claim["acquisition_id"] is None:
            assert claim == claims[claim["id"]]
        else:
            assert {"closed_on", "terms", "percent_acquired"} <= claim.keys()


async def test_as_of_leaves_out_an_acquirer_added_later(pool: Pool) -> None:
    """An acquirer added after the moment is in neither the list nor the acquisition read
    as of it, and is in both now."""
    [row] = await pool.fetch(
        "select a.id, min(c.recorded_at) as first_claim from acquisitions a"
        " join claims c on c.acquisition_id = a.id group by a.id order by a.id limit 1"
    )
    await pool.execute(
        "with buyer as (insert into organizations (slug, name) values ('late-buyer', 'Late')"
        " returning id)"
        " insert into acquirers (acquisition_id, organization_id, added_at)"
        " select $1, buyer.id, $2::timestamptz + interval '1 hour' from buyer",
        row["id"],
        row["first_claim"],
    )
    public_id = encode_id(Kind.ACQUISITION, row["id"])
    for as_of, expected in (
        (row["first_claim"] + datetime.timedelta(minutes=1), False),
        (None, True),
    ):
        f, order = AcquisitionFilter(as_of=as_of), AcquisitionOrder()
        scope = acquisitions_scope(f, order)
        args = AcquisitionsArgs(f, order, page_request(scope, first=100), scope)
        body, _ = await shown_page(pool, page_of("acquisitions", args, "Acquisition", ACQUISITION))
        [listed] = [a for a in json.loads(body)["data"] if a["id"] == public_id]
        detail = await acquisition_detail(pool, row["id"], as_of)
        assert detail is not None
        for shown in (listed, orjson.loads(detail)):
            assert ("late-buyer" in [q["slug"] for q in shown["acquirers"]]) is expected

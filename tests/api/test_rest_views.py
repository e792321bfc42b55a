"""The REST representations answered by the compiler (api/rest/views.py) are the bytes
the Python renderers (api/rest/representations.py) gave, on the demo set and the
CrunchBase fixture: every round, organization and acquisition, now and as of the moments
their claims were recorded, their pages cursor after cursor, and the shapes of the
change feed and webhook events."""

import datetime
import json
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest

from api.guard.answer_size import objects_in
from api.rest import representations as old
from api.rest.protocol import list_body
from api.rest.views import (
    ACQUISITION,
    CO_INVESTOR,
    INVESTMENT,
    ORGANIZATION,
    ROUND,
    acquisition_detail,
    event_states,
    feed_states,
    page_of,
    round_detail,
    shown,
    shown_page,
)
from db.acquisitions import (
    AcquisitionFilter,
    AcquisitionOrder,
    acquisitions_scope,
    list_acquisitions,
    list_acquisitions_by_ids,
)
from db.co_investors import co_investors_scope, list_co_investors
from db.imports.crunchbase import import_crunchbase
from db.infra.pagination import load_cursor_key, page_request
from db.infra.types import Pool
from db.json.acquisitions import AcquisitionsArgs
from db.json.select import Field, Key
from db.json.sources import RoundsArgs
from db.organizations import list_organizations_by_ids
from db.participations import (
    investments_scope,
    list_investments_of_investors,
    list_participations_by_ids,
)
from db.provenance import list_sources_by_ids
from db.rounds import (
    RoundFilter,
    RoundOrder,
    company_rounds_scope,
    list_rounds,
    list_rounds_by_ids,
    list_rounds_of_companies,
    rounds_scope,
)
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
    """Now, before anything was recorded, and each distinct moment a claim was recorded."""
    recorded = [r["at"] for r in await pool.fetch("select distinct recorded_at as at from claims")]
    first = min(recorded)
    return [
        None,
        first - datetime.timedelta(seconds=1),
        *sorted(recorded)[:: max(1, len(recorded) // 12)],
    ]


def _ordered(text: str | bytes) -> Any:
    return json.loads(text, object_pairs_hook=list)


async def test_a_round_and_an_acquisition_are_the_bytes_they_were(pool: Pool) -> None:
    compared = 0
    for as_of in await _moments(pool):
        round_ids = await _ids(pool, "rounds")
        for round_id, found in zip(
            round_ids, await list_rounds_by_ids(pool, round_ids, as_of=as_of), strict=True
        ):
            new = await round_detail(pool, round_id, as_of)
            if found is None:
                assert new is None
                continue
            assert new == orjson.dumps(await old.round_detail_json(pool, found, as_of))
            compared += 1
        acquisition_ids = await _ids(pool, "acquisitions")
        for a_id, a in zip(
            acquisition_ids,
            await list_acquisitions_by_ids(pool, acquisition_ids, as_of=as_of),
            strict=True,
        ):
            new = await acquisition_detail(pool, a_id, as_of)
            if a is None:
                assert new is None
                continue
            assert new == orjson.dumps(await old.acquisition_detail_json(pool, a, as_of))
            compared += 1
    assert compared > 50


async def test_an_organization_and_its_pages_are_the_bytes_they_were(pool: Pool) -> None:
    org_ids = await _ids(pool, "organizations")
    for org_id, org in zip(org_ids, await list_organizations_by_ids(pool, org_ids), strict=True):
        assert org is not None
        key = Key("Organization", "id", org_id, "uuid")
        new = await shown(
            pool, Field("organization", "organization", key, {"Organization": ORGANIZATION})
        )
        assert new == orjson.dumps(old.organization_json(org))
        for size in (2, 20):
            for name, scope, type_name, item, edges in (
                ("rounds", company_rounds_scope(org_id), "Round", ROUND, False),
                ("investments", investments_scope(org_id), "Participation", INVESTMENT, False),
                ("coInvestors", co_investors_scope(org_id), "CoInvestor", CO_INVESTOR, True),
            ):
                cursor = None
                while True:
                    request = page_request(scope, first=size, after=cursor, cursor_field="cursor")
                    new = await shown(
                        pool, page_of(name, request, type_name, item, edges=edges), key
                    )
                    if name == "rounds":
                        [page] = await list_rounds_of_companies(pool, [org_id], request)
                        items = await old.rounds_json(pool, page.items)
                    elif name == "investments":
                        [page] = await list_investments_of_investors(pool, [org_id], request)  # type: ignore[assignment]
                        items = await old.investments_json(pool, page.items)  # type: ignore[arg-type]
                    else:
                        [page] = await list_co_investors(pool, [org_id], request)  # type: ignore[assignment]
                        items = old.co_investors_json(page.items)  # type: ignore[arg-type]
                    assert new == orjson.dumps(list_body(items, page))
                    assert new is not None
                    cursor = orjson.loads(new)["next_cursor"]
                    if cursor is None:
                        break


@pytest.mark.parametrize("size", [3, 50])
async def test_the_lists_are_the_json_they_were(pool: Pool, size: int) -> None:
    for as_of in await _moments(pool):
        for order in (RoundOrder(), RoundOrder("AMOUNT_USD", "ASC")):
            f = RoundFilter(as_of=as_of)
            scope = rounds_scope(f, order)
            cursor = None
            while True:
                request = page_request(scope, first=size, after=cursor, cursor_field="cursor")
                body, objects = await shown_page(
                    pool, page_of("rounds", RoundsArgs(f, order, request, scope), "Round", ROUND)
                )
                page = await list_rounds(pool, filter=f, order=order, page=request)
                slow = orjson.dumps(list_body(await old.rounds_json(pool, page.items, as_of), page))
                assert _ordered(body) == _ordered(slow)
                assert objects == objects_in(body, more_than=0)
                cursor = json.loads(body)["next_cursor"]
                if cursor is None:
                    break
        a_filter, a_order = AcquisitionFilter(as_of=as_of), AcquisitionOrder()
        scope = acquisitions_scope(a_filter, a_order)
        request = page_request(scope, first=size)
        body, _ = await shown_page(
            pool,
            page_of(
                "acquisitions",
                AcquisitionsArgs(a_filter, a_order, request, scope),
                "Acquisition",
                ACQUISITION,
            ),
        )
        page = await list_acquisitions(pool, filter=a_filter, order=a_order, page=request)  # type: ignore[assignment]
        slow = orjson.dumps(list_body(await old.acquisitions_json(pool, page.items, as_of), page))  # type: ignore[arg-type]
        assert _ordered(body) == _ordered(slow)


async def test_the_feed_and_events_show_what_they_showed(pool: Pool) -> None:
    ids = {
        "organization": await _ids(pool, "organizations"),
        "round": await _ids(pool, "rounds"),
        "participation": await _ids(pool, "participations"),
        "claim": await _ids(pool, "claims"),
        "acquisition": await _ids(pool, "acquisitions"),
    }
    gone = uuid.uuid4()
    for entity in ids:
        ids[entity] = [gone, *ids[entity]]
    states = await feed_states(pool, ids)  # type: ignore[arg-type]
    for entity, wanted in ids.items():
        before = await old.states_json_by_ids(pool, entity, wanted)  # type: ignore[arg-type]
        assert orjson.dumps(states[entity]) == orjson.dumps(before)  # type: ignore[index]
    source_ids = await _ids(pool, "sources")
    events = await event_states(pool, {**ids, "source": source_ids})  # type: ignore[dict-item]
    rounds = await list_rounds_by_ids(pool, ids["round"])
    assert orjson.dumps(events["round"]) == orjson.dumps(
        [None if r is None else await old.round_detail_json(pool, r) for r in rounds]
    )
    acquisitions = await list_acquisitions_by_ids(pool, ids["acquisition"])
    assert orjson.dumps(events["acquisition"]) == orjson.dumps(
        [None if a is None else await old.acquisition_detail_json(pool, a) for a in acquisitions]
    )
    participations = [p for p in await list_participations_by_ids(pool, ids["participation"]) if p]
    assert orjson.dumps(events["participation"][1:]) == orjson.dumps(
        await old.investments_json(pool, participations)
    )
    sources = await list_sources_by_ids(pool, source_ids)
    assert orjson.dumps(events["source"]) == orjson.dumps(
        [old.source_json(s) for s in sources if s]
    )
    organizations = await list_organizations_by_ids(pool, ids["organization"])
    assert orjson.dumps(events["organization"]) == orjson.dumps(
        [None if o is None else old.organization_json(o) for o in organizations]
    )


@pytest.mark.parametrize(
    "group_by",
    [(), ("PERIOD", "ROUND_TYPE"), ("STATUS", "STAGE", "COUNTRY"), ("INVESTOR",)],
)
async def test_the_figures_are_the_bytes_they_were(pool: Pool, group_by: tuple[str, ...]) -> None:
    from api.rest.views import STATS_BUCKET, shown_stats
    from db.json.sources import StatsArgs
    from db.stats import round_stats

    for as_of in (None, *(await _moments(pool))[1:3]):
        for period in ("YEAR", "QUARTER"):
            f = RoundFilter(as_of=as_of)
            args = StatsArgs(f, group_by, period)  # type: ignore[arg-type]
            found = await round_stats(
                pool,
                filter=f,
                group_by=group_by,
                period=period,
                group_by_field="group_by",  # type: ignore[arg-type]
            )
            before = orjson.dumps({"data": old.round_stats_json(found, period)})
            assert await shown_stats(pool, args, STATS_BUCKET) == before

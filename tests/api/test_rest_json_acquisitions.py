"""GET /v1/acquisitions built by the database in one statement (db/json/acquisitions.py)
is the JSON the Python renderer (api/rest/representations.py) gives for the same rows,
keys in the same order, page after page, in the present and as of a time."""

import datetime
import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from api.rest.representations import acquisitions_json
from db.acquisitions import (
    AcquisitionFilter,
    AcquisitionOrder,
    acquisitions_scope,
    list_acquisitions,
    list_acquisitions_by_ids,
)
from db.imports.crunchbase import import_crunchbase
from db.infra.ids import Kind, encode_id
from db.infra.pagination import load_cursor_key, page_request
from db.infra.types import Pool
from db.json.acquisitions import render_rest_acquisitions
from db.seed import seed

FIXTURES = Path(__file__).parent.parent / "fixtures" / "crunchbase"


@pytest.fixture(scope="module", autouse=True)
async def data(pool: Pool) -> None:
    async with pool.acquire() as conn:
        await seed(conn)
        await import_crunchbase(conn, FIXTURES)
    # Cursors signed in Python and in SQL with this database's key.
    await load_cursor_key(pool)
    # Acquisitions of every shape: dates of each precision or none, prices of each
    # qualifier or undisclosed, terms and shares, one to three acquirers.
    await pool.execute(
        """
        with buyers as (
            insert into organizations (slug, name)
            select 'buyer-' || i, 'Buyer ' || i from generate_series(1, 3) as i returning id, slug
        ), made as (
            insert into acquisitions (target_id, status, stage, announced_on, announced_precision,
                                      price, terms, percent_acquired)
            select o.id, (array['REPORTED', 'CONFIRMED']::deal_status[])[1 + i % 2],
                   (array['IN_TALKS', 'ANNOUNCED']::deal_stage[])[1 + i % 2],
                   case when i % 5 = 0 then null else
                   date_trunc(lower(d.precision::text), date '2010-01-01' + (i * 47))::date end,
                   case when i % 5 = 0 then null else d.precision end,
                   case when i % 4 = 0 then null else
                   row('RANGE', 'EUR', 10.50 * i, 20.25 * i, 15 * i)::money_estimate_fields end,
                   (array['CASH', 'STOCK', 'MIXED']::acquisition_terms[])[1 + i % 3],
                   case when i % 2 = 0 then 12.5 * (1 + i % 8) end
            from generate_series(1, 30) as i
            join lateral (select id from organizations where slug not like 'buyer-%'
                          order by slug offset i limit 1) o on true,
                 lateral (select (array['DAY', 'MONTH', 'QUARTER', 'YEAR']::date_precision[])
                                 [1 + i % 4] as precision) d
            returning id, percent_acquired
        )
        insert into acquirers (acquisition_id, organization_id, is_lead, added_at)
        select made.id, b.id, b.slug = 'buyer-1',
               now() - (b.slug = 'buyer-1')::int * interval '1 day'
        from made join buyers b on b.slug = 'buyer-1' or made.percent_acquired is not null
        """
    )


def _ordered(text: str | bytes) -> Any:
    return json.loads(text, object_pairs_hook=list)


@pytest.mark.parametrize(
    ("found_filter", "order", "size"),
    [
        (AcquisitionFilter(), AcquisitionOrder(), 20),
        (AcquisitionFilter(), AcquisitionOrder("PRICE_USD", "ASC"), 7),
        (AcquisitionFilter(), AcquisitionOrder("PRICE_USD", "DESC"), 4),
        (AcquisitionFilter(statuses=["REPORTED"]), AcquisitionOrder("ANNOUNCED_ON", "ASC"), 100),
        (
            AcquisitionFilter(stages=["ANNOUNCED", "CLOSED"], min_price_usd=None),
            AcquisitionOrder("PRICE_USD", "DESC"),
            5,
        ),
        (
            AcquisitionFilter(announced_from=datetime.date(2011, 1, 1)),
            AcquisitionOrder("ANNOUNCED_ON", "DESC"),
            6,
        ),
        (
            AcquisitionFilter(as_of=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)),
            AcquisitionOrder(),
            2,
        ),
    ],
)
async def test_the_database_renders_what_python_renders(
    pool: Pool, found_filter: AcquisitionFilter, order: AcquisitionOrder, size: int
) -> None:
    scope = acquisitions_scope(found_filter, order)
    cursor = None
    pages = 0
    while True:
        request = page_request(scope, first=size, after=cursor)
        fast = await render_rest_acquisitions(
            pool, filter=found_filter, order=order, page=request, scope=scope
        )
        page = await list_acquisitions(pool, filter=found_filter, order=order, page=request)
        slow = orjson.dumps(
            {
                "data": await acquisitions_json(pool, page.items, found_filter.as_of),
                "next_cursor": page.cursors[-1] if page.has_next else None,
            }
        )
        assert _ordered(fast) == _ordered(slow)
        pages += 1
        cursor = json.loads(fast)["next_cursor"]
        if cursor is None:
            break
    assert pages >= 1


async def test_as_of_leaves_out_an_acquirer_added_later(pool: Pool) -> None:
    """An acquirer added after the moment is not in the list read as of it, on both
    renderings."""
    [row] = await pool.fetch(
        "select a.id, min(c.recorded_at) as first_claim from acquisitions a"
        " join claims c on c.acquisition_id = a.id group by a.id order by a.id limit 1"
    )
    await pool.execute(
        "insert into acquirers (acquisition_id, organization_id, added_at)"
        " select $1, o.id, $2::timestamptz + interval '1 hour' from organizations o"
        " where o.slug = 'buyer-3'"
        " on conflict do nothing",
        row["id"],
        row["first_claim"],
    )
    found_filter = AcquisitionFilter(as_of=row["first_claim"] + datetime.timedelta(minutes=1))
    order = AcquisitionOrder()
    scope = acquisitions_scope(found_filter, order)
    request = page_request(scope, first=100)
    fast = json.loads(
        await render_rest_acquisitions(
            pool, filter=found_filter, order=order, page=request, scope=scope
        )
    )
    page = await list_acquisitions(pool, filter=found_filter, order=order, page=request)
    assert fast["data"] == await acquisitions_json(pool, page.items, found_filter.as_of)
    [it] = [a for a in fast["data"] if a["id"] == encode_id(Kind.ACQUISITION, row["id"])]
    assert "buyer-3" not in [q["slug"] for q in it["acquirers"]]
    [now] = await list_acquisitions_by_ids(pool, [row["id"]])
    assert now is not None
    [present] = await acquisitions_json(pool, [now])
    assert "buyer-3" in [q["slug"] for q in present["acquirers"]]

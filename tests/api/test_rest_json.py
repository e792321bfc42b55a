"""GET /v1/rounds built by the database (db/json/rest.py) is the JSON the Python
renderer (api/rest/representations.py) gives for the same rows, keys in the same order."""

import json
from typing import Any

import orjson
import pytest

from api.guard.answer_size import objects_in
from api.rest.representations import rounds_json
from db.infra.pagination import page_request
from db.infra.types import Pool
from db.json.rest import render_rest_rounds
from db.rounds import RoundFilter, RoundOrder, list_rounds, rounds_scope
from db.seed import seed


@pytest.fixture(scope="module", autouse=True)
async def data(pool: Pool) -> None:
    async with pool.acquire() as conn:
        await seed(conn)
    await pool.execute(
        """
        with company as (
            insert into organizations (slug, name) values ('json-co', 'JSON Co') returning id
        ), made as (
            insert into rounds (company_id, round_type, status, stage, announced_on,
                                announced_precision, expected_close_on, expected_close_precision,
                                amount, post_money_valuation)
            select company.id, 'SEED', 'CONFIRMED', 'CLOSED',
                   date_trunc(lower(d.precision::text), date '2019-01-01' + (i * 31))::date,
                   d.precision, date '2027-01-01', 'YEAR',
                   case when i % 3 = 0 then null else
                   row('RANGE', 'EUR', 10.50 * i, 20.25 * i, 15 * i)::money_estimate_fields end,
                   row('AT_LEAST', 'USD', 1000 * i, null, 1000 * i)::money_estimate_fields
            from company, generate_series(1, 24) as i,
                 lateral (select (array['DAY', 'MONTH', 'QUARTER', 'YEAR']::date_precision[])
                                 [1 + i % 4] as precision) d
            returning id
        )
        insert into participations (round_id, investor_person_id, status, stage, is_lead)
        select made.id, p.id, 'CONFIRMED', 'CLOSED', true from made, people p
        where p.slug = 'andy-jassy'
        """
    )


def _ordered(text: str | bytes) -> Any:
    return json.loads(text, object_pairs_hook=list)


@pytest.mark.parametrize(
    ("round_filter", "order", "size"),
    [
        (RoundFilter(), RoundOrder(), 20),
        (RoundFilter(), RoundOrder("AMOUNT_USD", "ASC"), 7),
        (RoundFilter(statuses=["REPORTED"]), RoundOrder("ANNOUNCED_ON", "ASC"), 100),
        (RoundFilter(stages=["CLOSED"], min_amount_usd=None), RoundOrder("AMOUNT_USD", "DESC"), 5),
    ],
)
async def test_the_database_renders_what_python_renders(
    pool: Pool, round_filter: RoundFilter, order: RoundOrder, size: int
) -> None:
    scope = rounds_scope(round_filter, order)
    cursor = None
    pages = 0
    while True:
        request = page_request(scope, first=size, after=cursor)
        fast, objects = await render_rest_rounds(
            pool, filter=round_filter, order=order, page=request, scope=scope
        )
        # What the answer's price counts, counted by the statement: as the body holds.
        assert objects == objects_in(fast, more_than=0)
        page = await list_rounds(pool, filter=round_filter, order=order, page=request)
        slow = orjson.dumps(
            {
                "data": await rounds_json(pool, page.items),
                "next_cursor": page.cursors[-1] if page.has_next else None,
            }
        )
        assert _ordered(fast) == _ordered(slow)
        pages += 1
        cursor = json.loads(fast)["next_cursor"]
        if cursor is None:
            break
    assert pages >= 1

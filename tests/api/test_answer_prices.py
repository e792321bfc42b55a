"""A request pays for the objects its answer holds when they are more than its price, on
GraphQL and REST alike, and both faces show it in the RateLimit headers (issue 14, items
4 and 5).

Before: one round with 1,000 participations and 1,001 claims was priced 71 points over
GraphQL (plain lists were priced as 5 items), and 1 point over REST (858 kB), as was
`GET /v1/rounds?limit=100` (118 kB).
"""

import httpx
import pytest

from db.infra.ids import Kind, encode_id
from db.infra.types import Pool
from db.seed import ANTHROPIC_ROUND, OPENAI_ROUND, seed
from tests.conftest import bearer, create_key

BIG = encode_id(Kind.ROUND, OPENAI_ROUND)
PER_MINUTE = 600


@pytest.fixture(scope="module", autouse=True)
async def data(pool: Pool) -> None:
    async with pool.acquire() as conn:
        await seed(conn)
    await pool.execute(
        """
        with investors as (
            insert into organizations (slug, name)
            select 'backer-' || i, 'Backer ' || i from generate_series(1, 1000) i
            returning id
        ), parts as (
            insert into participations (round_id, investor_organization_id, status, stage)
            select $1, id, 'REPORTED', 'IN_TALKS' from investors
            returning id
        )
        insert into claims (source_id, round_id, participation_id, status, stage)
        select (select source_id from claims where round_id = $1 limit 1), $1, id,
               'REPORTED', 'IN_TALKS'
        from parts
        """,
        OPENAI_ROUND,
    )


def _remaining(response: httpx.Response) -> int:
    fields = dict(part.split("=") for part in response.headers["ratelimit"].split(";")[1:])
    return int(fields["r"])


async def _fresh(client: httpx.AsyncClient, db_url: str) -> dict[str, str]:
    return bearer(await create_key(db_url, rate_limit=PER_MINUTE))


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        (
            "POST",
            "/graphql",
            {
                "query": "query($id: ID!) { round(id: $id) {"
                " participations { investor { name } } claims { recordedAt } } }",
                "variables": {"id": BIG},
            },
        ),
        ("GET", f"/v1/rounds/{BIG}", None),
    ],
)
async def test_a_round_with_a_thousand_participations_costs_a_thousand_points(
    client: httpx.AsyncClient, db_url: str, method: str, url: str, body: object
) -> None:
    headers = await _fresh(client, db_url)
    answer = await client.request(method, url, json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    # It held over 2,000 objects: the key's 600 points are spent and then some.
    assert _remaining(answer) == 0
    again = await client.request(method, url, json=body, headers=headers)
    assert again.status_code == 429
    # The debt: about a minute to pay back (less what came back while this ran).
    assert int(again.headers["retry-after"]) > 30


async def test_a_rest_answer_costs_what_it_holds(client: httpx.AsyncClient, db_url: str) -> None:
    headers = await _fresh(client, db_url)
    small = await client.get(
        f"/v1/rounds/{encode_id(Kind.ROUND, ANTHROPIC_ROUND)}", headers=headers
    )
    assert small.status_code == 200
    assert PER_MINUTE - _remaining(small) < 20
    # A page of every round, the big one among them.
    headers = await _fresh(client, db_url)
    page = await client.get("/v1/rounds", params={"limit": 100}, headers=headers)
    assert page.status_code == 200
    assert _remaining(page) == 0

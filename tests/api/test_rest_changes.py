"""GET /v1/changes: a partner mirrors the data from the feed alone, deletions included."""

from typing import Any

import asyncpg
import httpx
import orjson
import pytest

from db.infra.types import Pool
from db.seed import seed


async def _current_states(pool: Pool) -> dict[str, Any]:
    """The entities the feed covers, rendered the way the feed renders them."""
    records = await pool.fetch(
        """
        select organization_state(o)::text as state from organizations o
        union all select round_state(r)::text from rounds r
        union all select participation_state(p)::text from participations p
        union all select claim_state(c)::text from claims c
        """
    )
    states = [orjson.loads(r["state"]) for r in records]
    return {s["id"]: s for s in states}


class Mirror:
    """What a partner keeps: entities by id, brought up to date from the feed."""

    def __init__(self) -> None:
        self.entities: dict[str, Any] = {}
        self.cursor: str | None = None
        self.seen = 0

    async def sync(self, client: httpx.AsyncClient) -> None:
        while True:
            params: dict[str, Any] = {"limit": 40}
            if self.cursor:
                params["after"] = self.cursor
            response = await client.get("/v1/changes", params=params)
            assert response.status_code == 200, response.text
            body = response.json()
            for change in body["data"]:
                self.seen += 1
                if change["operation"] == "delete":
                    self.entities.pop(change["entity_id"], None)
                else:
                    assert change["state"]["id"] == change["entity_id"]
                    self.entities[change["entity_id"]] = change["state"]
            self.cursor = body["next_cursor"]
            if not body["has_more"]:
                return


@pytest.fixture(scope="module", autouse=True)
async def demo(pool: Pool) -> None:
    async with pool.acquire() as conn:
        await seed(conn)


async def test_a_mirror_follows_creates_updates_and_deletes(
    client: httpx.AsyncClient, pool: Pool
) -> None:
    mirror = Mirror()
    await mirror.sync(client)
    assert mirror.entities == await _current_states(pool)
    assert len(mirror.entities) == 7 + 2 + 6 + 12  # organizations, rounds, participations, claims

    await pool.execute(
        "update rounds set status = 'CONFIRMED' where reported_label = 'tour de table'"
    )
    await pool.execute(
        "insert into organization_aliases (organization_id, alias)"
        " select id, 'Nvidia Corp' from organizations where slug = 'nvidia'"
    )
    await pool.execute(
        "delete from participations where investor_organization_id ="
        " (select id from organizations where slug = 'softbank')"
    )
    await pool.execute("delete from organizations where slug = 'softbank'")
    await pool.execute("update organizations set name = name")  # no change: no entry
    before = mirror.seen
    await mirror.sync(client)
    assert mirror.entities == await _current_states(pool)
    # The round, the alias, the participation and its claim, the organization.
    assert mirror.seen - before == 5


async def test_an_empty_page_keeps_the_cursor(client: httpx.AsyncClient) -> None:
    mirror = Mirror()
    await mirror.sync(client)
    body = (await client.get("/v1/changes", params={"after": mirror.cursor})).json()
    assert body == {"data": [], "next_cursor": mirror.cursor, "has_more": False}


async def test_an_entry_committed_late_is_never_skipped(
    client: httpx.AsyncClient, pool: Pool, db_url: str
) -> None:
    mirror = Mirror()
    await mirror.sync(client)
    slow, fast = await asyncpg.connect(db_url), await asyncpg.connect(db_url)
    try:
        # The slow transaction writes first, so its entries sort first, but commits last.
        slow_tx = slow.transaction()
        await slow_tx.start()
        await slow.execute("insert into organizations (slug, name) values ('slow-co', 'Slow')")
        await fast.execute("insert into organizations (slug, name) values ('fast-co', 'Fast')")
        await mirror.sync(client)
        # The fast one committed, but the feed holds it back while the slow one runs.
        assert not {s["slug"] for s in mirror.entities.values() if "slug" in s} & {
            "fast-co",
            "slow-co",
        }
        await slow_tx.commit()
        await mirror.sync(client)
        slugs = {s.get("slug") for s in mirror.entities.values()}
        assert {"fast-co", "slow-co"} <= slugs
    finally:
        await slow.close()
        await fast.close()


@pytest.mark.parametrize("after", ["garbage", "Y2hhbmdlczp4Onk="])
async def test_bad_cursor_is_400(client: httpx.AsyncClient, after: str) -> None:
    response = await client.get("/v1/changes", params={"after": after})
    assert response.status_code == 400
    assert response.json()["parameter"] == "after"

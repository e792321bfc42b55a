"""GET /v1/changes: a partner mirrors the data from the feed alone, deletions included,
and the mirror holds what the entity routes show."""

from typing import Any

import asyncpg
import httpx
import pytest

from api.rest.views import feed_states
from db.infra.ids import Kind, encode_id
from db.infra.types import Pool
from db.seed import seed

DEAL_LISTS = ("participations", "claims", "history", "negotiators")


async def _as_the_routes_show_them(client: httpx.AsyncClient, pool: Pool) -> dict[str, Any]:
    """Every entity the feed covers, as GET /v1/organizations/{id}, /v1/rounds/{id} and
    /v1/acquisitions/{id} show it: a deal's participations and claims taken out of it, as
    entities of their own."""
    shown: dict[str, Any] = {}
    for org_id in await pool.fetchval("select array_agg(id) from organizations"):
        answer = await client.get(f"/v1/organizations/{encode_id(Kind.ORGANIZATION, org_id)}")
        assert answer.status_code == 200, answer.text
        shown[answer.json()["id"]] = answer.json()
    for round_id in await pool.fetchval("select coalesce(array_agg(id), '{}') from rounds"):
        answer = await client.get(f"/v1/rounds/{encode_id(Kind.ROUND, round_id)}")
        assert answer.status_code == 200, answer.text
        detail = answer.json()
        shown[detail["id"]] = {k: v for k, v in detail.items() if k not in DEAL_LISTS}
        shown.update((p["id"], p) for p in detail["participations"])
        shown.update((c["id"], c) for c in detail["claims"])
    for deal_id in await pool.fetchval("select coalesce(array_agg(id), '{}') from acquisitions"):
        answer = await client.get(f"/v1/acquisitions/{encode_id(Kind.ACQUISITION, deal_id)}")
        assert answer.status_code == 200, answer.text
        detail = answer.json()
        shown[detail["id"]] = {k: v for k, v in detail.items() if k not in DEAL_LISTS}
        shown.update((c["id"], c) for c in detail["claims"])
    return shown


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
                params["cursor"] = self.cursor
            response = await client.get("/v1/changes", params=params)
            assert response.status_code == 200, response.text
            body = response.json()
            for change in body["data"]:
                self.seen += 1
                # A delete, or a past state of something deleted since.
                if change["state"] is None:
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
    assert mirror.entities == await _as_the_routes_show_them(client, pool)
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
    assert mirror.entities == await _as_the_routes_show_them(client, pool)
    # The round, the alias, the participation and its claim, the organization.
    assert mirror.seen - before == 5

    # An acquisition, written as a partner would: it, its claim, its new organizations.
    reported = await client.post(
        "/v1/acquisition-reports",
        json={
            "target": {"name": "Mirror Target"},
            "lead_acquirer": {"slug": "amazon"},
            "other_acquirers": [{"name": "Mirror Partner"}],
            "stage": "ANNOUNCED",
            "price": {"qualifier": "ABOUT", "low": {"amount": "2000000", "currency": "EUR"}},
            "terms": "CASH",
            "source": {
                "publisher": "Wire",
                "published_at": "2026-01-30T10:00:00Z",
                "kind": "PRESS_ON_RECORD",
            },
        },
    )
    assert reported.status_code == 201, reported.text
    await mirror.sync(client)
    assert reported.json()["id"] in mirror.entities
    assert mirror.entities == await _as_the_routes_show_them(client, pool)


async def test_an_empty_page_keeps_the_cursor(client: httpx.AsyncClient) -> None:
    mirror = Mirror()
    await mirror.sync(client)
    body = (await client.get("/v1/changes", params={"cursor": mirror.cursor})).json()
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


@pytest.mark.parametrize("name", ["cursor", "after"])
@pytest.mark.parametrize("cursor", ["garbage", "Y2hhbmdlczp4Onk="])
async def test_bad_cursor_is_400(client: httpx.AsyncClient, name: str, cursor: str) -> None:
    response = await client.get("/v1/changes", params={name: cursor})
    assert response.status_code == 400
    assert response.json()["parameter"] == name


async def test_after_is_the_deprecated_name_of_cursor(client: httpx.AsyncClient) -> None:
    first = (await client.get("/v1/changes", params={"limit": 3})).json()
    by_cursor = await client.get("/v1/changes", params={"cursor": first["next_cursor"]})
    by_after = await client.get("/v1/changes", params={"after": first["next_cursor"]})
    assert by_cursor.json() == by_after.json()
    assert by_cursor.json()["data"] != first["data"]
    both = {"cursor": first["next_cursor"], "after": first["next_cursor"]}
    response = await client.get("/v1/changes", params=both)
    assert response.status_code == 400


async def test_a_state_is_what_the_same_view_shows_by_id(
    client: httpx.AsyncClient, pool: Pool
) -> None:
    """What anything that shows an entity by its id calls: the latest entry of each
    entity holds what it shows now, and an id of another kind shows nothing."""
    mirror = Mirror()
    await mirror.sync(client)
    rounds = await pool.fetchval("select array_agg(id order by id) from rounds")
    shown = await feed_states(pool, {"round": rounds, "claim": [rounds[0]]})
    assert shown["round"] == [mirror.entities[encode_id(Kind.ROUND, r)] for r in rounds]
    assert shown["claim"] == [None]

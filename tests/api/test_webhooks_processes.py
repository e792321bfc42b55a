"""Webhook workers as real processes: `dealgraph worker` killed mid-delivery, and two
`serve` processes sharing the queue."""

import contextlib
import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.api.receiver import receiving, until
from tests.api.serving import DEALGRAPH, ROOT, environment, serve, stop
from tests.conftest import bearer, create_key

FAST = {
    "DEALGRAPH_WEBHOOK_ALLOW_PRIVATE": "1",
    "DEALGRAPH_WEBHOOK_RETRY_BASE_SECONDS": "0.05",
    "DEALGRAPH_WEBHOOK_RETRY_CAP_SECONDS": "0.2",
    "DEALGRAPH_WEBHOOK_POLL_SECONDS": "0.1",
}
SOURCE = {
    "publisher": "The Wall Street Journal",
    "kind": "PRESS_ANONYMOUS",
    "published_at": "2026-01-29T22:00:00Z",
}


@contextlib.contextmanager
def worker(db_url: str, log: Path) -> Iterator["subprocess.Popen[bytes]"]:
    with log.open("ab") as out:
        process = subprocess.Popen(
            [DEALGRAPH, "worker"],
            cwd=ROOT,
            env=environment(DATABASE_URL=db_url, **FAST),
            stdout=out,
            stderr=out,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            stop(process)


def _report(company: str) -> dict[str, Any]:
    return {
        "company": {"name": company},
        "round_type": "SEED",
        "stage": "ANNOUNCED",
        "source": SOURCE,
    }


async def _deliveries(http: httpx.AsyncClient, endpoint_id: str) -> list[Any]:
    log = await http.get(f"/v1/webhooks/{endpoint_id}/deliveries", params={"limit": 100})
    assert log.status_code == 200, log.text
    found: list[Any] = log.json()["data"]
    return found


async def test_a_worker_killed_mid_delivery_leaves_it_to_the_next(
    client: httpx.AsyncClient, db_url: str, tmp_path: Path
) -> None:
    async with receiving() as receiver:
        receiver.hang = True
        created = await client.post(
            "/v1/webhooks", json={"url": receiver.url, "events": ["round.created"]}
        )
        assert created.status_code == 201, created.text
        endpoint = created.json()
        with worker(db_url, tmp_path / "first.log") as first:
            assert (await client.post("/v1/reports", json=_report("Killed Co"))).status_code == 201
            await receiver.wait_until(lambda: len(receiver.arrived) == 1, what="the delivery")
            first.send_signal(signal.SIGKILL)
            first.wait()
        receiver.hang = False
        with worker(db_url, tmp_path / "second.log"):

            async def recorded() -> bool:
                [delivery] = await _deliveries(client, endpoint["id"])
                return bool(delivery["status"] == "delivered")

            await until(recorded, what="the retry")
        [hung] = receiver.arrived[:1]
        [retried] = receiver.received
        assert retried.id == hung.id
        retried.verify(endpoint["secret"])
        [delivery] = await _deliveries(client, endpoint["id"])
        assert delivery["status"] == "delivered"
        assert (await client.delete(f"/v1/webhooks/{endpoint['id']}")).status_code == 204


async def test_two_serve_processes_send_each_delivery_once(db_url: str, tmp_path: Path) -> None:
    env = environment(DATABASE_URL=db_url, DEALGRAPH_POOL_MAX_SIZE="4", **FAST)
    async with (
        receiving() as receiver,
    ):
        with serve(tmp_path, env, "--workers", "2", processes=2) as server:
            async with httpx.AsyncClient(
                base_url=server.url, headers=bearer(await create_key(db_url)), timeout=30
            ) as http:
                created = await http.post(
                    "/v1/webhooks",
                    json={"url": receiver.url, "events": ["round.created", "round.updated"]},
                )
                assert created.status_code == 201, created.text
                endpoint_id = created.json()["id"]
                for n in range(12):
                    answer = await http.post("/v1/reports", json=_report(f"Twice Co {n}"))
                    assert answer.status_code == 201, answer.text

                async def all_sent() -> bool:
                    found = await _deliveries(http, endpoint_id)
                    created = [d for d in found if d["event_type"] == "round.created"]
                    return len(created) == 12 and {d["status"] for d in found} == {"delivered"}

                await until(all_sent, what="every delivery")
                deliveries = await _deliveries(http, endpoint_id)
    sent = Counter(r.id for r in receiver.received)
    assert set(sent) == {d["id"] for d in deliveries}
    assert set(sent.values()) == {1}, "a delivery was sent twice"
    assert all(len(d["attempts"]) == 1 for d in deliveries)

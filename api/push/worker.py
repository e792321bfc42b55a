"""Webhook workers: one dispatcher loop (change feed -> deliveries) and a few sender
loops (deliveries -> HTTP) per process, inside `serve` or as `dealgraph worker`.

Every process runs them; PostgreSQL shares the work out. The dispatcher that holds the
feed position's row lock dispatches, the others skip it (db/webhooks/feed.py), and each
sender claims deliveries with FOR UPDATE SKIP LOCKED (db/webhooks/queue.py). A process
starts from the position last committed, so a restart loses nothing and sends again at
most the deliveries that were in flight.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

import asyncpg
import httpx

from api.push import sender, signing
from api.push.events import events_of
from api.push.listener import Listener, Patience, listening, wait
from api.push.options import PushOptions
from db.infra.availability import PoolLimits
from db.infra.pool import open_pool
from db.infra.types import Pool
from db.webhooks.endpoints import list_enabled_endpoints
from db.webhooks.feed import (
    CHANGES_CHANNEL,
    DELIVERIES_CHANNEL,
    NewDelivery,
    insert_deliveries,
    lock_position,
    read_feed,
    save_position,
)
from db.webhooks.ids import MESSAGE, encode
from db.webhooks.queue import claim_due, record_attempt

logger = logging.getLogger("dealgraph.push")
_DATABASE_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)
# A connection may wait 10 s to come free; a statement may run 30 s (a dispatch renders
# a batch of rounds).
_LIMITS = PoolLimits(10.0, 30_000)


async def dispatch(pool: Pool, options: PushOptions) -> int:
    """Turn the feed's new changes into deliveries until it is drained or another process
    holds the position; how many changes it consumed."""
    consumed = 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            position = await lock_position(conn)
            if position is None:
                return consumed
            entries = await read_feed(conn, after=position, limit=options.batch)
            if not entries:
                return consumed
            endpoints = await list_enabled_endpoints(conn)
            wanted = {t for e in endpoints for t in e.events}
            deliveries: list[NewDelivery] = []
            if wanted:
                for event in await events_of(conn, entries):
                    deliveries.extend(
                        NewDelivery(e.id, event.type, event.subject_id, event.body)
                        for e in endpoints
                        if event.wanted_by(e)
                    )
            await insert_deliveries(conn, deliveries, retry_window=options.retry_window)
            await save_position(conn, entries[-1].position)
        consumed += len(entries)


async def send_one(pool: Pool, http: httpx.AsyncClient, options: PushOptions) -> bool:
    """Send one due delivery, holding its lock meanwhile; False when none is due."""
    async with pool.acquire() as conn, conn.transaction():
        due = await claim_due(conn)
        if due is None:
            return False
        message_id = encode(MESSAGE, due.id)
        headers = signing.headers(due.secrets, message_id, int(time.time()), due.body)
        outcome = await sender.attempt(http, due.url, due.body, headers, options)
        await record_attempt(
            conn,
            due,
            outcome,
            retry_in=options.retry_in(due.attempts + 1),
            disable_after=options.disable_after,
        )
    return True


async def _dispatching(pool: Pool, listener: Listener, options: PushOptions) -> None:
    patience = Patience(listener.bell(CHANGES_CHANNEL).waiter(), options.poll_interval)
    while True:
        consumed = 0
        try:
            if consumed := await dispatch(pool, options):
                listener.bell(DELIVERIES_CHANNEL).ring()
        except _DATABASE_ERRORS as e:
            logger.warning("webhook dispatch failed (will retry): %s", e)
        except Exception:
            # A loop that dies leaves webhooks silent; one that logs gets looked at.
            logger.exception("webhook dispatch failed (will retry)")
        await patience.wait(found=consumed > 0)


async def _sending(
    pool: Pool, http: httpx.AsyncClient, listener: Listener, options: PushOptions
) -> None:
    wake = listener.bell(DELIVERIES_CHANNEL).waiter()
    while True:
        try:
            while await send_one(pool, http, options):
                pass
        except _DATABASE_ERRORS as e:
            logger.warning("webhook delivery failed (will retry): %s", e)
        except Exception:
            logger.exception("webhook delivery failed (will retry)")
        await wait(wake, options.poll_interval)


@contextlib.asynccontextmanager
async def running_webhooks(url: str, options: PushOptions) -> AsyncIterator[None]:
    """Dispatch and send in the background while the block runs, on a pool of their own
    (a delivery holds its connection while it waits for the receiver)."""
    async with (
        # Opened even while the database is down, as the app's is: workers wait it out.
        open_pool(url, limits=_LIMITS, min_size=1, max_size=options.concurrency + 1) as pool,
        listening(url, (CHANGES_CHANNEL, DELIVERIES_CHANNEL)) as listener,
        sender.client(options) as http,
    ):
        tasks = [asyncio.create_task(_dispatching(pool, listener, options))]
        tasks += [
            asyncio.create_task(_sending(pool, http, listener, options))
            for _ in range(options.concurrency)
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

"""Keys with large budgets pay from a lease of their shared bucket held in each process
(api/guard/leases.py): a request of such a key costs no charge statement, a revoked key
is still refused within a second everywhere, and the processes together spend no more
than the key's budget."""

import asyncio
import time

import asyncpg
import httpx

from api.guard.keys import hash_secret
from api.guard.leases import RECHECK_SECONDS, lease_size
from db.access.keys import fetch_key_by_hash, revoke_key
from db.access.principal import Scope
from tests.api.keyed import ECHO, guarded_app, serving
from tests.conftest import bearer, create_key

# Cost 50: two requests a lease of this key's budget.
FIFTY = "{ rounds(first: 49) { edges { node { id } } } }"
PER_MINUTE = 10_000


async def _bucket(db_url: str, secret: str) -> float:
    conn = await asyncpg.connect(db_url)
    try:
        tokens: float = await conn.fetchval(
            "select b.tokens from rate_limit_buckets b join api_keys k on k.id = b.key_id"
            " where k.secret_hash = $1",
            hash_secret(secret),
        )
    finally:
        await conn.close()
    return tokens


async def test_a_leased_key_is_refused_within_a_second_of_its_revocation(db_url: str) -> None:
    secret = await create_key(db_url, scope=Scope.READ)
    async with serving(guarded_app(db_url)) as first, serving(guarded_app(db_url)) as second:
        for server in (first, second):
            # The first request finds the key, the second takes a lease.
            for _ in range(2):
                assert (await server.get(ECHO, headers=bearer(secret))).status_code == 200
        conn = await asyncpg.connect(db_url)
        try:
            key = await fetch_key_by_hash(conn, secret_hash=hash_secret(secret))
            assert key is not None
            await revoke_key(conn, key_id=key.id)
        finally:
            await conn.close()
        revoked_at = time.monotonic()
        await asyncio.sleep(RECHECK_SECONDS)
        for server in (first, second):
            answer = await server.get(ECHO, headers=bearer(secret))
            assert answer.status_code == 401
            graphql = await server.post("/graphql", json={"query": FIFTY}, headers=bearer(secret))
            assert graphql.status_code == 401
    assert time.monotonic() - revoked_at < RECHECK_SECONDS + 5


async def test_leases_are_taken_from_the_shared_bucket(db_url: str) -> None:
    secret = await create_key(db_url, scope=Scope.READ, rate_limit=PER_MINUTE)
    lease = lease_size(PER_MINUTE)
    assert lease == 100
    async with serving(guarded_app(db_url)) as http:
        for _ in range(3):
            answer = await http.get(ECHO, headers=bearer(secret))
            assert answer.status_code == 200
        # 3 points spent, and a lease taken: the bucket is short of both, give or take
        # what came back meanwhile.
        tokens = await _bucket(db_url, secret)
        assert tokens <= PER_MINUTE - lease
        # The headers count what the process holds as the key's: not the lease as spent.
        remaining = int(answer.headers["ratelimit"].split("r=")[1].split(";")[0])
        assert PER_MINUTE - 10 <= remaining <= PER_MINUTE


async def test_processes_on_leases_spend_no_more_than_the_budget(db_url: str) -> None:
    secret = await create_key(db_url, scope=Scope.READ, rate_limit=PER_MINUTE)
    statuses: list[int] = []
    async with serving(guarded_app(db_url)) as first, serving(guarded_app(db_url)) as second:
        started = time.monotonic()

        async def ask(http: httpx.AsyncClient) -> None:
            for _ in range(400):
                answer = await http.post("/graphql", json={"query": FIFTY}, headers=bearer(secret))
                statuses.append(answer.status_code)
                if answer.status_code == 429:
                    return

        await asyncio.gather(ask(first), ask(second), ask(first), ask(second))
        elapsed = time.monotonic() - started
    assert 429 in statuses
    spent = 50 * statuses.count(200)
    # The budget, plus what refilled while the requests ran: never more. At most a
    # lease per process is held unspent when the bucket runs dry.
    budget = PER_MINUTE + PER_MINUTE * elapsed / 60
    assert spent <= budget, (spent, budget, elapsed)
    assert spent >= PER_MINUTE - 2 * lease_size(PER_MINUTE) - 4 * 50, (spent, budget)

"""`dealgraph keys create|list|revoke`, on DATABASE_URL's server and on the embedded
default while `dealgraph serve` runs on it; and serve's demo key."""

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from click.testing import CliRunner, Result

from api.cli.main import main
from db.infra.migrate import load_migrations
from tests.api.keyed import guarded_app, serving
from tests.api.serving import free_port
from tests.api.test_embedded import postgres_processes
from tests.conftest import bearer, drop_database, fresh_database, with_database

SECRET = re.compile(r"dg_live_[A-Za-z0-9_-]{43}")
KEY_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DEALGRAPH = str(Path(sys.executable).parent / "dealgraph")
OPENAI = '{ organization(slug: "openai") { name } }'


async def _dealgraph(db_url: str, *args: str) -> Result:
    runner = CliRunner()
    # In a thread: the command runs its own event loop.
    return await asyncio.to_thread(runner.invoke, main, list(args), env={"DATABASE_URL": db_url})


async def test_create_list_revoke(db_url: str) -> None:
    created = await _dealgraph(
        db_url, "keys", "create", "--name", "partner x", "--scope", "read", "--rate-limit", "5"
    )
    assert created.exit_code == 0, created.output
    *said, secret = created.stdout.splitlines()
    assert SECRET.fullmatch(secret)
    assert secret not in "\n".join(said)
    key_id = KEY_ID.search(said[-2])
    assert key_id is not None

    listed = await _dealgraph(db_url, "keys", "list")
    assert listed.exit_code == 0, listed.output
    [line] = [line for line in listed.stdout.splitlines() if "partner x" in line]
    assert line.split()[0] == key_id[0]
    assert "read" in line
    assert "5/min" in line
    assert "active" in line
    assert secret not in listed.output
    assert secret[: len("dg_live_") + 4] in line

    async with serving(guarded_app(db_url)) as http:
        used = await http.get("/v1/rounds", headers=bearer(secret))
        assert used.status_code == 200
        assert used.headers["ratelimit-policy"] == '"key";q=5;w=60'
        revoked = await _dealgraph(db_url, "keys", "revoke", key_id[0])
        assert revoked.exit_code == 0, revoked.output
        assert (await http.get("/v1/rounds", headers=bearer(secret))).status_code == 401

    listed = await _dealgraph(db_url, "keys", "list")
    [line] = [line for line in listed.stdout.splitlines() if "partner x" in line]
    assert "revoked" in line
    # Revoking again changes nothing and is no error.
    again = await _dealgraph(db_url, "keys", "revoke", key_id[0])
    assert again.exit_code == 0


async def test_keys_may_record_the_source_kinds_they_are_given(db_url: str) -> None:
    kinds = "PRESS_ON_RECORD,COMPANY_STATEMENT"
    given = await _dealgraph(
        db_url, "keys", "create", "--name", "editorial", "--scope", "write",
        "--source-kinds", kinds.lower(),
    )  # fmt: skip
    assert given.exit_code == 0, given.output
    assert f"may record {kinds}" in given.stdout
    default = await _dealgraph(db_url, "keys", "create", "--name", "feed", "--scope", "write")
    admin = await _dealgraph(db_url, "keys", "create", "--name", "boss", "--scope", "admin")
    listed = (await _dealgraph(db_url, "keys", "list")).stdout.splitlines()
    shown = {line.split()[-1]: line.split()[-2] for line in listed}
    assert shown["editorial"] == kinds
    assert shown["feed"] == "PRESS_ANONYMOUS,PRESS_ON_RECORD,DATA_VENDOR"
    assert "COMPANY_STATEMENT" in shown["boss"]
    assert default.exit_code == admin.exit_code == 0
    bad = await _dealgraph(
        db_url, "keys", "create", "--name", "x", "--scope", "write", "--source-kinds", "RUMOUR"
    )
    assert bad.exit_code == 2
    assert "RUMOUR" in bad.output


async def test_bad_arguments_are_refused(db_url: str) -> None:
    unknown = await _dealgraph(db_url, "keys", "revoke", "00000000-0000-0000-0000-000000000000")
    assert unknown.exit_code == 1
    assert "no key matches" in unknown.output
    short = await _dealgraph(db_url, "keys", "revoke", "nop")
    assert short.exit_code == 1
    assert "too short" in short.output
    bad_scope = await _dealgraph(db_url, "keys", "create", "--name", "x", "--scope", "root")
    assert bad_scope.exit_code == 2
    zero = await _dealgraph(
        db_url, "keys", "create", "--name", "x", "--scope", "read", "--rate-limit", "0"
    )
    assert zero.exit_code == 2


async def _create(db_url: str, name: str) -> tuple[str, str]:
    """A new key's id and secret."""
    created = await _dealgraph(db_url, "keys", "create", "--name", name, "--scope", "read")
    assert created.exit_code == 0, created.output
    key_id = KEY_ID.search(created.stdout)
    assert key_id is not None
    return key_id[0], created.stdout.splitlines()[-1]


async def test_revoke_takes_what_keys_list_shows(fresh_db_url: str) -> None:
    first_id, _ = await _create(fresh_db_url, "first")
    second_id, _ = await _create(fresh_db_url, "second")
    listed = (await _dealgraph(fresh_db_url, "keys", "list")).stdout.splitlines()
    [first_line] = [line for line in listed if line.startswith(first_id)]
    # The secret's start with its ellipsis, as the second column shows it.
    shown = first_line.split()[1]
    assert shown.endswith("…")
    revoked = await _dealgraph(fresh_db_url, "keys", "revoke", shown)
    assert revoked.exit_code == 0, revoked.output
    assert first_id in revoked.stdout
    # A start of the id (random ids: 8 characters tell two apart).
    revoked = await _dealgraph(fresh_db_url, "keys", "revoke", second_id[:8])
    assert revoked.exit_code == 0, revoked.output
    assert second_id in revoked.stdout
    # The start every secret shares names both: refused, naming them.
    ambiguous = await _dealgraph(fresh_db_url, "keys", "revoke", "dg_live_")
    assert ambiguous.exit_code == 1
    assert "matches 2 keys" in ambiguous.output
    assert first_id in ambiguous.output
    assert second_id in ambiguous.output


async def test_migrate_and_seed_say_what_they_did(server_url: str) -> None:
    name = await fresh_database(server_url, None)
    url = with_database(server_url, name)
    try:
        first = await _dealgraph(url, "migrate")
        assert first.exit_code == 0, first.output
        names = [m.name.removesuffix(".sql") for m in load_migrations()]
        assert first.stdout == f"applied {', '.join(names)}\n"
        again = await _dealgraph(url, "migrate")
        assert again.stdout == "up to date\n"

        seeded = await _dealgraph(url, "seed")
        assert re.fullmatch(r"loaded the demo data set: [1-9][0-9]* rows\n", seeded.stdout)
        reseeded = await _dealgraph(url, "seed")
        assert reseeded.stdout == "the demo data set is there already: nothing loaded\n"
    finally:
        await drop_database(server_url, name)


def test_serve_on_an_empty_database_says_how_to_fill_it(fresh_db_url: str, tmp_path: Path) -> None:
    env = {**_env(tmp_path / "unused"), "DATABASE_URL": fresh_db_url}
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [DEALGRAPH, "serve", "--port", str(free_port())], env=env, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 60
        while "GraphQL: " not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    said = log.read_text()
    assert "`dealgraph seed` (with the same DATABASE_URL) loads the demo data set" in said
    assert "`dealgraph keys create --name me --scope write`" in said


# --- The embedded default ------------------------------------------------------------


@contextlib.contextmanager
def _embedded_dir() -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix="dealgraph-keys-", dir="/tmp"))
    # As root the embedded server runs as its own user, who must reach the data dir.
    base.chmod(0o755)
    try:
        yield base / "data"
    finally:
        for pid in postgres_processes(base):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(base, ignore_errors=True)


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return {**env, "DEALGRAPH_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}


@contextlib.contextmanager
def _serve(data_dir: Path, log: Path) -> Iterator[str]:
    """`dealgraph serve` on the embedded default, answering at the URL yielded."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [DEALGRAPH, "serve", "--port", str(port)], env=_env(data_dir), stdout=out, stderr=out
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, log.read_text()
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DEALGRAPH, *args],
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def _graphql(url: str, secret: str) -> httpx.Response:
    return httpx.post(f"{url}/graphql", json={"query": OPENAI}, headers=bearer(secret))


def _graphiql(url: str) -> str:
    return httpx.get(f"{url}/graphql", headers={"accept": "text/html"}).text


def test_keys_on_the_embedded_default_while_serve_runs(tmp_path: Path) -> None:
    logs = [tmp_path / f"serve-{i}.log" for i in range(3)]
    with _embedded_dir() as data_dir:
        with _serve(data_dir, logs[0]) as url:
            said = logs[0].read_text()
            assert "made a demo API key" in said
            # The banner names both faces, and where a browser finds each.
            assert f"GraphQL: {url}/graphql" in said
            assert f"(docs: {url}/docs)" in said
            [demo] = SECRET.findall(said)
            # The newcomer's path: the demo key works, and GraphiQL already has it.
            assert _graphql(url, demo).json()["data"] == {"organization": {"name": "OpenAI"}}
            assert f"Bearer {demo}" in _graphiql(url)

            # A second process finds the running server and uses it.
            created = _cli(data_dir, "keys", "create", "--name", "partner", "--scope", "read")
            assert created.returncode == 0, created.stderr
            secret = created.stdout.splitlines()[-1]
            assert SECRET.fullmatch(secret)
            assert _graphql(url, secret).status_code == 200
            listed = _cli(data_dir, "keys", "list")
            assert listed.returncode == 0, listed.stderr
            assert [line.split()[-1] for line in listed.stdout.splitlines()] == ["demo", "partner"]
            assert demo not in listed.stdout
            assert secret not in listed.stdout
        assert ((data_dir / "demo-key").stat().st_mode & 0o777) == 0o600

        # Later starts show the same demo key rather than making another.
        with _serve(data_dir, logs[1]) as url:
            said = logs[1].read_text()
            assert "made a demo API key" not in said
            assert SECRET.findall(said) == [demo]
            demo_id = _cli(data_dir, "keys", "list").stdout.split()[0]
            assert _cli(data_dir, "keys", "revoke", demo_id).returncode == 0
            assert _graphql(url, demo).status_code == 401

        # A revoked demo key stays revoked: no new one, and GraphiQL starts empty.
        with _serve(data_dir, logs[2]) as url:
            said = logs[2].read_text()
            assert "demo API key was revoked" in said
            assert not SECRET.findall(said)
            assert "Bearer dg_live_" not in _graphiql(url)

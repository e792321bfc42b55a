"""The README's two commands, as root, in a copy of the project inside a mode-0700
directory (as a clone in /root is), with no variable set: `uv run dealgraph serve` answers
with its demo key and `uv run pytest` passes (a few modules of it, to bound the time).

The copy holds the working tree's files (tracked, and new ones git does not ignore), so
that what is tested is what is being changed, committed or not.
"""

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.cli.embedded import SHARED_ROOT, server_dir
from tests import figures
from tests.api.serving import ROOT, free_port

UV = os.environ.get("UV") or shutil.which("uv")
# Modules that start no server of their own: they run on the embedded PostgreSQL that
# tests/conftest.py starts without DATABASE_URL, the path under test.
SUBSET = ["tests/api/test_health.py", "tests/schema/test_organizations.py"]
OPENAI = '{ organization(slug: "openai") { name } }'

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="only root meets private directories"),
    pytest.mark.skipif(UV is None, reason="uv is not on PATH"),
]


def _environment() -> dict[str, str]:
    """A newcomer's shell: none of the variables that select a database, a data directory
    or another virtualenv."""
    unset = {
        "DATABASE_URL",
        "DEALGRAPH_DATA_DIR",
        "VIRTUAL_ENV",
        "UV_PROJECT_ENVIRONMENT",
        "PROMETHEUS_MULTIPROC_DIR",
    }
    return {k: v for k, v in os.environ.items() if k not in unset}


@pytest.fixture(scope="module")
def clone() -> Iterator[Path]:
    private = Path(tempfile.mkdtemp(prefix="dealgraph-private-", dir="/tmp"))
    assert private.stat().st_mode & 0o777 == 0o700
    project = private / "dealgraph"
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    )
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = ROOT / name
        if source.is_file():  # a file deleted but not yet staged is listed too
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, project / name)
    assert UV is not None
    synced = subprocess.run(
        [UV, "sync", "--frozen", "--quiet"],
        cwd=project,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert synced.returncode == 0, synced.stderr
    try:
        yield project
    finally:
        shutil.rmtree(server_dir(project / ".dealgraph"), ignore_errors=True)
        shutil.rmtree(private)


@contextlib.contextmanager
def _serve(project: Path, log: Path) -> Iterator[tuple[str, "subprocess.Popen[bytes]"]]:
    assert UV is not None
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [UV, "run", "dealgraph", "serve", "--port", str(port)],
            cwd=project,
            env=_environment(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, log.read_text()
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield url, process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _owned_by_others(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if p.lstat().st_uid != 0]


def test_serve_as_root_in_a_private_directory(clone: Path, tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    started = time.monotonic()
    with _serve(clone, log) as (url, process):
        ready = time.monotonic() - started
        # The README's way to the demo key.
        key = (clone / ".dealgraph" / "demo-key").read_text().strip()
        answer = httpx.post(
            f"{url}/graphql", json={"query": OPENAI}, headers={"authorization": f"Bearer {key}"}
        )
    assert answer.json()["data"] == {"organization": {"name": "OpenAI"}}
    assert process.returncode == 0, log.read_text()
    said = log.read_text()
    place = server_dir(clone / ".dealgraph")
    assert place.parent == SHARED_ROOT
    assert f"keeps the data of {clone / '.dealgraph'} in {place}" in said
    assert "Traceback" not in said
    # Nothing in the private directory belongs to the server's user.
    assert _owned_by_others(clone) == []
    assert (clone / ".dealgraph").stat().st_mode & 0o777 == 0o700
    figures.record(f"serve as root in a 0700 directory: answering after {ready:.1f} s")


def test_pytest_as_root_in_a_private_directory(clone: Path) -> None:
    assert UV is not None
    started = time.monotonic()
    tested = subprocess.run(
        [UV, "run", "pytest", "-q", "-p", "no:cacheprovider", *SUBSET],
        cwd=clone,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    took = time.monotonic() - started
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert " passed" in tested.stdout
    assert _owned_by_others(clone) == []
    figures.record(f"pytest as root in a 0700 directory ({len(SUBSET)} modules): {took:.1f} s")

"""`dealgraph serve` as a real process on loopback, the JSON lines it logs, and its metrics."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
from prometheus_client.parser import text_string_to_metric_families

DEALGRAPH = str(Path(sys.executable).parent / "dealgraph")
ROOT = Path(__file__).parents[2]


def environment(**values: str) -> dict[str, str]:
    """This process's environment without the variables a test sets on purpose."""
    unset = {"DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR"}
    kept = {k: v for k, v in os.environ.items() if k not in unset}
    return {**kept, "PYTHONUNBUFFERED": "1", **values}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@dataclass(frozen=True)
class Server:
    url: str
    process: "subprocess.Popen[bytes]"
    stdout: Path
    stderr: Path

    def log(self) -> list[dict[str, Any]]:
        """Every line on stderr, each a JSON object (a line that is not fails the test)."""
        text = self.stderr.read_text()
        # A line being written has no end yet.
        complete = text if text.endswith("\n") else text.rpartition("\n")[0]
        return [orjson.loads(line) for line in complete.splitlines()]

    def requests(self) -> list[dict[str, Any]]:
        return [line for line in self.log() if line["logger"] == "dealgraph.access"]

    def request(self, request_id: str) -> dict[str, Any]:
        [line] = [r for r in self.requests() if r["request_id"] == request_id]
        return line

    def worker_pids(self) -> set[int]:
        return {
            line["pid"] for line in self.log() if line["message"] == "Application startup complete."
        }

    def output(self) -> str:
        return self.stdout.read_text() + self.stderr.read_text()


@contextlib.contextmanager
def serve(directory: Path, env: dict[str, str], *args: str, processes: int = 1) -> Iterator[Server]:
    """Start `dealgraph serve ARGS`, wait until `processes` servers have started, and stop
    it with SIGTERM afterwards."""
    port = free_port()
    stdout, stderr = directory / "serve.out", directory / "serve.err"
    command = [DEALGRAPH, "serve", "--port", str(port), *args]
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=err)
    server = Server(f"http://127.0.0.1:{port}", process, stdout, stderr)
    try:
        deadline = time.monotonic() + 90
        # uvicorn says its application started before it binds the port: wait for both.
        while len(server.worker_pids()) < processes or not _accepts(port):
            assert process.poll() is None, server.output()
            assert time.monotonic() < deadline, "serve did not start:\n" + server.output()
            time.sleep(0.1)
        yield server
    finally:
        stop(process)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def stop(process: "subprocess.Popen[bytes]") -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


def metric(text: str, name: str, **labels: str) -> float:
    """The sample `name` with these labels in a /metrics answer; 0 when there is none yet."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


async def scrape(url: str) -> str:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{url}/metrics")
    assert response.status_code == 200, response.text
    return response.text

"""What the benchmarks share: free ports, servers started and stopped, wrk runs."""

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def server(
    command: list[str], *, port: int, env: Mapping[str, str], ready_path: str, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A server process, waited for until `ready_path` answers, stopped on exit."""
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 (commands of our own)
            command,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{command[0]} exited early; see {log}")
                with contextlib.suppress(httpx.HTTPError):
                    if (
                        httpx.get(f"http://127.0.0.1:{port}{ready_path}", timeout=1).status_code
                        < 500
                    ):
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{command[0]} did not answer in 60 s; see {log}")
                time.sleep(0.2)
            yield process
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@dataclass(frozen=True, slots=True)
class Load:
    requests_per_second: float
    p99_ms: float
    mean_ms: float
    errors: int


class WrkOutputError(RuntimeError):
    """wrk ran but its output lacks a figure (no request answered in time, say)."""


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def _figure(pattern: str, out: str, what: str, url: str) -> str:
    found = re.search(pattern, out, re.MULTILINE)
    if found is None:
        raise WrkOutputError(f"wrk printed no {what} for {url}; its output:\n{out}")
    return found[1]


def wrk(
    url: str,
    *,
    body: str | None = None,
    headers: Mapping[str, str] | None = None,
    seconds: int = 10,
    connections: int = 16,
) -> Load:
    """Drive `url` with wrk (POST when there is a body); its throughput and latencies.

    A request gets 30 s before wrk gives up on it, not its default 2 s: a slow answer
    then counts in the latencies instead of vanishing from them as a timeout."""
    binary = shutil.which("wrk")
    assert binary is not None, "wrk is missing: bench/run installs it"
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        if body is not None:
            script.write('wrk.method = "POST"\n')
            script.write(f"wrk.body = [[{body}]]\n")
            script.write('wrk.headers["Content-Type"] = "application/json"\n')
        for name, value in (headers or {}).items():
            script.write(f'wrk.headers["{name}"] = "{value}"\n')
        script.flush()
        command = [
            binary,
            f"-t{min(2, connections)}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "30s",
            "--latency",
            "-s",
            script.name,
            url,
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    out = done.stdout + done.stderr
    if done.returncode != 0:
        raise WrkOutputError(f"wrk exited with {done.returncode} for {url}; its output:\n{out}")
    rate = float(_figure(r"Requests/sec:\s+([0-9.]+)", out, "request rate", url))
    # Anchored: a thread's spread column can end in "99%" too ("68.99%"). wrk pads a
    # figure in seconds with a space ("1.34s ").
    p99 = _ms(_figure(r"^\s*99%\s+(\S+)\s*$", out, "99th percentile", url))
    mean = _ms(_figure(r"Latency\s+(\S+)", out, "mean latency", url))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    timeouts = re.search(r"Socket errors: .*timeout (\d+)", out)
    failed = (int(errors[1]) if errors else 0) + (int(timeouts[1]) if timeouts else 0)
    return Load(rate, p99, mean, failed)

"""One run of Debian's ``redis-benchmark`` (redis-tools): a compiled client sending one command.

redis-benchmark is closed loop: ``-c`` connections each keep one request in flight, ``-n`` requests in
all. It has no rate limit, so a rate is reached by choosing the concurrency (bench/probes/capacity.py
sweeps it). With ``--csv`` it prints one header line and one row: throughput and latency quantiles in
milliseconds (3 decimals); its progress goes to stderr.
"""

from __future__ import annotations

import csv
import io
import resource
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

import redis

from bench.errors import RunError
from bench.images.bundled import REDIS_BENCHMARK, bundled_tool
from bench.topology import Endpoint

TOOL = REDIS_BENCHMARK
#: How redis-benchmark is started: its path, or a loader and its arguments before it.
Tool = tuple[str, ...]
INSTALL_HINT = "install Debian's redis-tools (`apt-get install -y redis-tools`; make test does as root)"
#: A point the server does not finish in this long has stalled: the probe stops it and fails.
POINT_TIMEOUT_S = 60.0
# CSV columns (redis-benchmark 6.2+) and the point's fields they become.
CSV_FIELDS = {
    "rps": "rps",
    "avg_latency_ms": "latency_ms_mean",
    "p50_latency_ms": "latency_ms_p50",
    "p95_latency_ms": "latency_ms_p95",
    "p99_latency_ms": "latency_ms_p99",
    "max_latency_ms": "latency_ms_max",
}


@dataclass(frozen=True)
class BenchPoint:
    """One redis-benchmark run at one concurrency, with the CPU both sides spent on it."""

    clients: int
    requests: int
    rps: float
    latency_ms_mean: float
    latency_ms_p50: float
    latency_ms_p95: float
    latency_ms_p99: float
    latency_ms_max: float
    elapsed_s: float
    client_cpu_s: float  # redis-benchmark's user + system CPU (its rusage)
    server_cpu_s: float | None  # the node's used_cpu_user + used_cpu_sys delta (INFO cpu)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def find_tool() -> tuple[Tool | None, str]:
    """``(tool, version)`` of redis-benchmark (on PATH, else the loadgen image's own copy,
    bench/images/bundled.py), or ``(None, why it cannot be used)``."""
    path = shutil.which(TOOL)
    tool = (path,) if path is not None else bundled_tool()
    if tool is None:
        return None, f"{TOOL} not found on PATH; {INSTALL_HINT}"
    try:
        out = subprocess.run([*tool, "--version"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"{tool[-1]} --version failed: {exc}"
    version = out.stdout.strip()
    if out.returncode != 0 or not version:
        return None, f"{tool[-1]} --version failed (exit {out.returncode})"
    return tool, version


def parse_csv(text: str) -> dict[str, float]:
    """redis-benchmark ``--csv`` output: the row's throughput and latencies (ms); RunError if absent."""
    rows = list(csv.DictReader(io.StringIO(text.strip())))
    if len(rows) != 1:
        raise RunError(f"{TOOL} printed {len(rows)} CSV rows, expected 1: {text.strip()[:200]!r}")
    try:
        return {name: float(rows[0][column]) for column, name in CSV_FIELDS.items()}
    except (KeyError, TypeError, ValueError):
        raise RunError(f"{TOOL} CSV lacks {', '.join(CSV_FIELDS)}: {text.strip()[:200]!r}") from None


def command_argv(
    tool: Tool, endpoint: Endpoint, clients: int, requests: int, command: list[str]
) -> list[str]:
    """The redis-benchmark command line for ``command`` against ``endpoint`` (no password in it)."""
    parts = urlsplit(endpoint.url)
    db = (parts.path or "/0").lstrip("/") or "0"
    host, port = parts.hostname or "127.0.0.1", str(parts.port or 6379)
    return [
        *tool,
        "-h",
        host,
        "-p",
        port,
        "--dbnum",
        db,
        "-c",
        str(clients),
        "-n",
        str(requests),
        "--csv",
        # rediss://: the same TLS files as the harness's own connections (redis-benchmark --tls ...)
        *(endpoint.policy.tls.benchmark_args() if endpoint.tls else ()),
        *command,
    ]


def _server_cpu_s(client: redis.Redis) -> float | None:
    try:
        info = client.info("cpu")
    except redis.RedisError:
        return None
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def _children_cpu_s() -> float:
    # Reaped children only: the spawned servers are still running, so between two readings around one
    # redis-benchmark the delta is that process's own user + system time.
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_point(tool: Tool, endpoint: Endpoint, command: list[str], clients: int, requests: int) -> BenchPoint:
    """Run redis-benchmark once; RunError with its stderr if it fails or stalls."""
    argv = command_argv(tool, endpoint, clients, requests, command)
    client = endpoint.client()
    try:
        server_before = _server_cpu_s(client)
        children_before = _children_cpu_s()
        started = time.perf_counter()
        proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
        )
        try:
            stdout, stderr = proc.communicate(timeout=POINT_TIMEOUT_S)
        except BaseException:  # a stall, Ctrl-C: the child goes with us
            proc.kill()
            proc.wait()
            raise
        elapsed_s = time.perf_counter() - started
        children_after = _children_cpu_s()
        server_after = _server_cpu_s(client)
    except subprocess.TimeoutExpired:
        raise RunError(
            f"{TOOL} -c {clients} did not finish {requests:,} requests in {POINT_TIMEOUT_S:g} s"
        ) from None
    finally:
        client.close()
    if proc.returncode != 0:
        tail = stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise RunError(f"{TOOL} failed (exit {proc.returncode}): {tail[0][:200]}")
    figures = parse_csv(stdout.decode(errors="replace"))
    return BenchPoint(
        clients=clients,
        requests=requests,
        elapsed_s=round(elapsed_s, 4),
        client_cpu_s=round(children_after - children_before, 4),
        server_cpu_s=None
        if server_before is None or server_after is None
        else round(server_after - server_before, 4),
        **figures,
    )

"""Workers the master does not start: `lbbench compare --remote-workers N` with `lbbench-worker` loops.

The workers run here, on 127.0.0.1, but as a remote host's would: started on their own, without
$LBBENCH_LOAD_CONFIG, each serving every phase of the run.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import redis

from analysis.load import hdr
from bench.run.loadconfig import LOAD_CONFIG_ENV
from bench.serverbinary import find_server_binary
from bench.topology.processes import LocalServers
from runfiles import RunFiles
from tests.helpers import reaped

LBBENCH = [sys.executable, "-m", "lbbench"]
# The console script pyproject installs, next to this interpreter.
LBBENCH_WORKER = [str(Path(sys.executable).with_name("lbbench-worker"))]
RATE = 400.0


def master_port() -> int:
    """A free port below the ephemeral range: a worker retrying an ephemeral one on this host can
    end up holding it (TCP self-connect; bench/run/compare.py remote_worker_notes)."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for port in random.sample(range(10_000, low), 100):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below the ephemeral range")


def worker_env() -> dict[str, str]:
    """This process's environment as a remote host would have it: no load config."""
    return {k: v for k, v in os.environ.items() if k != LOAD_CONFIG_ENV}


def start_worker(port: int, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*LBBENCH_WORKER, "--master-host", "127.0.0.1", "--master-port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=worker_env(),
    )


def stop(proc: subprocess.Popen[str], signum: int = signal.SIGTERM) -> tuple[int, str, str]:
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=20)
    return proc.returncode, out, err


def locust_children(proc: subprocess.Popen[str]) -> list[psutil.Process]:
    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    return [c for c in children if "locust" in " ".join(c.cmdline())]


def compare(out: Path, port: int, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [
        *LBBENCH, "compare", "--players", "20000", "--shards", "4", "--users", "4",
        "--remote-workers", "2", "--master-bind", f"127.0.0.1:{port}", "--out", str(out), *args,
    ]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def remote_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One naive+cached compare at 400 req/s served by two lbbench-worker loops."""
    port = master_port()
    out = tmp_path_factory.mktemp("remote") / "run"
    with reaped(start_worker(port)) as one, reaped(start_worker(port)) as two:
        result = compare(out, port, "--duration", "4", "--rps", str(RATE), "--read-write-ratio", "100")
        stopped = [stop(one), stop(two)]
    assert result.returncode == 0, result.stderr
    return {"out": out, "result": result, "stopped": stopped}


def test_two_remote_workers_each_join_every_phase(remote_run: dict[str, Any]) -> None:
    for returncode, out, err in remote_run["stopped"]:
        assert returncode == 0, err
        joined = [line for line in out.splitlines() if line.startswith("lbbench-worker: joined ")]
        assert [line.split()[2] for line in joined] == ["naive", "cached"], out
        assert all(" of 2 (400 req/s in total, 4 s)" in line for line in joined), out
    stderr = remote_run["result"].stderr
    assert "2 remote Locust workers (master on 127.0.0.1:" in stderr
    # The spawned servers listen on 127.0.0.1: workers on other hosts could not reach them.
    assert "note: shard-0 is at 127.0.0.1, so remote workers must run on this host" in stderr


def test_summary_counts_both_workers_and_meets_the_rate(remote_run: dict[str, Any]) -> None:
    summary = json.loads((remote_run["out"] / "summary.json").read_text())
    for name, s in summary["strategies"].items():
        assert s["workers"] == 2, name
        assert abs(s["rps"] - RATE) <= 0.05 * RATE, (name, s["rps"])
        assert s["cross_check"]["agree"] is True, (name, s["cross_check"])
    assert "from 2 load-generator processes" in (remote_run["out"] / "report.md").read_text()


@pytest.mark.parametrize("strategy", ["naive", "cached"])
def test_both_workers_report_and_their_histograms_merge_exactly(
    remote_run: dict[str, Any], strategy: str
) -> None:
    run_dir: Path = remote_run["out"]
    entries = RunFiles(run_dir).phase(strategy).read_workers()
    assert sorted(e["worker"] for e in entries) == ["w0", "w1"]
    assert len({e["pid"] for e in entries}) == 2
    requests = [e["requests"] for e in entries]
    assert all(n > 0 for n in requests), requests
    # Each paced half the rate: the interleaved slots differ by at most one.
    assert max(requests) - min(requests) <= 1, requests
    total = sum(requests)
    assert hdr.merged(run_dir, strategy, "corrected").get_total_count() == total
    assert sum(h.get_total_count() for _, h in hdr.per_interval(run_dir, strategy, "corrected")) == total
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["strategies"][strategy]["requests"] == total


def test_remote_workers_that_never_come_fail_the_phase_in_one_line(tmp_path: Path) -> None:
    out = tmp_path / "run"
    started = time.monotonic()
    result = compare(
        out, master_port(), "--duration", "3", "--strategies", "naive", "--remote-workers-wait", "2"
    )
    assert time.monotonic() - started < 30
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == "lbbench: failed: naive: expected 2 remote workers, 0 connected within 2 s", lines
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [], "nothing half-written"


def test_more_workers_than_expected_fail_the_phase(tmp_path: Path) -> None:
    port = master_port()
    workers = [start_worker(port) for _ in range(3)]
    try:
        # All three wait for the master, so all three are connected when the load starts.
        result = compare(tmp_path / "run", port, "--duration", "2", "--strategies", "naive")
    finally:
        for worker in workers:
            stop(worker)
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "lbbench: failed: naive: 3 workers connected, 2 expected; more lbbench-workers than --remote-workers?"
    )


def wait_for_locust_worker(proc: subprocess.Popen[str]) -> list[psutil.Process]:
    deadline = time.monotonic() + 20
    while not (children := locust_children(proc)):
        assert time.monotonic() < deadline, "no Locust worker started"
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    return children


def gone(children: list[psutil.Process]) -> bool:
    alive = [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    return not alive


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_lbbench_worker_stops_its_worker_and_exits_0_on_a_signal(signum: int) -> None:
    with reaped(start_worker(master_port())) as proc:
        children = wait_for_locust_worker(proc)
        started = time.monotonic()
        returncode, _, err = stop(proc, signum)
        assert time.monotonic() - started < 10
    assert returncode == 0, err
    assert err.strip().splitlines()[-1] == "lbbench-worker: stopped after 0 phases"
    assert gone(children)


def test_a_killed_lbbench_worker_takes_its_worker_along() -> None:
    with reaped(start_worker(master_port())) as proc:
        children = wait_for_locust_worker(proc)
        proc.kill()
        proc.communicate(timeout=10)
    deadline = time.monotonic() + 10
    while not gone(children):  # the parent-death signal, not a handler of ours
        assert time.monotonic() < deadline, "the Locust worker outlived its lbbench-worker"
        time.sleep(0.1)


def test_lbbench_worker_gives_up_after_max_idle_without_a_master() -> None:
    with reaped(start_worker(master_port(), "--max-idle-s", "1")) as proc:
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 1, err
    assert "lbbench-worker: no phase from the master at 127.0.0.1:" in err.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--master-port", "0"], "--master-port must be between 1 and 65535, got 0"),
        (["--master-port", "x"], "--master-port must be an integer, got 'x'"),
        (["--master-host", " "], "--master-host must not be empty"),
        (["--max-idle-s", "0s"], "--max-idle-s must be positive, got 0"),
        (
            ["--max-idle-s", "-1"],
            "--max-idle-s: not a time: '-1' (e.g. 90s, 1m30s, 500ms; a bare number is in s)",
        ),
    ],
)
def test_lbbench_worker_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = subprocess.run([*LBBENCH_WORKER, *args], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == f"lbbench-worker: error: {message}"


class Recorder:
    """A TCP relay in front of the master's port that keeps every byte it passes, both ways."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.seen = bytearray()
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=2)
            except OSError:
                client.close()  # the master is not up yet: the worker connects again
                continue
            upstream.settimeout(None)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                with self.lock:
                    self.seen += data
                sink.sendall(data)
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.listener.close()


PASSWORD = "wire-s3cret-7f3a"


@pytest.fixture
def password_servers() -> Iterator[list[str]]:
    """Two shards and a cache node the test starts, with the user ``app`` and one password; their URLs."""
    servers = LocalServers(find_server_binary(), ["s0", "s1", "c"])
    started = servers.start()
    try:
        for server in started:
            client = redis.Redis(port=server.port, socket_timeout=2, retry_on_error=[])
            client.execute_command("ACL", "SETUSER", "app", "on", f">{PASSWORD}", "~*", "&*", "+@all")
            client.close()
        yield [f"redis://app:{PASSWORD}@127.0.0.1:{server.port}" for server in started]
    finally:
        servers.stop()


def password_compare(
    urls: list[str], out: Path, *worker_args: str
) -> tuple[subprocess.CompletedProcess[str], str, bytes]:
    """A compare on ``urls``, one remote worker behind a Recorder: (result, its stdout, bytes seen)."""
    *shards, cache = urls
    port = master_port()
    relay = Recorder(port)
    cmd = [
        *LBBENCH, "compare", *[a for url in shards for a in ("--shard-url", url)], "--cache-url", cache,
        "--players", "5000", "--duration", "2", "--rps", "100", "--users", "4", "--remote-workers", "1",
        "--strategies", "naive",
        "--master-bind", f"127.0.0.1:{port}", "--out", str(out),
    ]  # fmt: skip
    try:
        with reaped(start_worker(relay.port, *worker_args)) as worker:
            result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
            _, worker_out, _ = stop(worker)
    finally:
        relay.close()
    return result, worker_out, bytes(relay.seen)


def test_no_password_crosses_the_master_worker_channel(password_servers: list[str], tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")
    result, out, seen = password_compare(password_servers, tmp_path / "run", "--password-file", str(secret))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "note: the master sends remote workers no password" in result.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    for name, s in summary["strategies"].items():
        assert (s["valid"], s["failures"], s["workers"]) == (True, 0, 1), name
    assert out.count("lbbench-worker: joined ") == 1, out
    # The config did cross this relay (the user and the redacted password are in it); the password did not.
    assert b"redis://app:***@127.0.0.1:" in seen
    assert PASSWORD.encode() not in seen


def test_a_worker_without_the_password_fails_the_phase_in_one_line(
    password_servers: list[str], tmp_path: Path
) -> None:
    result, _, seen = password_compare(password_servers, tmp_path / "run")
    assert result.returncode == 1, result.stderr[-2000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "lbbench: failed: naive: a worker cannot run the phase: redis://app:***@127.0.0.1:"
    )
    assert last.endswith(
        "needs a password: set $LBBENCH_REDIS_PASSWORD on the worker's host, or start"
        " lbbench-worker with --password-file"
    )
    assert PASSWORD not in result.stderr
    assert PASSWORD.encode() not in seen
    assert not (tmp_path / "run").exists(), "nothing half-written"

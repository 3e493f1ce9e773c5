"""Spawned servers: up, down, and never orphaned (normal exit, exception, SIGINT, SIGKILL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from bench.errors import TopologyError, UsageError
from bench.topology import TopologyOptions, open_topology
from tests.helpers import alive, reaped, started_processes

CHILD = """
import sys, time
from bench.threads import install_teardown_handlers
from bench.topology import TopologyOptions, open_topology
install_teardown_handlers()
with open_topology(TopologyOptions(shards=3)) as topo:
    import psutil
    print(" ".join(str(c.pid) for c in psutil.Process().children()), flush=True)
    time.sleep(600)
"""


def server_pids() -> set[int]:
    # Running ones only: as a subreaper (tests/conftest.py) this process also holds the zombies of
    # servers whose parent an earlier test killed.
    return started_processes()


def wait_gone(pids: set[int], timeout_s: float = 10.0) -> set[int]:
    deadline = time.monotonic() + timeout_s
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive(pids)


def test_up_then_down_leaves_no_server(server_bin: str) -> None:
    with open_topology(TopologyOptions(shards=4, server_bin=server_bin)) as topo:
        pids = server_pids()
        assert len(pids) == 5
        assert len(topo.nodes) == 5
        for endpoint in topo.nodes:
            assert endpoint.url.startswith("redis://127.0.0.1:")
            assert endpoint.client().ping()
        ports = [int(e.url.rsplit(":", 1)[1]) for e in topo.nodes]
    assert wait_gone(pids) == set()
    for port in ports:
        with pytest.raises(redis.ConnectionError):
            redis.Redis(port=port, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0)).ping()


def test_exception_inside_the_block_still_tears_down(server_bin: str) -> None:
    pids: set[int] = set()
    options = TopologyOptions(shards=2, server_bin=server_bin)

    def crash_inside() -> None:
        nonlocal pids
        with open_topology(options):
            pids = server_pids()
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        crash_inside()
    assert len(pids) == 3
    assert wait_gone(pids) == set()


def test_a_binary_that_is_no_server_is_refused() -> None:
    with (
        pytest.raises(UsageError, match="does not look like"),
        open_topology(TopologyOptions(shards=2, server_bin="/bin/false")),
    ):
        pass


def test_a_server_that_dies_at_start_is_reported_with_its_log(tmp_path: Path) -> None:
    fake = tmp_path / "fake-server"
    fake.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = --version ]; then echo "Redis server v=9.9.9 sha=0"; exit 0; fi\n'
        'while [ "$1" != --logfile ]; do shift; done\n'
        'echo "FATAL: cannot start, test says so" > "$2"; exit 3\n'
    )
    fake.chmod(0o755)
    before = server_pids()
    with (
        pytest.raises(TopologyError, match="exited with code 3: FATAL: cannot start"),
        open_topology(TopologyOptions(shards=3, server_bin=str(fake))),
    ):
        pass
    assert server_pids() - before == set()


def ignore_sigint() -> None:
    """What a non-interactive shell does to a background job (`cmd &`), and so to everything it starts."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_parent_death_takes_servers_along(sig: int) -> None:
    # SIGINT arrives ignored, as under `bash .ci/run &`: the process must still act on Ctrl-C.
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=ignore_sigint,  # noqa: PLW1509 - the disposition must be set before exec
    )
    with reaped(child):
        assert child.stdout is not None
        pids = {int(p) for p in child.stdout.readline().split()}
        assert len(pids) == 4
        assert alive(pids) == pids
        os.kill(child.pid, sig)
        child.wait(timeout=20)
        assert wait_gone(pids) == set()

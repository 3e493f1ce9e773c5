"""`--provider docker` against a real Docker engine: a compare end to end, limits, teardown on every path."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import redis
from docker import DockerClient

from bench.images.engine import (
    LABEL_OWNER_PID,
    LABEL_PROJECT,
    LABEL_ROLE,
    LABEL_RUN,
    PROJECT,
    run_labels,
)
from bench.images.serverimage import resolve_image
from bench.keys import Keys
from bench.seeding.seed import seed
from bench.serverbinary import REDIS_TOOLS_SERVER
from bench.strategies import get_strategy
from bench.topology import TopologyOptions, open_topology
from bench.topology.containers.nodes import proxy_processes, remove_orphans
from tests.integration.test_cli import LBBENCH, lbbench
from tests.integration.test_strategies import all_rows
from tests.oracle import oracle_top

pytestmark = [pytest.mark.docker, pytest.mark.slow]

RELAY_CHARGE_WAIT_S = 15.0  # relayed requests until the proxies' CPU counters move at all


def run_containers(client: DockerClient, run_id: str) -> list[str]:
    """Names of every container (running or not) labelled with ``run_id``."""
    return [str(c.name) for c in client.containers.list(all=True, filters={"label": f"{LABEL_RUN}={run_id}"})]


def owned_by(client: DockerClient, pid: int) -> list[str]:
    return [
        str(c.name) for c in client.containers.list(all=True, filters={"label": f"{LABEL_OWNER_PID}={pid}"})
    ]


def test_compare_on_containers_counts_exactly_and_leaves_nothing(
    docker_engine: DockerClient, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    result = lbbench(
        "compare", "--provider", "docker", "--players", "20000", "--duration", "3", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    meta = json.loads((out / "meta.json").read_text())
    topology = meta["topology"]
    assert topology["provider"] == "docker"
    assert topology["network_mode"] == "host"
    assert topology["userland_proxy"] is False
    assert topology["image_id"].startswith("sha256:")
    assert topology["engine_version"] == docker_engine.version()["Version"]
    assert run_containers(docker_engine, topology["docker_run_id"]) == []
    summary = json.loads((out / "summary.json").read_text())
    naive, cached = summary["strategies"]["naive"], summary["strategies"]["cached"]
    assert naive["redis_commands_per_request"] == 10.0
    assert cached["redis_commands_per_request"] == 1.0
    for section in (naive, cached):
        assert section["cross_check"] == {"commands": 1.0, "bytes_out": 1.0, "bytes_in": 1.0, "agree": True}
    assert "Containers: image `" in (out / "report.md").read_text()


def test_tls_containers_refuse_the_clear_and_a_compare_over_tls_counts_exactly(
    docker_engine: DockerClient, tmp_path: Path
) -> None:
    if not Path(REDIS_TOOLS_SERVER).is_file() and os.environ.get("LBBENCH_REQUIRE_REDIS_BENCHMARK") != "1":
        pytest.skip("no TLS server to build the image from: `make tools` installs redis-tools")
    with open_topology(TopologyOptions(provider="docker", shards=1, tls=True)) as topology:
        assert topology.cache.url.startswith("rediss://127.0.0.1:")
        assert topology.details["tls"] is True
        assert topology.details["image"].startswith("lbbench/redis-tls:")
        assert topology.cache.client().ping()
        port = int(topology.cache.url.rsplit(":", 1)[1])
        plain = redis.Redis(port=port, socket_timeout=1, socket_connect_timeout=1, retry_on_error=[])
        with pytest.raises(redis.ConnectionError):
            plain.ping()
        certificates = Path(topology.policy.tls.ca_cert or "").parent
        assert (certificates / "server.key").is_file()
    assert not certificates.exists(), "the run's CA goes with its containers"
    out = tmp_path / "run"
    result = lbbench(
        "compare", "--provider", "docker", "--tls", "--players", "5000", "--shards", "3", "--duration", "2",
        "--rps", "200", "--capacity-s", "0", "--strategies", "cached", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    for name, section in summary["strategies"].items():
        assert section["valid"] is True, (name, section["invalid_reason"])
        assert section["cross_check"] == {"commands": 1.0, "bytes_out": 1.0, "bytes_in": 1.0, "agree": True}
    topology_meta = json.loads((out / "meta.json").read_text())["topology"]
    assert topology_meta["tls"] is True
    assert run_containers(docker_engine, topology_meta["docker_run_id"]) == []


def test_bridge_network_with_limits_serves_the_oracle_top(docker_engine: DockerClient) -> None:
    options = TopologyOptions(
        provider="docker", shards=3, network="bridge", shard_cpus=0.5, shard_memory="256m"
    )
    with open_topology(options) as topology:
        run_id = topology.details["docker_run_id"]
        assert len(run_containers(docker_engine, run_id)) == 4
        shard = docker_engine.containers.list(
            filters={"label": [f"{LABEL_RUN}={run_id}", f"{LABEL_ROLE}=shard"]}
        )[0]
        host_config = shard.attrs["HostConfig"]
        assert host_config["NanoCpus"] == 500_000_000
        assert host_config["Memory"] == 256 * 2**20
        bindings = shard.attrs["NetworkSettings"]["Ports"]["6379/tcp"]
        assert {b["HostIp"] for b in bindings} == {"127.0.0.1"}
        assert topology.describe()["shard_limits"] == {"cpus": 0.5, "memory": "256m"}
        assert docker_engine.networks.list(names=[run_id]), "the run's own network"
        relayed_before = topology.relay_cpu_s() if topology.relay_cpu_s else None
        seed(topology, Keys(), 5_000, 3)
        strategy = get_strategy("naive")(topology, Keys())
        try:
            expected = oracle_top(all_rows(topology), 100)
            for _ in range(200):
                assert strategy.top(100).rows() == expected
            # dockerd's default userland proxy relays each published port; its CPU is the run's to report.
            ports = {int(e.url.rsplit(":", 1)[1]) for e in topology.nodes}
            proxies = proxy_processes(ports)
            assert topology.describe()["userland_proxy"] is bool(proxies)
            if proxies:
                assert topology.relay_cpu_s is not None
                assert relayed_before is not None
                # CPU time is charged in 10 ms clock ticks, and only to a process running when one
                # fires: on a busy VM 200 relayed requests can be charged nothing (CI: 0.0 > 0.0).
                deadline = time.monotonic() + RELAY_CHARGE_WAIT_S
                while topology.relay_cpu_s() <= relayed_before and time.monotonic() < deadline:
                    for _ in range(100):
                        strategy.top(100)
                assert topology.relay_cpu_s() > relayed_before
            else:
                assert topology.relay_cpu_s is None
        finally:
            strategy.close()
    assert run_containers(docker_engine, run_id) == []
    assert docker_engine.networks.list(names=[run_id]) == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signalled_up_removes_its_containers(docker_engine: DockerClient, sig: int) -> None:
    proc = subprocess.Popen(
        [*LBBENCH, "up", "--provider", "docker", "--players", "2000", "--shards", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        assert lines[2].startswith("flags:"), lines
        assert len(owned_by(docker_engine, proc.pid)) == 3
        os.kill(proc.pid, sig)
        assert proc.wait(timeout=60) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert owned_by(docker_engine, proc.pid) == []


def test_a_killed_runs_containers_are_removed_by_the_next(docker_engine: DockerClient) -> None:
    pid = _dead_pid()
    labels = {**run_labels("lbbench-orphan-test", "shard"), LABEL_OWNER_PID: str(pid)}
    image = resolve_image(docker_engine, None).name
    container = docker_engine.containers.create(image, labels=labels, network_mode="none")
    try:
        assert remove_orphans(docker_engine) >= 1
        assert owned_by(docker_engine, pid) == []
    finally:
        if owned_by(docker_engine, pid):
            container.remove(force=True)


def test_unknown_image_is_one_line_and_exit_2(docker_engine: DockerClient) -> None:
    result = lbbench(
        "compare", "--provider", "docker", "--image", "lbbench/no-such-image:0", "--duration", "1"
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "--image lbbench/no-such-image:0 is not on the engine and cannot be pulled" in result.stderr
    assert docker_engine.containers.list(all=True, filters={"label": f"{LABEL_PROJECT}={PROJECT}"}) == []


def test_a_container_that_cannot_start_fails_the_run_and_leaves_nothing(docker_engine: DockerClient) -> None:
    # 1 MB is below any engine's minimum memory limit: the first shard cannot be created.
    result = lbbench("seed", "--provider", "docker", "--shard-memory", "1m", "--players", "100")
    assert result.returncode == 1, result.stderr
    assert "cannot start container shard-0" in result.stderr
    assert "Traceback" not in result.stderr
    assert docker_engine.containers.list(all=True, filters={"label": f"{LABEL_PROJECT}={PROJECT}"}) == []


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(proc.pid, 0)
        except ProcessLookupError:
            return proc.pid
        time.sleep(0.05)
    pytest.fail("could not find an unused pid")

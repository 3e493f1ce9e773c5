"""Remote workers without a run: the flags' checks, the master's command line, the config hand-over."""

from __future__ import annotations

import json
import socket
from dataclasses import replace
from pathlib import Path

import pytest

from bench.errors import UsageError
from bench.run.loadconfig import LOAD_CONFIG_ENV, LoadConfig
from bench.run.options import CompareOptions
from bench.run.phase import load_config
from bench.run.swarm import LOCAL_WORKERS_WAIT_S, WAIT_BACKSTOP_S, MasterBind, swarm_commands
from lbbench.main import parse_command
from lbbench.options import compare_options
from runfiles import PhaseFiles

REMOTE = CompareOptions(remote_workers=2, workers=0, master_bind="127.0.0.1:0")


def parsed(*flags: str) -> CompareOptions:
    return compare_options(parse_command(["compare", *flags])[1])


def test_workers_default_to_none_here_when_remote_workers_come() -> None:
    assert parsed().local_workers == 1
    assert parsed().load_processes == 1
    remote = parsed("--remote-workers", "2", "--master-bind", "0.0.0.0:5557")
    assert (remote.local_workers, remote.remote_workers, remote.load_processes) == (0, 2, 2)
    assert remote.master_bind == "0.0.0.0:5557"
    mixed = parsed("--remote-workers", "2", "--workers", "1", "--master-bind", "0.0.0.0:5557")
    assert mixed.load_processes == 3


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"master_bind": None}, "--remote-workers needs --master-bind HOST:PORT"),
        ({"remote_workers": 0, "workers": 1}, "--master-bind is for --remote-workers"),
        (
            {"remote_workers": 0, "workers": 0, "master_bind": None},
            "--workers must be between 1 and 64, got 0",
        ),
        ({"remote_workers": 70}, "--workers plus --remote-workers must be at most 64, got 70"),
        ({"remote_workers": -1}, "--remote-workers must be at least 0, got -1"),
        ({"remote_workers_wait_s": 0.0}, "--remote-workers-wait must be positive, got 0"),
        ({"users": 1}, "--users must be at least the 2 load-generator processes"),
        ({"users": 10, "max_users": 9}, "--max-users must be at least --users (10), got 9"),
        ({"master_bind": "127.0.0.1"}, "--master-bind must be HOST:PORT, e.g. 0.0.0.0:5557, got '127.0.0.1'"),
        ({"master_bind": ":5557"}, "--master-bind must be HOST:PORT"),
        ({"master_bind": "127.0.0.1:http"}, "--master-bind port must be an integer, got 'http'"),
        ({"master_bind": "127.0.0.1:65536"}, "--master-bind port must be between 1 and 65535, got 65536"),
        ({"master_bind": "no-such-host.invalid:5557"}, "--master-bind no-such-host.invalid:5557: "),
    ],
)
def test_bad_remote_options_are_one_line_usage_errors(changes: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError) as caught:
        replace(REMOTE, **changes).validate()  # type: ignore[arg-type]
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_master_bind_port_in_use_is_refused_before_anything_starts() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(UsageError, match=f"--master-bind 127.0.0.1:{port}: Address already in use"):
            replace(REMOTE, master_bind=f"127.0.0.1:{port}").validate()


def config(workers: int, remote: int, wait_s: float = LOCAL_WORKERS_WAIT_S) -> LoadConfig:
    made = load_config(CompareOptions(), "naive", {}, "/tmp/raw")
    return replace(made, workers=workers, remote_workers=remote, workers_wait_s=wait_s)


def test_a_remote_only_master_starts_no_worker_and_expects_them_all(tmp_path: Path) -> None:
    commands = swarm_commands(config(2, 2, 45.0), 4, PhaseFiles(tmp_path), MasterBind("0.0.0.0", 5557))
    assert commands.workers == []
    leader = commands.leader
    for flag, value in [
        ("--master-bind-host", "0.0.0.0"),
        ("--master-bind-port", "5557"),
        ("--expect-workers", "2"),
        ("--expect-workers-max-wait", str(int(45.0 + WAIT_BACKSTOP_S))),
    ]:
        assert leader[leader.index(flag) + 1] == value, flag
    # The config travels in the environment, never on a command line `ps` shows.
    assert not any(arg.startswith("--lbbench") for arg in leader)


def test_local_workers_beside_remote_ones_reach_a_wildcard_master_on_loopback(tmp_path: Path) -> None:
    commands = swarm_commands(config(3, 2), 4, PhaseFiles(tmp_path), MasterBind("0.0.0.0", 5557))
    assert len(commands.workers) == 1
    worker = commands.workers[0]
    assert worker[worker.index("--master-host") + 1] == "127.0.0.1"
    assert worker[worker.index("--master-port") + 1] == "5557"


def test_local_workers_keep_a_free_loopback_port(tmp_path: Path) -> None:
    commands = swarm_commands(config(2, 0), 4, PhaseFiles(tmp_path))
    leader = commands.leader
    assert leader[leader.index("--master-bind-host") + 1] == "127.0.0.1"
    assert len(commands.workers) == 2
    assert swarm_commands(config(1, 0), 4, PhaseFiles(tmp_path)).workers == []


def test_the_load_config_round_trips_through_its_json() -> None:
    original = replace(config(3, 2, 12.0), hot_players=[(7, 1.5)], rps=250.0)
    text = original.to_env()[LOAD_CONFIG_ENV]
    again = LoadConfig.from_json(text)
    assert json.loads(json.dumps(again.__dict__)) == json.loads(text)
    with pytest.raises(RuntimeError, match=f"{LOAD_CONFIG_ENV} is not set"):
        LoadConfig.from_json(None)

"""Passwords off the master-worker channel (bench/run/credentials.py): what travels, and how a worker
puts each password back from its own host."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from redis.connection import parse_url

from bench.errors import UsageError
from bench.run.credentials import (
    PASSWORD_ENV,
    PASSWORD_FILE_ENV,
    MissingPassword,
    check_remote_passwords,
    with_passwords,
    without_passwords,
)
from bench.run.loadconfig import LOAD_CONFIG_ENV
from bench.topology.endpoint import redact_url
from loadgen.remote import parse_args

SECRET = "p@ss:w/rd %"  # every character a URL must quote
QUOTED = "p%40ss%3Aw%2Frd%20%25"


def config(*urls: str) -> str:
    *shards, cache = urls
    return json.dumps(
        {"strategy": "naive", "topology": {"shards": shards, "cache": cache, "timeout_ms": 500}}
    )


def urls_of(text: str) -> list[str]:
    topology = json.loads(text)["topology"]
    return [*topology["shards"], topology["cache"]]


FULL = config(
    f"redis://app:{QUOTED}@10.0.0.1:6379", f"rediss://app:{QUOTED}@[::1]:6380/2", "redis://10.0.0.3:6379"
)


def test_the_wire_carries_every_url_without_its_password_and_nothing_else_changes() -> None:
    wire = without_passwords(FULL)
    assert SECRET not in wire
    assert QUOTED not in wire
    assert urls_of(wire) == [
        "redis://app:***@10.0.0.1:6379",
        "rediss://app:***@[::1]:6380/2",
        "redis://10.0.0.3:6379",
    ]
    assert {k: v for k, v in json.loads(wire).items() if k != "topology"} == {"strategy": "naive"}


def test_a_worker_bench_started_takes_the_passwords_from_its_own_config() -> None:
    # Different passwords per node work here: each URL is matched in the process's own environment.
    full = config("redis://a:one@h1:1", "redis://b:two@h2:2")
    assert with_passwords(without_passwords(full), {LOAD_CONFIG_ENV: full}) == json.dumps(json.loads(full))


def test_a_remote_worker_takes_the_password_from_its_environment_quoted_as_a_url_needs() -> None:
    back = with_passwords(without_passwords(FULL), {PASSWORD_ENV: SECRET})
    first, second, third = urls_of(back)
    assert parse_url(first)["password"] == SECRET
    assert parse_url(second)["password"] == SECRET
    assert parse_url(second)["username"] == "app"
    assert redact_url(second) == "rediss://app:***@[::1]:6380/2"
    assert third == "redis://10.0.0.3:6379"


def test_or_from_the_file_lbbench_worker_was_given_without_its_newline(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text(SECRET + "\n")
    back = with_passwords(without_passwords(FULL), {PASSWORD_FILE_ENV: str(secret)})
    assert parse_url(urls_of(back)[0])["password"] == SECRET
    assert parse_args(["--password-file", str(secret)]).password_file == str(secret.resolve())


def test_a_worker_without_the_password_says_how_to_give_it_in_one_line() -> None:
    with pytest.raises(MissingPassword) as missing:
        with_passwords(without_passwords(FULL), {})
    message = str(missing.value)
    assert message.startswith("redis://app:***@10.0.0.1:6379 needs a password: set $LBBENCH_REDIS_PASSWORD")
    assert "\n" not in message
    with pytest.raises(MissingPassword, match="cannot read the password file /nonexistent/pw"):
        with_passwords(without_passwords(FULL), {PASSWORD_FILE_ENV: "/nonexistent/pw"})


def test_nodes_without_a_password_need_nothing_from_the_host() -> None:
    plain = config("redis://h1:1", "redis://h2:2")
    assert with_passwords(without_passwords(plain), {}) == plain


def test_lbbench_worker_refuses_an_unreadable_password_file(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_args(["--password-file", "/nonexistent/pw"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.strip() == (
        "lbbench-worker: error: --password-file: cannot read /nonexistent/pw: No such file or directory"
    )


def test_remote_workers_refuse_nodes_with_different_passwords() -> None:
    check_remote_passwords(["redis://a:x@h:1", "redis://b:x@h:2", "redis://h:3"], remote_workers=2)
    check_remote_passwords(["redis://a:x@h:1", "redis://a:y@h:2"], remote_workers=0)
    with pytest.raises(UsageError, match="the nodes have different passwords, and remote workers take one"):
        check_remote_passwords(["redis://a:x@h:1", "redis://a:y@h:2"], remote_workers=1)

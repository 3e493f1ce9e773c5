"""TLS and ACL users on real servers: spawned TLS-only nodes (`--tls`), a compare over rediss://, a
least-privilege user's compare on TLS servers the test starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bench.errors import UsageError
from bench.serverbinary import find_tls_server_binary
from bench.topology import TopologyOptions, open_topology
from bench.topology.processes import LocalServers

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REQUIRE_TLS_ENV = "LBBENCH_REQUIRE_REDIS_BENCHMARK"  # redis-tools brings the TLS server as well


@pytest.fixture(scope="module")
def tls_server() -> str:
    """A server built with TLS (Debian's redis-tools); the tests skip with the reason where none is."""
    try:
        return find_tls_server_binary().label
    except UsageError as exc:
        if os.environ.get(REQUIRE_TLS_ENV) == "1":
            pytest.fail(f"{REQUIRE_TLS_ENV}=1 (redis-tools is there) but {exc}")
        pytest.skip(str(exc))


def test_tls_servers_refuse_the_clear_and_answer_over_tls(tls_server: str) -> None:
    with open_topology(TopologyOptions(shards=1, tls=True)) as topology:
        assert topology.cache.url.startswith("rediss://127.0.0.1:")
        assert topology.server == tls_server
        client = topology.cache.client()
        assert client.ping()
        client.close()
        port = int(topology.cache.url.rsplit(":", 1)[1])
        plain = redis.Redis(port=port, socket_timeout=1, socket_connect_timeout=1, retry_on_error=[])
        with pytest.raises(redis.ConnectionError):
            plain.ping()  # the TLS port does not speak RESP in the clear


def test_a_compare_over_tls_is_valid_and_counts_the_protocol_bytes(tls_server: str, tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["compare", "--tls", "--players", "20000", "--shards", "3", "--duration", "2", "--users", "4"]
    result = subprocess.run(
        [sys.executable, "-m", "lbbench", *args, "--rps", "200", "--out", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    for name, strategy in summary["strategies"].items():
        assert strategy["valid"] is True, (name, strategy["invalid_reason"])
        assert strategy["failures"] == 0, name
        # The client counts Redis protocol bytes under the TLS records, as INFO does: they agree.
        check = strategy["cross_check"]
        assert check["agree"] is True, (name, check)
        for field in ("commands", "bytes_out", "bytes_in"):
            assert abs(check[field] - 1) <= 0.01, (name, field, check[field])
    assert summary["strategies"]["naive"]["redis_commands_per_request"] == pytest.approx(3, rel=0.01)
    meta = json.loads((out / "meta.json").read_text())
    assert meta["server"] == tls_server
    topology = meta["topology"]
    assert topology["tls"] is True
    assert all(url.startswith("rediss://") for url in [*topology["shards"], topology["cache"]])
    assert topology["tls_files"]["ca_cert"].endswith("/tls/ca.crt")
    # Then naive and cached again in the clear, on the same server: the report's TLS section.
    clear = json.loads((out / "clear" / "meta.json").read_text())
    assert clear["server"] == tls_server
    assert clear["topology"]["tls"] is False
    assert all(url.startswith("redis://") for url in clear["topology"]["shards"])
    clear_summary = json.loads((out / "clear" / "summary.json").read_text())
    assert sorted(clear_summary["strategies"]) == ["cached", "naive"]
    # (Validity on both sides is the TLS line's business: tests/unit/test_tlscost.py.)
    tls_line = next(line for line in result.stderr.splitlines() if line.startswith("lbbench TLS: "))
    report = (out / "report.md").read_text()
    assert "## TLS: what it cost in this run" in report
    assert f"**{tls_line.removeprefix('lbbench ')}**" in report


#: What a compare of naive and cached needs on servers you run (docs/tls.md), and no more.
COMPARE_ACL = (
    "on", ">s3cret", "resetkeys", "~leaderboard*", "resetchannels", "-@all",
    "+info", "+config|get", "+memory|usage", "+exists", "+del", "+restore", "+zrange", "+zscore",
    "+zcount", "+zincrby", "+zadd", "+rename", "+multi", "+exec", "+hset", "+hget",
)  # fmt: skip


@pytest.fixture
def acl_servers(tls_server: str) -> Iterator[tuple[list[str], str]]:
    """Three TLS-only servers the test starts (two shards, a cache), as a managed service's would be,
    each with the user ``lbbench``: their rediss:// URLs, and the CA that signed them."""
    del tls_server  # only its skip
    servers = LocalServers(find_tls_server_binary(), ["s0", "s1", "c"], tls=True)
    started = servers.start()
    assert servers.certificates is not None
    ca_cert = str(servers.certificates.ca_cert)
    try:
        for server in started:
            client = redis.Redis.from_url(
                server.url, socket_timeout=2, retry_on_error=[], ssl_ca_certs=ca_cert
            )
            client.execute_command("ACL", "SETUSER", "lbbench", *COMPARE_ACL)
            client.close()
        yield [f"rediss://lbbench:s3cret@127.0.0.1:{server.port}" for server in started], ca_cert
    finally:
        servers.stop()


def test_a_least_privilege_user_runs_a_compare_over_tls_and_a_missing_permission_is_one_line(
    acl_servers: tuple[list[str], str], tmp_path: Path
) -> None:
    (*shards, cache), ca_cert = acl_servers
    urls = [arg for url in shards for arg in ("--shard-url", url)] + [
        "--cache-url",
        cache,
        "--tls-ca-cert",
        ca_cert,
    ]
    args = [*urls, "--players", "5000", "--duration", "2", "--rps", "100", "--read-write-ratio", "10"]
    done = subprocess.run(
        [sys.executable, "-m", "lbbench", "compare", *args, "--out", str(tmp_path / "run")],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert all(s["valid"] and s["failures"] == 0 for s in summary["strategies"].values())
    assert all(s["writes"]["requests"] > 0 for s in summary["strategies"].values())
    # Without EXISTS the harness cannot check it would clobber nothing: one line naming the command,
    # exit 2, no traceback, no password.
    admin = redis.Redis.from_url(
        shards[0].replace("lbbench:s3cret@", ""), socket_timeout=2, ssl_ca_certs=ca_cert
    )
    admin.execute_command("ACL", "SETUSER", "lbbench", "-exists")
    admin.close()
    refused = subprocess.run(
        [sys.executable, "-m", "lbbench", "compare", *args, "--out", str(tmp_path / "again")],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert refused.returncode == 2, refused.stderr[-2000:]
    lines = refused.stderr.strip().splitlines()
    assert "Traceback" not in refused.stderr
    assert lines[-1].startswith("lbbench: error: a server refused a command:")
    assert "'exists'" in lines[-1]
    assert "s3cret" not in refused.stderr

"""TLS on real servers: spawned TLS-only nodes (`--tls`), a whole compare over rediss://, bytes counted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from bench.errors import UsageError
from bench.serverbinary import find_tls_server_binary
from bench.topology import TopologyOptions, open_topology

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
    args = ["compare", "--tls", "--players", "20000", "--shards", "3", "--duration", "3", "--users", "4"]
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

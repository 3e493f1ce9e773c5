"""Provider flags are checked before anything starts: one line naming the flag, and no engine needed."""

from __future__ import annotations

import pytest

from bench.errors import UsageError
from bench.images.engine import engine
from bench.topology import TopologyOptions, get_provider


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (TopologyOptions(image="valkey/valkey:8.1"), "--image applies to --provider docker, not local"),
        (
            TopologyOptions(shard_urls=("redis://h:1",), cache_url="redis://h:2", shard_cpus=1.0),
            "--shard-cpus applies to --provider docker, not external",
        ),
        (
            TopologyOptions(provider="docker", server_bin="redis-server"),
            "--server-bin applies to --provider cluster/local, not docker",
        ),
        (
            TopologyOptions(provider="docker", network="overlay"),
            "--docker-network must be one of host, bridge",
        ),
        (TopologyOptions(provider="docker", shard_memory="lots"), "--shard-memory must look like 512m"),
        (TopologyOptions(provider="docker", shard_cpus=0.0), "--shard-cpus must be a positive number"),
        (TopologyOptions(provider="docker", shards=65), "--shards must be between 1 and 64"),
        (
            TopologyOptions(provider="docker", cache_url="redis://h:2"),
            "--provider docker starts its servers: drop --shard-url/--cache-url",
        ),
    ],
)
def test_a_flag_no_provider_reads_is_refused(options: TopologyOptions, message: str) -> None:
    with pytest.raises(UsageError, match="^" + message.replace("(", r"\(")):
        get_provider(options)


def test_docker_limits_become_engine_arguments() -> None:
    provider = get_provider(TopologyOptions(provider="docker", shard_cpus=1.5, shard_memory="512M"))
    assert provider.limits() == {"nano_cpus": 1_500_000_000, "mem_limit": "512m"}  # type: ignore[attr-defined]
    assert get_provider(TopologyOptions(provider="docker")).limits() == {}  # type: ignore[attr-defined]


def test_no_engine_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-such.sock")
    with pytest.raises(
        UsageError, match=r"^no Docker engine answers \(.*\); start dockerd, or use --provider local$"
    ):
        engine()

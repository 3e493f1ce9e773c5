"""The --fault grammar, presets and checks: pure parsing, no servers."""

from __future__ import annotations

import pytest

from bench.errors import UsageError
from bench.faults.spec import KINDS, PRESETS, describe, parse, resolve
from bench.run.options import CompareOptions
from bench.topology import PROVIDERS, TopologyOptions


def test_a_stall_spec_resolves_to_seconds_and_a_target() -> None:
    fault = parse("stall:shard=3,at=20s,for=500ms", duration_s=60, shards=10)
    assert (fault.kind, fault.shard, fault.at_s, fault.for_s, fault.end_s) == ("stall", 3, 20.0, 0.5, 20.5)
    assert fault.target == "shard-3"


def test_percent_times_scale_with_the_duration_and_bare_numbers_are_seconds() -> None:
    fault = parse("slow:shard=0,at=25%,for=2,duty=50%", duration_s=40, shards=1)
    assert (fault.at_s, fault.for_s, fault.duty) == (10.0, 2.0, 0.5)


def test_kill_without_restart_lasts_to_the_end_of_the_phase() -> None:
    assert parse("kill:shard=0,at=1s", 10, 1).end_s is None
    assert parse("kill:shard=0,at=1s,restart=2s", 10, 1).end_s == 3.0


def test_targets_of_the_harness_faults() -> None:
    assert parse("cache-down:at=1s,for=1s", 10, 1).target == "cache"
    assert parse("refresher-dead:at=1s", 10, 1).target == "refresher"


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_parses_at_any_duration(name: str) -> None:
    for duration in (5.0, 60.0):
        fault = parse(name, duration, 1)
        assert fault.spec.startswith(f"{name} = ")
        assert fault.at_s < duration


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("stall:shard=10,at=1s,for=1s", "shard=10 does not exist"),
        ("stall:shard=1,at=1s", "stall needs for="),
        ("stall:shard=1,at=1s,for=1s,duty=5%", "stall takes no duty="),
        ("stall:shard=1,at=1x,for=1s", "at=1x is not a time"),
        ("stall:shard=1,at=30s,for=1s", "not inside the 20 s load phase"),
        ("stall:shard=1,at=1s,for=0s", "for=0s must be positive"),
        ("slow:shard=1,at=1s,for=1s,duty=100%", "strictly between"),
        ("flood:at=1s", "unknown fault kind 'flood'"),
        ("stall:shard=1,at", "is not key=value"),
        ("stall:shard=-1,at=1s,for=1s", "not a shard index"),
    ],
)
def test_bad_specs_are_one_line_naming_the_spec(spec: str, message: str) -> None:
    with pytest.raises(UsageError) as err:
        resolve([spec], duration_s=20, shards=10)
    text = str(err.value)
    assert text.startswith(f"--fault {spec}: ")
    assert message in text
    assert "\n" not in text


def test_overlapping_faults_on_one_node_are_refused() -> None:
    with pytest.raises(UsageError, match="overlap on shard-1"):
        resolve(["stall:shard=1,at=1s,for=5s", "kill:shard=1,at=3s"], 20, 2)
    resolve(["stall:shard=1,at=1s,for=2s", "kill:shard=1,at=3s"], 20, 2)  # back to back is fine


def test_every_provider_declares_only_known_server_faults() -> None:
    server_kinds = {k for k, kind in KINDS.items() if kind.on_server}
    for provider in PROVIDERS.values():
        assert provider.server_faults <= server_kinds


def test_external_providers_refuse_server_faults_but_not_a_dead_refresher() -> None:
    urls = TopologyOptions(shard_urls=("redis://127.0.0.1:1",), cache_url="redis://127.0.0.1:2")
    options = CompareOptions(duration_s=10, faults=("kill:shard=0,at=1s",), topology=urls)
    with pytest.raises(
        UsageError, match=r"--fault kill applies to --provider cluster/docker/local, not external"
    ):
        options.fault_plan()
    ok = CompareOptions(duration_s=10, faults=("dead-refresher",), topology=urls)
    assert [f.kind for f in ok.fault_plan()] == ["refresher-dead"]


def test_docker_bridge_cannot_restart_a_node_on_its_port() -> None:
    bridge = TopologyOptions(provider="docker", network="bridge", shards=2)
    with pytest.raises(UsageError, match="does not work with these --provider docker options"):
        CompareOptions(duration_s=10, faults=("cache-outage",), topology=bridge).fault_plan()


def test_faults_need_a_local_load_process() -> None:
    options = CompareOptions(
        duration_s=10, workers=0, remote_workers=1, master_bind="127.0.0.1:5557", faults=("shard-stall",)
    )
    with pytest.raises(UsageError, match="--fault needs a Locust process on this host"):
        options.fault_plan()


def test_meta_options_name_the_resolved_faults() -> None:
    options = CompareOptions(duration_s=10, faults=("shard-stall",), topology=TopologyOptions(shards=2))
    (fault,) = options.as_json()["faults"]
    assert fault["kind"] == "stall"
    assert fault["target"] == "shard-0"
    assert fault["at_s"] == 3.0


def test_the_listing_names_every_kind_and_preset() -> None:
    text = describe()
    assert all(f"{kind}:" in text for kind in KINDS)
    assert all(name in text for name in PRESETS)

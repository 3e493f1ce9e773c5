"""Pure helpers: URL handling, option validation, INFO parsing."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
from collections.abc import Callable

import pytest

from bench.errors import UsageError
from bench.probes.staleness import compare_views
from bench.probes.telemetry import parse_commandstats, parse_info
from bench.run.compare import run_order
from bench.run.writemodel import HOT_DELTA_FRACTION, UNIFORM_DELTA_MAX, WriteModel
from bench.strategies import get_strategy, parse_strategies
from bench.threads import (
    TEARDOWN_SIGNALS,
    Terminated,
    background_thread,
    held_briefly,
    install_teardown_handlers,
    release_teardown_signals,
    teardown_signals_held,
)
from bench.topology import Endpoint, TopologyOptions, get_provider
from bench.topology.endpoint import check_url, redact_url
from bench.wire.policy import ConnectionPolicy
from runfiles import is_setup_command

INFO_SAMPLE = (
    "# Server\r\nredis_version:7.2.4\r\n\r\n# Stats\r\ntotal_net_input_bytes:123\r\n"
    "# Commandstats\r\n"
    "cmdstat_zrange:calls=10,usec=250,usec_per_call=25.00,rejected_calls=0,failed_calls=0\r\n"
    "cmdstat_client|setinfo:calls=2,usec=1,usec_per_call=0.50,rejected_calls=0,failed_calls=0\r\n"
)


def test_redact_url_hides_only_the_password() -> None:
    assert redact_url("redis://u:secret@host:6380/2") == "redis://u:***@host:6380/2"
    assert redact_url("redis://:secret@host:6380") == "redis://:***@host:6380"
    assert redact_url("redis://host:6380") == "redis://host:6380"


@pytest.mark.parametrize("url", ["http://h:1", "redis://", "redis://h:notaport", "h:6379"])
def test_bad_urls_are_usage_errors(url: str) -> None:
    with pytest.raises(UsageError, match="bad Redis URL"):
        check_url(url)


def test_bad_url_error_never_shows_the_password() -> None:
    with pytest.raises(UsageError) as info:
        check_url("http://u:hunter2@h:1")
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (TopologyOptions(shards=0), "--shards must be between"),
        (TopologyOptions(shard_urls=("redis://a:1",)), "needs both"),
        (TopologyOptions(shards=2, shard_urls=("redis://a:1",), cache_url="redis://c:1"), "--shards 2 but 1"),
        (TopologyOptions(shard_urls=("redis://a:1",), cache_url="redis://a:1"), "different server"),
        (TopologyOptions(provider="nowhere"), "unknown provider 'nowhere'; known: local, external"),
        (TopologyOptions(provider="local", cache_url="redis://c:1"), "drop --shard-url/--cache-url"),
    ],
)
def test_topology_options_validation(options: TopologyOptions, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        get_provider(options)


def test_strategy_registry() -> None:
    assert parse_strategies("naive, cached") == ["naive", "cached"]
    assert get_strategy("cached").needs_refresher
    with pytest.raises(UsageError, match="unknown strategy 'x'; known: naive, cached"):
        parse_strategies("naive,x")
    with pytest.raises(UsageError, match="twice"):
        parse_strategies("naive,naive")


def test_parse_info_and_commandstats() -> None:
    fields = parse_info(INFO_SAMPLE)
    assert fields["total_net_input_bytes"] == "123"
    assert parse_commandstats(fields) == {"zrange": (10, 250), "client|setinfo": (2, 1)}
    assert is_setup_command("client|setinfo")
    assert is_setup_command("hello")
    assert not is_setup_command("zrange")


def test_memory_figures_from_key_sizes() -> None:
    from analysis.figures.sections import memory_figures

    sizes = {
        "shard-0": 600,
        "shard-1": 400,
        "cache_key": 50,
        "global_set": 0,
        "cache_blob": 30,
        "cache_hist": 0,
    }
    assert memory_figures(sizes, players=10) == {
        "shard_key_bytes": 1000,
        "bytes_per_player": 100.0,
        "cache_key_bytes": 50,
        "cache_vs_shards": 0.05,
        "global_set_bytes": None,
        "cache_blob_bytes": 30,
        "cache_hist_bytes": None,
    }
    assert memory_figures(None, players=10) is None
    assert memory_figures({"cache_key": 5}, players=None)["cache_vs_shards"] is None  # type: ignore[index]


def test_refresh_spike_compares_refresh_rates_with_steady_reads() -> None:
    from analysis.figures.sections import refresh_spike

    refresher = {
        "refreshes": 2,
        "duration_ms": {"p50": 10.0, "max": 12.0},
        "bytes_out_per_refresh": 200_000.0,
        "commands_per_refresh": 15.0,
    }
    entry = {"bytes_out_per_request": 2_500.0, "rps": 500.0, "redis_ops_per_s": 500.0}
    spike = refresh_spike(refresher, entry)
    assert spike == {
        "bytes_out_per_s": 20_000_000.0,  # 200 kB in 10 ms
        "steady_bytes_out_per_s": 1_250_000.0,  # 2.5 kB x 500 req/s
        "bytes_out_height": 16.0,
        "commands_per_s": 1500.0,
        "steady_commands_per_s": 500.0,
        "commands_height": 3.0,
    }
    assert refresh_spike({**refresher, "refreshes": 0}, entry) is None


def test_background_threads_leave_teardown_signals_to_the_main_thread() -> None:
    seen: list[set[int]] = []
    thread = background_thread(
        lambda: seen.append(set(signal.pthread_sigmask(signal.SIG_BLOCK, []))), "probe"
    )
    thread.start()
    thread.join()
    assert thread.daemon
    assert seen[0] >= TEARDOWN_SIGNALS
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, [])


@pytest.mark.usefixtures("keep_signal_handlers")
def test_a_signal_held_over_a_fork_is_raised_after_it_and_released_in_the_child() -> None:
    install_teardown_handlers()
    steps: list[str] = []

    def spawn_under_a_sigterm() -> None:
        with teardown_signals_held():
            os.kill(os.getpid(), signal.SIGTERM)
            steps.append("held")  # a Popen here gets its object back to the caller
        steps.append("after the block")

    with pytest.raises(Terminated):
        spawn_under_a_sigterm()
    assert steps == ["held"]
    assert signal.SIGTERM not in signal.pthread_sigmask(signal.SIG_BLOCK, [])

    # A thread that does not block the signal (numpy's BLAS workers are such threads) is where the
    # kernel delivers it; Python still runs the handler in the main thread, which must hold it too.
    steps.clear()
    done = threading.Event()
    bystander = threading.Thread(target=done.wait, daemon=True)
    bystander.start()
    try:
        with pytest.raises(Terminated):
            spawn_under_a_sigterm()
    finally:
        done.set()
        bystander.join()
    assert steps == ["held"]
    assert signal.SIGTERM not in signal.pthread_sigmask(signal.SIG_BLOCK, [])

    def blocked_in_child(preexec_fn: Callable[[], None] | None) -> set[int]:
        with teardown_signals_held():
            child = subprocess.run(
                ["grep", "^SigBlk", "/proc/self/status"],
                preexec_fn=preexec_fn,
                capture_output=True,
                text=True,
                check=True,
            )
        mask = int(child.stdout.split()[1], 16)
        return {sig for sig in TEARDOWN_SIGNALS if mask & (1 << (sig - 1))}

    assert blocked_in_child(None) == TEARDOWN_SIGNALS  # the mask is inherited through exec
    assert blocked_in_child(release_teardown_signals) == set()  # as processes.child_preexec does


def test_held_briefly_takes_a_free_lock_and_goes_ahead_without_a_held_one() -> None:
    lock = threading.Lock()
    with held_briefly(lock, 0.0) as acquired:
        assert acquired
        assert lock.locked()
    assert not lock.locked()
    with lock, held_briefly(lock, 0.01) as acquired:
        assert not acquired  # a stuck holder delays the other job once; it is not released by it
    assert not lock.locked()
    with pytest.raises(ValueError, match="refresh failed"), held_briefly(lock, 0.0):
        raise ValueError("refresh failed")
    assert not lock.locked()


def test_compare_views_counts_missing_entries_and_displacement() -> None:
    truth = [(b"a", 9.0), (b"b", 8.0), (b"c", 7.0), (b"d", 6.0)]
    view = [(b"b", 8.0), (b"a", 5.0), (b"x", 4.0), (b"c", 3.0)]
    assert compare_views(truth, view, n=3) == {
        "entries_differ": 1,  # c is 4th in the view, outside its top 3
        "missing_from_cache": 0,
        "max_rank_displacement": 1,  # a: 1 -> 2, b: 2 -> 1, c: 3 -> 4
        "max_score_error": 4.0,  # a: 9 vs 5, c: 7 vs 3
    }
    assert compare_views(truth, view[:3], n=3)["missing_from_cache"] == 1
    assert compare_views(truth, truth, n=4)["entries_differ"] == 0


def test_write_model_sends_the_hot_share_to_top_players_with_score_sized_deltas() -> None:
    hot = [(7, 1_000_000.0), (8, 500_000.0)]
    model = WriteModel(players=1_000_000, hot=hot, hot_share=0.5, rng=random.Random(1))
    writes = [model.next_write() for _ in range(4000)]
    hot_writes = [(p, d) for p, d in writes if p in (7, 8)]
    assert 0.45 < len(hot_writes) / len(writes) < 0.55
    assert max(d for p, d in hot_writes if p == 7) > UNIFORM_DELTA_MAX  # 2% of 1M = up to 20,000
    assert all(d <= HOT_DELTA_FRACTION * 500_000 for p, d in hot_writes if p == 8)
    model.observe(8, 10_000_000.0)
    assert model.scores[8] == 10_000_000.0
    uniform = WriteModel(players=10, hot=hot, hot_share=0.0, rng=random.Random(1))
    assert all(p < 10 for p, _ in (uniform.next_write() for _ in range(100)))


def test_strategies_that_read_the_global_set_run_first() -> None:
    assert run_order(["naive", "cached", "global", "regional"]) == ["global", "naive", "cached", "regional"]
    assert run_order(["naive", "cached"]) == ["naive", "cached"]


def test_every_connection_speaks_resp2_with_the_policys_timeout_and_no_retries() -> None:
    endpoint = Endpoint("shard-0", "shard", "redis://127.0.0.1:1", ConnectionPolicy(250))
    kwargs = endpoint.connection_kwargs()
    assert kwargs["protocol"] == 2  # hiredis's flat replies: bench/wire/merge.py
    assert kwargs["socket_timeout"] == 0.25
    assert kwargs["retry"].get_retries() == 0
    assert endpoint.connection_kwargs(bulk=True)["socket_timeout"] >= 600
    client = endpoint.client()
    assert client.get_retry().get_retries() == 0  # type: ignore[union-attr]
    client.close()

"""`lbbench compare`: seed, then run each strategy under a Locust swarm while sampling every node."""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench import scenario
from bench.cache.formats import CACHE_TOP_N
from bench.console import status
from bench.errors import RunError, UsageError
from bench.keys import Keys
from bench.probes.capacity import CONCURRENCY_LEVELS, probe
from bench.probes.meta import run_meta, utc_now
from bench.run.credentials import PASSWORD_ENV, check_remote_passwords, passwords
from bench.run.options import COMPARE_CAPACITY_S, CompareOptions, stall_cover_note
from bench.run.phase import Phase
from bench.run.swarm import MasterBind
from bench.seeding.seed import clear, existing_keys, seed_with_progress
from bench.serverbinary import find_tls_server_binary
from bench.strategies import get_strategy
from bench.topology import Topology, open_topology
from runfiles import SCHEMA_VERSION, RunFiles, write_json

__all__ = ["CompareOptions", "RunDir", "compare", "run_order"]

EPHEMERAL_PORTS = Path("/proc/sys/net/ipv4/ip_local_port_range")  # Linux: where clients' ports come from


def new_run_id(strategies: list[str]) -> str:
    return f"{utc_now():%Y%m%dT%H%M%SZ}-{'-'.join(strategies)}"


class RunDir:
    """A run directory written under ``<final>.partial`` and renamed only once its raw data is complete."""

    def __init__(self, final: Path) -> None:
        self.final = final
        self.partial = final.with_name(final.name + ".partial")

    def create(self) -> Path:
        if self.final.exists() and not self.final.is_dir():
            raise UsageError(f"--out names a file, not a directory: {self.final}")
        if self.final.exists() and any(self.final.iterdir()):
            raise UsageError(f"--out names a directory that is not empty: {self.final}")
        try:
            self.final.parent.mkdir(parents=True, exist_ok=True)
            if self.partial.exists():
                shutil.rmtree(self.partial)
            self.partial.mkdir()
        except (FileExistsError, NotADirectoryError):
            raise UsageError(f"cannot write to {self.final}: part of that path is a file") from None
        except OSError as exc:
            raise UsageError(f"cannot write to {self.final}: {exc.strerror}") from None
        return self.partial

    def commit(self) -> Path:
        if self.final.exists():
            self.final.rmdir()  # create() checked it is empty
        self.partial.rename(self.final)
        return self.final

    def discard(self) -> None:
        shutil.rmtree(self.partial, ignore_errors=True)


def run_order(strategies: list[str]) -> list[str]:
    """Strategies that read the global set first: the others' writers update only the shards.

    The global set is seeded once and then kept in step only by the `global` strategy's own
    writes, so a phase that reads it after another phase's writes would see stale scores.
    """
    first = [n for n in strategies if get_strategy(n).needs_global_set]
    order = first + [n for n in strategies if n not in first]
    if order != strategies:
        status(f"run order {', '.join(order)}: the global set is read before other phases' writes miss it")
    return order


def refuse_to_clobber(topology: Topology, options: CompareOptions) -> None:
    """On servers the harness does not own, existing harness keys stay unless --overwrite."""
    if topology.owns_data or options.overwrite:
        return
    found = existing_keys(topology, Keys(options.key_prefix))
    if found:
        hint = "pass --overwrite to replace it or --key-prefix to use other keys"
        raise UsageError(f"{found[0]} already exists; {hint}")


def remote_worker_notes(topology: Topology, options: CompareOptions) -> None:
    """What could keep remote workers from a run, said once up front; different passwords refused."""
    if not options.remote_workers:
        return
    urls = [e.url for e in topology.nodes]
    check_remote_passwords(urls, options.remote_workers)
    if passwords(urls):
        status(
            f"note: the master sends remote workers no password: each takes it from ${PASSWORD_ENV} or"
            " lbbench-worker --password-file on its own host"
        )
    port = MasterBind.parse(options.master_bind or "").port
    with contextlib.suppress(OSError, ValueError):
        low, high = map(int, EPHEMERAL_PORTS.read_text().split())
        if low <= port <= high:
            # Seen here: a worker retrying a closed port on this host can get that very port as its
            # source port (TCP self-connect), and then the master cannot bind it.
            status(
                f"note: --master-bind port {port} is an ephemeral port ({low}-{high}), which a worker on "
                "this host retrying it can end up holding; prefer e.g. 5557"
            )
    # Remote workers read the nodes' URLs as given here: loopback ones only work on this host.
    for endpoint in [*topology.shards, topology.cache]:
        host = urlsplit(endpoint.url).hostname or ""
        loopback = host == "localhost"
        with contextlib.suppress(ValueError):
            loopback = loopback or ipaddress.ip_address(host).is_loopback
        if loopback:
            status(
                f"note: {endpoint.name} is at {host}, so remote workers must run on this host "
                "(--shard-url/--cache-url for servers they can reach)"
            )
            return


def seed_and_run(topology: Topology, options: CompareOptions, files: RunFiles, run_id: str) -> None:
    """Seed the topology, write meta.json, then run each strategy's phase in order."""
    keys = Keys(options.key_prefix)
    global_set = any(get_strategy(n).needs_global_set for n in options.strategies)
    seeded = seed_with_progress(topology, keys, options.players, options.seed, global_set=global_set)
    rate = f"{seeded.players_per_s:,.0f}/s"
    status(f"seeded {seeded.players:,} players in {seeded.seconds:.1f} s ({rate})")
    order = run_order(options.strategies)
    meta = run_meta(run_id, options.as_json(), topology.describe())
    meta.update(schema_version=SCHEMA_VERSION, strategies=order, cache_top_n=CACHE_TOP_N)
    write_json(files.meta, meta)
    for name in order:
        Phase(topology, options, name, files.phase(name)).run()
    write_json(files.capacity, capacity_probe(topology, keys, options))


def capacity_probe(topology: Topology, keys: Keys, options: CompareOptions) -> dict[str, Any]:
    """capacity.json after the load: the probe, or why there is none (the run goes on either way)."""
    length_s = options.capacity_probe_s
    if length_s <= 0 and options.capacity_s is None:  # servers the harness does not own: only when asked
        found: dict[str, Any] = {
            "available": False,
            "reason": f"not run on servers the harness does not own (--provider {topology.provider})."
            f" --capacity-s {COMPARE_CAPACITY_S:g}s asks for it: redis-benchmark then sends each read"
            " command to the cache node and shard-0 for that long, at up to"
            f" {CONCURRENCY_LEVELS[-1]} connections",
        }
    elif length_s <= 0:
        found = {"available": False, "reason": "--capacity-s 0: no capacity probe in this run"}
    else:
        try:
            found = probe(topology, keys, length_s, options.top_n)
        except RunError as exc:
            found = {"available": False, "reason": f"the capacity probe failed: {exc}"}
    if not found["available"]:
        status(f"capacity: not measured: {found['reason']}")
    return found


#: What a --tls run measures again in the clear: the seed's pair, whose gap TLS widens.
CLEAR_BASELINE_STRATEGIES = ("naive", "cached")


def clear_baseline_options(options: CompareOptions, topology: Topology) -> CompareOptions | None:
    """A --tls run on the harness's own servers: the same run in the clear, on the same server build.

    Only naive and cached, without faults or a capacity probe: what the report's TLS section compares.
    None for servers the harness does not own (no clear port to compare on) and runs without either.
    """
    strategies = tuple(s for s in CLEAR_BASELINE_STRATEGIES if s in options.strategies)
    if not options.topology.tls or not topology.owns_data or not strategies:
        return None
    same_server = (
        {"image": topology.details["image"]}
        if "image" in topology.details
        else {"server_bin": find_tls_server_binary(options.topology.server_bin).path}
    )
    clear = dataclasses.replace(
        options.topology, tls=False, tls_ca_cert=None, tls_cert=None, tls_key=None, tls_insecure=False,
        **same_server,
    )  # fmt: skip
    return dataclasses.replace(
        options, topology=clear, strategies=list(strategies), faults=(), capacity_s=0.0
    )


def compare(options: CompareOptions, *, write_scenario: bool = True) -> Path:
    """Run the whole comparison; returns the run directory (raw data, then summary and report).

    Args:
        write_scenario: write the options as scenario.toml, so that `lbbench compare --config` reruns them.
    """
    options.validate()
    run_id = new_run_id(options.strategies)
    run = RunDir(options.out or Path("results") / run_id)
    files = RunFiles(run.create())
    try:
        if write_scenario:
            scenario.write(files.scenario, "compare", options.scenario_values())
        with open_topology(options.topology) as topology:
            refuse_to_clobber(topology, options)
            status(f"topology: {topology.provider}, {len(topology.shards)} shards + cache, {topology.server}")
            remote_worker_notes(topology, options)
            if note := stall_cover_note(options):
                status(note)
            try:
                seed_and_run(topology, options, files, run_id)
            finally:
                if not topology.owns_data and not options.keep_data:
                    clear(topology, Keys(options.key_prefix))
            baseline = clear_baseline_options(options, topology)
        if baseline is not None:
            baseline_files = files.clear_baseline
            baseline_files.dir.mkdir()
            with open_topology(baseline.topology) as clear_topology:
                again = " and ".join(baseline.strategies)
                status(f"clear baseline: {again} again without TLS, on {clear_topology.server}")
                seed_and_run(clear_topology, baseline, baseline_files, f"{run_id}-clear")
    except BaseException:
        run.discard()
        raise
    return run.commit()

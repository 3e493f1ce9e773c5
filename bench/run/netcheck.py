"""`lbbench netcheck`: the network projection checked against real delay relays in front of every node.

One topology, several naive-and-cached runs on it: direct, through zero-delay relays, then through
relays adding each profile's round trips (bench/topology/delayrelay.py). analysis/netcheck/check.py
compares each run's measured latency with what the model projects for it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from urllib.parse import urlsplit

from bench import scenario
from bench.console import status
from bench.declare import Csv, Option, PathArg
from bench.errors import UsageError
from bench.run.compare import RunDir, compare
from bench.run.options import CompareOptions
from bench.topology import Topology, TopologyOptions, open_topology
from bench.topology.delayrelay import DelayRelays
from runfiles import ACHIEVED_PROFILE, DIRECT, SCENARIO, relay_run
from runfiles.rtt import BUILT_IN, LOOPBACK

STRATEGIES = ["naive", "cached"]

#: `lbbench netcheck`'s own options: declared here, where its scenario.toml is written.
PROFILES = Option(
    Csv(lambda: [name for name in BUILT_IN if name != LOOPBACK.name]),
    "built-in RTT profiles the relays add (loopback always runs)",
    commands=frozenset({"netcheck"}),
    default=("same-zone", "cross-zone"),
    name="profiles",
)
RECHECK = Option(
    PathArg("dir"),
    "only redo the comparison of a netcheck directory's runs; with several, also pool them"
    " (mean projected against mean measured per row)",
    commands=frozenset({"netcheck"}),
    name="recheck",
    many=True,
    scenario=False,
    metavar="DIR",
)


def _targets(topology: Topology) -> list[tuple[str, int]]:
    """(host, port) of every shard, then the cache."""
    targets = []
    for endpoint in [*topology.shards, topology.cache]:
        parts = urlsplit(endpoint.url)
        if parts.password or parts.username:
            raise UsageError("netcheck relays plain connections: nodes with a password are not supported")
        targets.append((parts.hostname or "127.0.0.1", parts.port or 6379))
    return targets


def _run(options: CompareOptions, urls: list[str], out: Path) -> Path:
    """One naive-and-cached compare against ``urls`` (shards, then the cache), into ``out``."""
    topology = TopologyOptions(
        shard_urls=tuple(urls[:-1]), cache_url=urls[-1], timeout_ms=options.topology.timeout_ms
    )
    # No capacity probe: through relays it would measure the relays, and the check needs none.
    return compare(
        dataclasses.replace(
            options,
            strategies=STRATEGIES,
            topology=topology,
            out=out,
            overwrite=True,
            keep_data=True,
            capacity_s=0.0,
        ),
        write_scenario=False,  # relays on this check's own ports: netcheck's scenario.toml reruns it
    )


def netcheck(options: CompareOptions, profiles: tuple[str, ...], out: Path) -> list[Path]:
    """Run direct, zero-delay relays and each profile's relays on one topology; the run directories."""
    if options.topology.provider_name not in ("local", "docker"):
        raise UsageError("netcheck spawns its own nodes (--provider local or docker), it relays to them")
    run = RunDir(out)
    run.create()  # each run below makes its own directory in it; the whole check is renamed at the end
    try:
        scenario.write(
            run.partial / SCENARIO, "netcheck", [(PROFILES, profiles), *options.scenario_values("netcheck")]
        )
        with open_topology(options.topology) as topology:
            targets = _targets(topology)
            direct = [f"redis://{host}:{port}" for host, port in targets]
            status(f"netcheck {DIRECT}: {len(topology.shards)} shards + cache, no relay")
            dirs = [_run(options, direct, run.partial / DIRECT)]
            for profile in [LOOPBACK.name, *profiles]:
                with DelayRelays(targets, profile) as relays:
                    status(f"netcheck {relay_run(profile)}: relays add {profile} round trips")
                    urls = [f"redis://127.0.0.1:{port}" for port in relays.ports]
                    dirs.append(_run(options, urls, run.partial / relay_run(profile)))
                if relays.achieved is not None:
                    (dirs[-1] / ACHIEVED_PROFILE).write_text(relays.achieved_toml)
    except BaseException:
        run.discard()
        raise
    final = run.commit()
    return [final / path.name for path in dirs]

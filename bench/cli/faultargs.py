"""compare's flags for faults: what to inject (--fault) and what a read or refresh does when a part fails."""

from __future__ import annotations

import argparse

from bench.wire.failure import CACHED_FALLBACK, NAIVE_ON_SHARD_ERROR, REFRESHER_ON_SHARD_ERROR


def add_fault_arguments(parser: argparse.ArgumentParser) -> None:
    """--fault (docs/faults.md) and the failure policies (docs/failure-policies.md)."""
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help="inject a fault into every strategy's phase, e.g. stall:shard=3,at=20s,for=5s or a preset "
        "(repeatable; `lbbench faults` lists the grammar and presets)",
    )
    faults = parser.add_argument_group("when a part fails (docs/failure-policies.md)")
    faults.add_argument(
        "--naive-on-shard-error",
        choices=NAIVE_ON_SHARD_ERROR,
        default=NAIVE_ON_SHARD_ERROR[0],
        help="naive request with a shard timing out or refusing: fail it, or answer the top of the "
        "shards that answered, counted as partial (default %(default)s)",
    )
    faults.add_argument(
        "--cached-fallback",
        choices=CACHED_FALLBACK,
        default=CACHED_FALLBACK[0],
        help="cached request with the cache failing or empty: fail it, or scatter-gather the shards "
        "instead, counted as a fallback (default %(default)s)",
    )
    faults.add_argument(
        "--refresher-on-shard-error",
        choices=REFRESHER_ON_SHARD_ERROR,
        default=REFRESHER_ON_SHARD_ERROR[0],
        help="cache refresh with a shard failing: keep the old cache (a failed refresh), or publish the "
        "top of the shards that answered (a partial refresh) (default %(default)s)",
    )

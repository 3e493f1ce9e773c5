"""The `lbbench` command line: the parser, the subcommand table and the exit codes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from bench.cache.refresher import REFRESH_INTERVAL_S
from bench.cli.args import Parser, data_parent, load_parent, positive_int, topology_parent
from bench.cli.capacity import add_capacity_parser, cmd_capacity
from bench.cli.commands import cmd_faults, cmd_refresh, cmd_seed, cmd_top, cmd_up
from bench.cli.gate import GATE_COMMANDS, add_gate_parsers
from bench.cli.image import add_image_parser, cmd_image
from bench.cli.netargs import rtt_profile
from bench.cli.runs import cmd_compare, cmd_netcheck, cmd_report, cmd_sweep
from bench.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, RunError, UsageError
from bench.run.sweep import PARAMS as SWEEP_PARAMS
from bench.threads import Terminated, install_teardown_handlers


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="lbbench", description="Naive scatter-gather vs async global cache on a sharded Redis."
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    topo, data = topology_parent(), data_parent()

    sub.add_parser(
        "compare",
        parents=[topo, data, load_parent()],
        help="run every strategy under load and write a report",
    )
    p = sub.add_parser(
        "sweep",
        parents=[topo, data, load_parent()],
        help="run compare at several values of one parameter; tidy table and curves",
    )
    p.add_argument("param", choices=sorted(SWEEP_PARAMS), help="the parameter to vary")
    p.add_argument("--values", required=True, help="comma-separated values, e.g. 5,10,30,60")
    # Capacity does not vary with the swept parameter: one `lbbench capacity` covers the sweep.
    p.set_defaults(strategies=None, duration=30.0, capacity_s=0.0)

    p = sub.add_parser(
        "netcheck",
        parents=[topo, data, load_parent()],
        help="check the network projection against real delay relays in front of every node",
    )
    p.add_argument(
        "--profiles",
        default="same-zone,cross-zone",
        help="comma-separated built-in RTT profiles the relays add (default same-zone,cross-zone)",
    )
    p.add_argument(
        "--recheck",
        type=Path,
        nargs="+",
        metavar="DIR",
        help="only redo the comparison of a netcheck directory's runs; with several, also pool them"
        " (mean projected against mean measured per row)",
    )
    # Few users: every user's sockets pass through the relay's select() loop, which scans them all.
    p.set_defaults(duration=20.0, rps=200.0, users=5, sample_every=5, players=50_000)

    p = sub.add_parser(
        "report", help="rebuild summary.json, plots and report.md from a run's raw data (or a sweep's table)"
    )
    p.add_argument("run_dir", type=Path)
    p.add_argument("--rtt-profile", type=rtt_profile, action="append", default=[], metavar="FILE")

    p = sub.add_parser("top", parents=[topo, data], help="print the current global top n")
    p.add_argument("--strategy", default="naive")
    p.add_argument("--n", type=positive_int, default=100)
    p.add_argument("--json", action="store_true", help='JSON: [{"player": ..., "score": ...}, ...]')

    p = sub.add_parser("refresh", parents=[topo, data], help="run one cache refresh")
    p.add_argument(
        "--strategy", default="cached", help="write the cache this strategy reads (default cached)"
    )
    sub.add_parser("seed", parents=[topo, data], help="seed the shards")

    p = sub.add_parser(
        "up", parents=[topo, data], help="run the local topology in the foreground until Ctrl-C"
    )
    p.add_argument("--refresh-interval", type=float, default=REFRESH_INTERVAL_S)
    sub.add_parser("faults", help="list the --fault grammar, kinds and presets")
    add_capacity_parser(sub, [topo, data])
    add_gate_parsers(sub)
    add_image_parser(sub)
    return parser


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "compare": cmd_compare,
    "sweep": cmd_sweep,
    "report": cmd_report,
    "netcheck": cmd_netcheck,
    "top": cmd_top,
    "refresh": cmd_refresh,
    "seed": cmd_seed,
    "up": cmd_up,
    "image": cmd_image,
    "faults": cmd_faults,
    "capacity": cmd_capacity,
    **GATE_COMMANDS,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `lbbench` console script."""
    args = build_parser().parse_args(argv)
    install_teardown_handlers()
    try:
        return COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"lbbench: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except RunError as exc:
        print(f"lbbench: failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except (KeyboardInterrupt, Terminated):
        print("lbbench: interrupted; spawned servers and Locust stopped", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        print(f"lbbench: failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED


def run() -> NoReturn:
    sys.exit(main())

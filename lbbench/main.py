"""The `lbbench` command line: the subcommands, their own defaults, and the exit codes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from redis.exceptions import NoPermissionError

from bench.declare import Derived
from bench.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, RunError, UsageError
from bench.threads import Terminated, install_teardown_handlers
from lbbench.ab import cmd_ab
from lbbench.capacity import cmd_capacity
from lbbench.commands import cmd_faults, cmd_refresh, cmd_seed, cmd_top, cmd_up
from lbbench.gate import GATE_DESCRIPTION, cmd_baseline, cmd_gate
from lbbench.history import cmd_history_append, cmd_history_otava
from lbbench.image import IMAGE_DESCRIPTION, cmd_image
from lbbench.options import OPTIONS
from lbbench.parser import Cli, Command, Parser
from lbbench.plan import PLAN_OPTIONS, cmd_plan
from lbbench.runs import cmd_compare, cmd_netcheck, cmd_report, cmd_sweep

COMMANDS = (
    Command("compare", "run every strategy under load and write a report", cmd_compare),
    Command(
        "sweep",
        "run compare at several values of one parameter; tidy table and curves",
        cmd_sweep,
        # Capacity does not vary with the swept parameter: one `lbbench capacity` covers the sweep.
        defaults={
            "strategies": Derived("the strategies PARAM matters to"),
            "duration": 30.0,
            "capacity-s": 0.0,
        },
    ),
    Command(
        "netcheck",
        "check the network projection against real delay relays in front of every node",
        cmd_netcheck,
        # Few users: every user's sockets pass through the relay's select() loop, which scans them all;
        # a small population seeds fast, and the check needs no more.
        defaults={"duration": 20.0, "rps": 200.0, "users": 5, "sample-every": 5, "players": 50_000},
    ),
    Command(
        "plan",
        "size your own tier: each strategy's nodes, cores, RAM, network, latency and staleness at a target",
        cmd_plan,
    ),
    Command(
        "report",
        "rebuild summary.json, plots and report.md from a run's raw data (or a sweep's table)",
        cmd_report,
    ),
    Command("top", "print the current global top n", cmd_top),
    Command("refresh", "run one cache refresh", cmd_refresh, defaults={"strategy": "cached"}),
    Command("seed", "seed the shards", cmd_seed),
    Command("up", "run the local topology in the foreground until Ctrl-C", cmd_up),
    Command("faults", "list the --fault grammar, kinds and presets", cmd_faults),
    Command(
        "capacity",
        "per-node capacity of each read command at p99 <= 1 ms, with redis-benchmark (docs/capacity.md)",
        cmd_capacity,
    ),
    Command(
        "gate",
        "check runs against limits and a baseline: exit 0 pass, 1 regression, 2 bad input, 3 unstable",
        cmd_gate,
        description=GATE_DESCRIPTION,
    ),
    Command(
        "ab",
        "run two variants interleaved in random order, K rounds, and gate on their paired difference",
        cmd_ab,
    ),
    Command("baseline save", "write results/baselines/NAME.json from run directories", cmd_baseline),
    Command(
        "history append",
        "add runs to a history CSV, one row per strategy, for `gate --history` (and Apache Otava)",
        cmd_history_append,
    ),
    Command(
        "history otava",
        "write a history as Apache Otava reads it: one CSV per series and an otava.yaml",
        cmd_history_otava,
    ),
    Command(
        "image",
        "build the server and load-generator images, with no network inside the builds",
        cmd_image,
        description=IMAGE_DESCRIPTION,
    ),
)
CLI = Cli(COMMANDS, (*OPTIONS, *PLAN_OPTIONS))


def build_parser() -> Parser:
    return CLI.build("lbbench", "Naive scatter-gather vs async global cache on a sharded Redis.")


def parse_command(argv: Sequence[str] | None) -> tuple[Command, argparse.Namespace]:
    """The command ``argv`` names and its resolved options (UsageError on a bad value; argparse exits 2
    on bad syntax)."""
    return CLI.resolve(build_parser().parse_args(argv))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `lbbench` console script."""
    install_teardown_handlers()
    try:
        command, args = parse_command(argv)
        return command.run(args)
    except UsageError as exc:
        print(f"lbbench: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except NoPermissionError as exc:
        # An ACL user without a permission a command needs: the user's setting, not a failure of ours.
        print(f"lbbench: error: a server refused a command: {exc} (the ACL each command needs: docs/tls.md)",
              file=sys.stderr)  # fmt: skip
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

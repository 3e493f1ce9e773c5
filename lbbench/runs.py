"""`lbbench compare`, `sweep`, `netcheck` and `report`: runs, and the reports built from their raw data."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.console import console, status
from bench.errors import EXIT_FAILED, EXIT_OK, UsageError
from bench.probes.meta import utc_now
from bench.run.sweep import PARAMS as SWEEP_PARAMS
from lbbench.options import compare_options
from runfiles import DIRECT, NETCHECK_MD, SWEEP, RunFiles
from runfiles.rtt import RttProfile, parse_profile
from runfiles.summary import Percentiles, read_summary


def cmd_compare(args: argparse.Namespace) -> int:
    from analysis.build import build_report, saved_clear_baseline
    from bench.run.compare import compare

    run_dir = compare(compare_options(args))
    status(f"raw data in {run_dir}; building the report")
    try:
        files = build_report(run_dir, rtt_profiles(args))
    except Exception as exc:
        console.print(f"lbbench: report failed ({exc}); raw data kept: rerun `lbbench report {run_dir}`")
        return EXIT_FAILED
    print_summary(files.summary)
    clear = saved_clear_baseline(run_dir)
    if clear is not None:  # a --tls run on the harness's own servers
        from analysis.figures.tlscost import tls_cost

        status(tls_cost(read_summary(files.summary), clear).line())
    print(files.report)
    invalid = [name for name, s in read_summary(files.summary).strategies.items() if s.valid is False]
    if invalid and args.fail_if_invalid:
        status(f"--fail-if-invalid: not valid: {', '.join(invalid)} (the reasons are above)")
        return EXIT_FAILED
    return EXIT_OK


def rtt_profiles(args: argparse.Namespace) -> tuple[RttProfile, ...]:
    """The --rtt-profile files, parsed (each was checked when the flags were read)."""
    return tuple(parse_profile(path) for path in args.rtt_profile)


def _n(value: float | None, spec: str, scale: float | None = None) -> str:
    if value is None:
        return "n/a"
    return format(value if scale is None else value / scale, spec)


def print_summary(summary_path: Path) -> None:
    """One status line per strategy: rate, latency, commands, bytes, client CPU; how the pool of users
    grew; and why not valid."""
    from analysis.figures.userpool import growth_line

    for name, s in read_summary(summary_path).strategies.items():
        lat = s.latency_us or Percentiles()
        status(
            f"{name:>11}: {_n(s.requests, '>9,')} req ({s.failures} failed)  {_n(s.rps, '>9,.0f')} req/s  "
            f"p50 {_n(lat.p50, '.2f', 1000)} ms  p99 {_n(lat.p99, '.2f', 1000)} ms  "
            f"{_n(s.redis_commands_per_request, '.2f')} cmd/req  {_n(s.bytes_out_per_request, '.1f', 1000)}"
            f" KB/req  client CPU {_n(s.client_cpu_us_per_request, '.0f')} µs/req"
        )
        grew = None if s.user_pool is None else growth_line(s.user_pool, s.latency_us_raw)
        if grew:
            status(f"{name:>11}: {grew}")
        if s.valid is False:
            status(f"{name:>11}: NOT VALID: {s.invalid_reason}")


def cmd_sweep(args: argparse.Namespace) -> int:
    from analysis.build import build_report, build_sweep_report
    from bench.run.sweep import parse_values, point_name, sweep
    from bench.strategies import parse_strategies

    param = SWEEP_PARAMS[args.param]
    values = parse_values(param, args.values)
    if args.strategies is None:
        args.strategies = parse_strategies(param.default_strategies)
    base = compare_options(args)
    out = args.out or Path("results") / f"{utc_now():%Y%m%dT%H%M%SZ}-sweep-{param.name}"

    def after_point(point_dir: Path) -> None:
        print_summary(build_report(point_dir, rtt_profiles(args)).summary)

    sweep_dir = sweep(param, values, base, out, after_point, repeats=args.repeats)
    csv_path, _, md = build_sweep_report(sweep_dir)
    runs = f", each run {args.repeats} times" if args.repeats > 1 else ""
    status(
        f"{len(values)} points ({', '.join(point_name(param, v) for v in values)}){runs}; table {csv_path}"
    )
    print(md)
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from analysis.build import build_report

    run_dir: Path = args.run_dir
    if (run_dir / SWEEP).is_file():
        from analysis.build import build_sweep_report

        print(build_sweep_report(run_dir)[2])
        return EXIT_OK
    files = RunFiles(run_dir)
    if not files.is_run() and files.summary.is_file():
        from analysis.build import render_from_summary

        status(f"{run_dir} has no raw data: report.md rendered again from its summary.json")
        print(render_from_summary(run_dir))
        return EXIT_OK
    if not files.is_run():
        raise UsageError(f"{run_dir} is not a run directory (no meta.json and raw/, no summary.json)")
    built = build_report(run_dir, rtt_profiles(args))
    print_summary(built.summary)
    print(built.report)
    return EXIT_OK


def cmd_netcheck(args: argparse.Namespace) -> int:
    from analysis.build import build_report, write_report_html
    from analysis.netcheck.check import check
    from analysis.netcheck.pool import pool, render_pool
    from bench.run.netcheck import netcheck

    if args.recheck:
        for check_dir in args.recheck:
            if not (check_dir / DIRECT).is_dir():
                raise UsageError(f"{check_dir} is not a netcheck directory (no {DIRECT}/ run)")
        results = [check(check_dir) for check_dir in args.recheck]
        for check_dir in args.recheck:
            write_report_html(check_dir)
        if len(results) == 1:
            print((args.recheck[0] / NETCHECK_MD).read_text())
        else:
            print(render_pool(pool(results)))
        return EXIT_OK
    out = args.out or Path("results") / f"{utc_now():%Y%m%dT%H%M%SZ}-netcheck"
    for run_dir in netcheck(compare_options(args, out=None), args.profiles, out):
        print_summary(build_report(run_dir, rtt_profiles(args)).summary)
    check(out)
    write_report_html(out)
    print((out / NETCHECK_MD).read_text())
    status(f"runs and {NETCHECK_MD} in {out}")
    return EXIT_OK

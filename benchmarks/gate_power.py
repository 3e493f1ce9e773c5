"""How often does each gate mode cry wolf, and how often does it catch a real regression?

Run: .venv/bin/python benchmarks/gate_power.py collect --rounds 16 --out results/gate-power
     .venv/bin/python benchmarks/gate_power.py analyse results/gate-power [--k 6]

``collect`` starts 10 shards and a cache node once (bench.topology, local provider) and runs rounds of
`lbbench compare --config .ci/perf-gate.toml` against them, one run per variant per round in a random
order. ``a`` and ``a2`` are the same code and flags twice: any difference between them is noise.
``x5``, ``x10`` and ``x20`` are a regression of known size: every read busy-waits 18, 36 or 72 µs of CPU
inside its timed region (``--read-extra-cpu-us``), 5, 10 and 20% of this scenario's cached p50 here
(360 µs, the median of 32 unchanged runs on this machine), as slower code in the read path would. It
moves latency and client CPU per request by the same microseconds and adds no noise of its own; the
table gives the shift measured (the mean paired change), not the one intended. Runs stay under
``round-NN-<variant>/``.

``analyse`` applies the gates' own decision functions to those runs: A/B (analysis/gate/ab.py) on K
rounds at a time, the history's change points (analysis/gate/history.py) on the unchanged runs in time
order with a regressed commit's 3 runs appended, and today's baseline rule (analysis/gate/evaluate.py's
noise rule) on 3 runs against 3 others. Tries are drawn from the rounds at random (seeded); the rounds
are the independent samples, and the table says how many there were.

A first design injected the regression with a delay relay in front of the cache (+5/10/20% of its p50,
bench/topology/delayrelay.py): through a Python relay, run-to-run noise of cached p50 was 0.21 (SD of
ln(a2/a)) against 0.065 for naive's direct sockets in the same runs, so the relay, not the gate, set
what could be seen. A second asked for more entries per read (``--top-n 110/120/140``): direct, but
the shifts it made (+1 to +4% of cached p50) were below anything a gate could be asked to see.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import subprocess
import sys
from pathlib import Path

import pandas as pd

from analysis.gate.ab import Round, ab_metrics, ab_results, differences
from analysis.gate.baseline import Measured, load_run
from analysis.gate.evaluate import FAIL, UNSTABLE, CheckResult, default_checks, evaluate
from analysis.gate.history import history_results, history_rows
from analysis.metrics import value_at
from bench.threads import install_teardown_handlers
from bench.topology.processes import child_preexec

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / ".ci" / "perf-gate.toml"
UNCHANGED = ("a", "a2")
REGRESSED = {f"x{share}": ["--read-extra-cpu-us", str(us)] for share, us in ((5, 18), (10, 36), (20, 72))}
VARIANTS: dict[str, list[str]] = {name: [] for name in UNCHANGED} | REGRESSED


def _compare(scenario: Path, flags: list[str], out: Path) -> None:
    argv = [sys.executable, "-m", "lbbench", "compare", "--config", str(scenario), *flags]
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.with_suffix(".log").open("w") as log:
        subprocess.run(
            [*argv, "--out", str(out)],
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
            preexec_fn=child_preexec,  # the compare dies with this script
        )


def collect(rounds: int, out: Path, seed: int, base_scenario: Path = SCENARIO) -> None:
    from bench.topology import TopologyOptions, open_topology

    out.mkdir(parents=True, exist_ok=True)
    with open_topology(TopologyOptions(shards=10)) as topology:
        scenario = out / "scenario.toml"
        top = base_scenario.read_text().split("\n[gates]")[0]  # the compare scenario, not the gate
        lines = [line for line in top.splitlines() if line.strip()]
        urls = ", ".join(f'"{endpoint.url}"' for endpoint in topology.shards)
        lines += [f"shard-url = [{urls}]", f'cache-url = "{topology.cache.url}"', "overwrite = true", ""]
        scenario.write_text("\n".join(lines))
        order_rng = random.Random(seed)
        for number in range(1, rounds + 1):
            order = order_rng.sample(list(VARIANTS), len(VARIANTS))
            print(f"round {number} of {rounds}: {' '.join(order)}", flush=True)
            for name in order:
                _compare(scenario, VARIANTS[name], out / f"round-{number:02d}-{name}")


def _runs(folder: Path) -> dict[int, dict[str, Measured]]:
    """round number -> variant -> its run."""
    found: dict[int, dict[str, Measured]] = {}
    for path in sorted(folder.glob("round-*")):
        if path.is_dir() and (path / "summary.json").is_file():
            _, number, variant = path.name.split("-", 2)
            found.setdefault(int(number), {})[variant] = load_run(path)[0]
    return {n: runs for n, runs in found.items() if len(runs) == len(VARIANTS)}


#: What a try reports: the gate failed on any check; on cached p50 (the injected shift); any UNSTABLE.
Outcome = tuple[bool, bool, bool]
P50_CHECKS = ("ab: cached.latency_us_p50", "history: cached.latency_us_p50", "cached.latency_us.p50")


def _outcome(results: list[CheckResult]) -> Outcome:
    failed = [row.check for row in results if row.verdict == FAIL]
    return (
        bool(failed),
        any(check.startswith(P50_CHECKS) for check in failed),
        any(row.verdict == UNSTABLE for row in results),
    )


def _ab(pairs: list[tuple[Measured, Measured]]) -> Outcome:
    """A/B over these rounds (analysis/gate/ab.py)."""
    return _outcome(ab_results(differences([Round(a, b, "a") for a, b in pairs])))


def _history(past: list[Measured], new: list[Measured]) -> Outcome:
    """The history gate after appending ``new`` (one commit) to ``past`` (one commit per 3 runs)."""
    rows = []
    for i, run in enumerate([*past, *new]):
        commit = f"c{i // 3:03d}" if i < len(past) else "new"
        meta = {"created_utc": f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}", "git": {"commit": commit}}
        # The regression is in the code, not the scenario: its runs belong to the same series.
        summary = dict(run.summary, run_id=f"r{i}", scenario=past[0].summary["scenario"])
        rows += history_rows(summary, meta, "main")
    return _outcome(history_results(pd.DataFrame(rows)))


def _baseline(current: list[Measured], baseline: list[Measured]) -> Outcome:
    """Today's rule: the metric table's default checks of the runs against a baseline of other runs."""
    return _outcome(evaluate(default_checks(current, baseline), current, baseline).results)


def analyse(folder: Path, k: int, tries: int) -> str:
    rounds = _runs(folder)
    numbers = sorted(rounds)
    rng = random.Random(2)
    lines = [
        f"{len(numbers)} complete rounds in {folder}; A/B on {k} rounds per try; {tries} tries per cell,"
        " drawn at random from the rounds.",
        "",
        "| mode | B | gate FAIL (any check) | FAIL on cached p50 | UNSTABLE | compares per gate |",
        "|:--|:--|--:|--:|--:|--:|",
    ]
    cost = {"ab": 2 * k, "history": 3, "baseline": 3}
    valid = {name: {n for n in numbers if rounds[n][name].valid} for name in VARIANTS}
    for variant in ("a2", *REGRESSED):
        counts = {mode: [0, 0, 0] for mode in cost}
        for _ in range(tries):
            order = rng.sample(numbers, len(numbers))
            new, past, base = order[:3], sorted(order[3:]), order[3:6]
            spare = order[6:]
            # As the gates do (lbbench ab --invalid-reruns 1, make perf-gate): a try that drew a run
            # that is not valid runs it again once, here by drawing another round in its place.
            new = _rerun_invalid(new, spare, valid[variant], rng)
            base = _rerun_invalid(base, spare, valid["a"], rng)
            drawn = rng.sample(numbers, len(numbers))
            pairs = _rerun_invalid(drawn[:k], drawn[k:], valid["a"] & valid[variant], rng)
            found = {
                "ab": _ab([(rounds[n]["a"], rounds[n][variant]) for n in pairs]),
                # Every unchanged run of the other rounds, in time order, then the new commit's three.
                "history": _history(
                    [rounds[n][name] for n in past for name in UNCHANGED], [rounds[n][variant] for n in new]
                ),
                "baseline": _baseline([rounds[n][variant] for n in new], [rounds[n]["a"] for n in base]),
            }
            for mode, outcome in found.items():
                for i, hit in enumerate(outcome):
                    counts[mode][i] += hit
        shift = _mean_change(rounds, variant, "cached", "latency_us_p50")
        cpu = _mean_change(rounds, variant, "cached", "client_cpu_us_per_request")
        label = f"{variant}: cached p50 {shift:+.1%}, client CPU {cpu:+.1%}"
        for mode, (any_fail, p50_fail, unstable) in counts.items():
            rates = " | ".join(f"{count / tries:.0%}" for count in (any_fail, p50_fail, unstable))
            lines.append(f"| {mode} | {label} | {rates} | {cost[mode]} |")
    lines += ["", *_noise_lines(rounds)]
    return "\n".join(lines)


def _rerun_invalid(drawn: list[int], spare: list[int], good: set[int], rng: random.Random) -> list[int]:
    """``drawn`` with each round not in ``good`` swapped once for one taken from ``spare``."""
    return [n if n in good or not spare else spare.pop(rng.randrange(len(spare))) for n in drawn]


def _mean_change(rounds: dict[int, dict[str, Measured]], variant: str, strategy: str, key: str) -> float:
    """exp(mean over rounds of ln(variant / a)) - 1: the variant's measured shift."""
    return math.expm1(statistics.fmean(_log_ratios(rounds, variant, strategy, key)))


def _log_ratios(rounds: dict[int, dict[str, Measured]], variant: str, strategy: str, key: str) -> list[float]:
    path = ab_metrics()[key][0]
    return [
        math.log(float(value_at(r[variant].summary["strategies"][strategy], path)))
        - math.log(float(value_at(r["a"].summary["strategies"][strategy], path)))
        for r in rounds.values()
    ]


def _noise_lines(rounds: dict[int, dict[str, Measured]]) -> list[str]:
    """Run-to-run noise of the unchanged pair, and what it implies for A/B's rounds (the arithmetic)."""
    z_alpha, z_power = 1.645, 1.2816  # one-sided 5%; 90% power
    lines = [
        "| metric | SD of ln(a2/a) per round | rounds for 90% power at +10% | at +20% |",
        "|:--|--:|--:|--:|",
    ]
    # naive's sockets go straight to the shards: its rows are the noise of a run without a relay.
    for strategy in ("cached", "naive"):
        for key in ("latency_us_p50", "client_cpu_us_per_request"):
            sd = statistics.stdev(_log_ratios(rounds, "a2", strategy, key))
            need = [math.ceil(((z_alpha + z_power) * sd / math.log(1 + x)) ** 2) for x in (0.10, 0.20)]
            lines.append(f"| {strategy}.{key} | {sd:.3f} | {need[0]} | {need[1]} |")
    return lines


def main() -> None:
    install_teardown_handlers()  # Ctrl-C or SIGTERM: the finally blocks stop relays and servers
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect")
    c.add_argument("--rounds", type=int, default=16)
    c.add_argument("--out", type=Path, required=True)
    c.add_argument("--seed", type=int, default=1)
    c.add_argument("--scenario", type=Path, default=SCENARIO, help="the compare scenario ([gates] ignored)")
    a = sub.add_parser("analyse")
    a.add_argument("dir", type=Path)
    a.add_argument("--k", type=int, default=6)
    a.add_argument("--tries", type=int, default=400)
    args = parser.parse_args()
    if args.command == "collect":
        collect(args.rounds, args.out, args.seed, args.scenario)
    else:
        print(analyse(args.dir, args.k, args.tries))


if __name__ == "__main__":
    main()

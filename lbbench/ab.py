"""`lbbench ab`: two variants of a run, interleaved in random order, K rounds, judged on their difference.

A variant is a set of compare flags (``--a``/``--b``, e.g. another ``--server-bin``) and, optionally,
another git ref of the harness (``--a-ref``/``--b-ref``, run from its own worktree and virtualenv).
Both run the same scenario file (``--scenario``). Each run is a ``lbbench compare`` process whose
output goes to its own log; the rule that judges them is in analysis/gate/ab.py.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import shlex
import subprocess
import sys
from pathlib import Path

from bench.console import status
from bench.errors import RunError
from bench.probes.meta import utc_now
from bench.topology.processes import child_preexec

#: How long one compare of an A/B may take before it is called stuck.
RUN_TIMEOUT_S = 1800
AB_MD, AB_JSON = "ab.md", "ab.json"


def _compare(command: list[str], run_dir: Path) -> None:
    """One compare into ``run_dir``, its output in ``run_dir``.log; RunError if it wrote no summary."""
    log = run_dir.with_suffix(".log")
    with log.open("w") as out:
        process = subprocess.Popen(
            [*command, "--out", str(run_dir)],
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=child_preexec,  # noqa: PLW1509 -- only sets the parent-death signal and the mask
        )
        try:
            process.wait(timeout=RUN_TIMEOUT_S)
        except BaseException:
            # Ctrl-C reaches the child too; a SIGTERM or a timeout here does not: stop it, then go on up.
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=60)
            process.kill()
            raise
    if not (run_dir / "summary.json").is_file():
        tail = " | ".join(log.read_text().strip().splitlines()[-3:])
        code = process.returncode
        raise RunError(f"{' '.join(command[:2])} ... exited {code} without a run ({log}): {tail[-400:]}")


def cmd_ab(args: argparse.Namespace) -> int:
    from analysis.gate.ab import RULE, Round, ab_results, differences
    from analysis.gate.baseline import load_run
    from analysis.gate.evaluate import GateResult
    from analysis.gate.report import gate_document, gate_table
    from lbbench.gate import finish_gate

    out: Path = args.out or Path("results") / f"{utc_now():%Y%m%dT%H%M%SZ}-ab"
    out.mkdir(parents=True, exist_ok=True)
    variants = {"a": shlex.split(args.a or ""), "b": shlex.split(args.b or "")}
    if variants["a"] == variants["b"] and args.a_ref == args.b_ref:
        status("ab: A and B are the same variant: this measures the gate's false alarms")
    order_rng = random.Random(args.order_seed)
    with contextlib.ExitStack() as stack:
        commands = {}
        for side, ref in (("a", args.a_ref), ("b", args.b_ref)):
            if ref is None:
                prefix = [sys.executable, "-m", "lbbench"]
            else:
                from lbbench.worktree import checked_out

                prefix = stack.enter_context(checked_out(ref, out))
            scenario = ["--config", str(args.scenario)] if args.scenario else []
            commands[side] = [*prefix, "compare", *scenario, *variants[side]]
        rounds: list[Round] = []
        reruns: list[tuple[int, list[str]]] = []  # (round, the runs that were not valid)
        for number in range(1, args.rounds + 1):
            order = order_rng.sample(["a", "b"], 2)
            for attempt in range(args.invalid_reruns + 1):
                # A rerun goes beside the first try, not over it: both stay for the record.
                name = f"round-{number:02d}" + (f"-rerun{attempt}" if attempt else "")
                again = f", again ({attempt} of {args.invalid_reruns})" if attempt else ""
                first, second = (side.upper() for side in order)
                status(f"ab: round {number} of {args.rounds}{again}: {first} then {second}")
                for side in order:
                    _compare(commands[side], out / f"{name}-{side}")
                a, b = (load_run(out / f"{name}-{side}")[0] for side in ("a", "b"))
                invalid = [run.label for run in (a, b) if not run.valid]
                if not invalid or attempt == args.invalid_reruns:
                    break
                status(f"ab: {', '.join(invalid)} not valid (summary.json says why): running the round again")
                reruns.append((number, invalid))
            rounds.append(Round(a, b, order[0]))
    result = GateResult(ab_results(differences(rounds)))
    gate = gate_document(
        result,
        [r.b for r in rounds],
        None,
        utc_now().isoformat(timespec="seconds"),
        [],
    )
    gate["ab"] = {
        "a": {"flags": variants["a"], "ref": args.a_ref},
        "b": {"flags": variants["b"], "ref": args.b_ref},
        "rounds": [{"a": r.a.label, "b": r.b.label, "first": r.first} for r in rounds],
        "order_seed": args.order_seed,
        "reruns": [{"round": number, "invalid": labels} for number, labels in reruns],
        "rule": RULE,
    }
    (out / AB_JSON).write_text(json.dumps(gate, indent=2) + "\n")
    (out / AB_MD).write_text(
        f"# A/B: {len(rounds)} rounds, interleaved in random order\n\n"
        f"A: `{shlex.join(variants['a']) or '(no flags)'}`{_ref(args.a_ref)};"
        f" B: `{shlex.join(variants['b']) or '(no flags)'}`{_ref(args.b_ref)}.\n\n"
        f"Rule: {RULE}.\n\n{_reruns_line(reruns)}{gate_table(gate)}\n"
    )
    status(f"ab: {out / AB_MD}")
    return finish_gate(gate, result, args, [])


def _reruns_line(reruns: list[tuple[int, list[str]]]) -> str:
    if not reruns:
        return ""
    rounds = ", ".join(f"{number} ({', '.join(labels)})" for number, labels in reruns)
    return f"Run again because a run was not valid (--invalid-reruns): round {rounds}.\n\n"


def _ref(ref: str | None) -> str:
    return f" at `{ref}`" if ref else ""

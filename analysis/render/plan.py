"""plan.md and plan.png: every strategy at the target, the choice, its assumptions; the validation table.

A quantity the last ``lbbench plan --validate`` did not validate is marked † in the plan's table, with
a footnote naming it, so no projected figure reads as if it had been checked when it has not.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from analysis.figures.validation import EXACT, QUANTITIES, SPREAD_FLOOR, WITHIN, Validation
from analysis.fmt import md_table
from analysis.render.axes import plain_log_ticks
from analysis.render.plots import DPI, FIGSIZE_IN, save_figure
from runfiles.summary import Plan, StrategyPlan

PLAN_MD = "plan.md"
PLAN_JSON = "plan.json"
PLAN_PNG = "plan.png"
VALIDATION_MD = "validation.md"
VALIDATION_JSON = "validation.json"

#: Each column of the plan's table that rests on a validated quantity (figures/validation.py).
RESTS_ON = {
    "Redis queries/s": "commands_per_request",
    "network MB/s": "bytes_out_per_request",
    "Redis cores": "redis_cpu_us_per_request",
    "app cores (this client)": "client_cpu_us_per_request",
    "p50 ms": "latency_us_p50",
    "p99 ms": "latency_us_p99",
    "top-n entries off": "entries_differ_mean",
}


def _n(value: float | None, spec: str = ",.1f") -> str:
    return "n/a" if value is None else format(value, spec)


def _cells(p: StrategyPlan) -> dict[str, str]:
    return {
        "meets SLO": "yes" if p.meets_slo else "no: " + "; ".join(p.misses),
        "cost, cores": _n(p.cost_cores),
        "Redis nodes": _n(p.redis_nodes, ","),
        "Redis queries/s": _n(p.redis_queries_per_s, ",.0f"),
        "Redis cores": _n(p.redis_cores),
        "RAM / shard GB": _n(p.ram_per_shard_gb, ",.2f"),
        "cache node RAM MB": _n(None if p.cache_node_ram_gb is None else p.cache_node_ram_gb * 1000, ",.1f"),
        "network MB/s": _n(p.network_mb_per_s),
        "app cores (this client)": _n(p.app_cores),
        "app cores (compiled)": _n(p.app_cores_compiled),
        "p50 ms": _n(p.latency_ms_p50, ",.2f"),
        "p99 ms": _n(p.latency_ms_p99, ",.2f"),
        "refresh every s": _n(p.refresh_interval_s, ",.1f") if p.refresh_interval_s is not None else "-",
        "stale up to s": _n(p.staleness_bound_s, ",.1f"),
        "top-n entries off": _n(p.top_n_error, ",.1f"),
    }


def not_validated(validated: dict[str, bool] | None) -> set[str]:
    """The table's columns resting on a quantity the validation did not validate (all, without one)."""
    return {column for column, quantity in RESTS_ON.items() if not (validated or {}).get(quantity, False)}


def plan_table(plan: Plan, marked: set[str]) -> str:
    """The per-strategy table, cheapest first among those meeting the SLO; ``marked`` columns get †."""
    order = sorted(plan.strategies.values(), key=lambda p: (not p.meets_slo, p.cost_cores or float("inf")))
    columns = list(_cells(order[0])) if order else []
    header = ["strategy", *(f"{c} †" if c in marked else c for c in columns)]
    return md_table(header, [[p.strategy or "", *_cells(p).values()] for p in order])


def _validation_note(validated: dict[str, bool] | None, source: str | None) -> str:
    if validated is None:
        return (
            "† No validation was found: none of these projections has been checked against held-out runs"
            " (`lbbench plan --validate`, docs/planning.md)."
        )
    missed = sorted(not_validated(validated))
    if not missed:
        return f"Every projected column held its bound in the validation read from `{source}`."
    return (
        f"† not validated: the validation read from `{source}` missed its bound on what "
        + ", ".join(missed)
        + " rest on (docs/planning.md); read these as estimates."
    )


def render_plan(plan: Plan, validated: dict[str, bool] | None, validation_source: str | None) -> str:
    """plan.md."""
    t = plan.target
    lines = [
        "# Plan",
        "",
        f"Target: {t.players:,} players on {t.shards} shards, {t.rps:,.0f} top-{t.top_n} reads/s, one write"
        f" per {t.read_write_ratio:,} reads, a top-{t.cached_entries:,} cache refreshed every"
        f" {t.refresh_interval_s:g} s, on the {t.network} network; SLO p99 <= {t.slo_p99_ms:g} ms and"
        f" staleness <= {t.max_staleness_s:g} s; {t.server_cores} core(s) per Redis node"
        + (f", {t.app_cores} per application host." if t.app_cores else "."),
        "",
        "Every figure below is derived from runs measured on this machine ("
        + ", ".join(f"`{run}`" for run in plan.runs or [])
        + "), projected to the target by the model of docs/planning.md.",
        "",
        "## The choice",
        "",
        *[f"- {line}" for line in plan.why],
        "",
        "## Each strategy at the target",
        "",
    ]
    lines += [plan_table(plan, not_validated(validated)), "", _validation_note(validated, validation_source)]
    lines += [
        "",
        "## Assumptions, and the measurement behind each",
        "",
        assumptions_table(plan),
        "",
    ]
    return "\n".join(lines)


def assumptions_table(plan: Plan) -> str:
    """Each assumption beside the measurement behind it."""
    rows = [[a.assumption, a.measured] for a in plan.assumptions]
    return md_table(["assumption", "measured by"], rows, numeric=False)


def plan_figure(plan: Plan) -> Figure:
    """Cores by strategy (Redis nodes and application), and projected p99 against the SLO."""
    order = sorted(plan.strategies.values(), key=lambda p: p.cost_cores or float("inf"))
    names = [p.strategy for p in order]
    x = np.arange(len(names))
    fig, (left, right) = plt.subplots(1, 2, figsize=FIGSIZE_IN, dpi=DPI)
    redis = [float((p.redis_nodes or 0) * plan.target.server_cores) for p in order]
    app = [float(p.app_cores or 0.0) for p in order]
    left.bar(x, redis, label="Redis nodes x cores")
    left.bar(x, app, bottom=redis, label="application cores (this client)")
    compiled = [float(p.app_cores_compiled or 0.0) for p in order]
    left.scatter(
        x,
        [r + c for r, c in zip(redis, compiled, strict=True)],
        marker="_",
        s=300,
        color="k",
        label="with a compiled client",
        zorder=3,
    )
    left.set_xticks(x, names, rotation=30)
    left.set_ylabel("cores at the target")
    left.legend(fontsize="small")
    left.grid(True, axis="y", alpha=0.3)
    p99 = [p.latency_ms_p99 or 0.0 for p in order]
    colors = ["tab:green" if p.meets_slo else "tab:gray" for p in order]
    right.bar(x, p99, color=colors)
    right.axhline(
        plan.target.slo_p99_ms, color="tab:red", linestyle="--", label=f"SLO {plan.target.slo_p99_ms:g} ms"
    )
    right.set_yscale("log")
    plain_log_ticks(right.yaxis)
    right.set_xticks(x, names, rotation=30)
    right.set_ylabel(f"projected p99 ms ({plan.target.network})")
    right.legend(fontsize="small")
    right.grid(True, axis="y", alpha=0.3)
    fig.suptitle("Plan: green meets the SLO (latency and staleness); the choice is the cheapest green")
    fig.tight_layout()
    return fig


def plot_plan(plan: Plan, path: Path) -> Path:
    return save_figure(plan_figure(plan), path)


def _value(value: float | None, quantity: str) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.2f}" if quantity in ("commands_per_request", "entries_differ_mean") else f"{value:,.1f}"


def render_validation(validation: Validation, commands: list[str]) -> str:
    """validation.md: predicted against measured at each held-out point, and what held."""
    labels = {q.name: q.label for q in QUANTITIES}
    bounds = {
        "exact": f"exact (±{EXACT:.0%})",
        "within": f"±{WITHIN:.0%}",
        "spread": f"in the repeats' range ±{SPREAD_FLOOR:g}",
        "none": "none",
    }
    bound_of = {q.name: bounds[q.bound] for q in QUANTITIES}
    rows = [
        [
            row.point,
            row.strategy,
            labels[row.quantity],
            _value(row.predicted, row.quantity),
            _value(row.measured_mean, row.quantity),
            f"{_value(row.measured_min, row.quantity)} to {_value(row.measured_max, row.quantity)}",
            "n/a" if row.error is None else f"{row.error:+.1%}",
            bound_of[row.quantity],
            {True: "pass", False: "MISS", None: "-"}[row.passed],
        ]
        for row in validation.rows
    ]
    held = [labels[q] for q, ok in validation.validated.items() if ok]
    missed = [labels[q] for q, ok in validation.validated.items() if not ok]
    lines = [
        "# Plan validation: predicted from the fit runs, measured at points the fit did not see",
        "",
        f"Fit on {len(validation.fit)} runs; {len(validation.points)} held-out points, each measured"
        f" {max((len(r) for r in validation.points.values()), default=0)} times.",
        f"Points passing every bound: {len(validation.points_passing)} of {len(validation.points)}"
        + (f" ({', '.join(validation.points_passing)})." if validation.points_passing else "."),
        f"Validated at every point: {', '.join(held) or 'nothing'}.",
        f"Not validated (marked † in plans): {', '.join(missed) or 'nothing'}.",
        "",
        md_table(
            ["point", "strategy", "quantity", "predicted", "measured mean", "range", "error", "bound", ""],
            rows,
            labels=3,
        ),
        "",
        "Commands:",
        "",
        "```",
        *commands,
        "```",
        "",
    ]
    return "\n".join(lines)

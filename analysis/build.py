"""A run directory's raw data into summary.json, plots, report.md and report.html; a sweep's points into its
own files."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from analysis.figures.summary import build_summary, scale_model
from analysis.figures.sweep import sweep_frame
from analysis.gate.report import with_gate_section
from analysis.load import frames, hdr
from analysis.page.headline import compare_headline
from analysis.page.html import write_html
from analysis.render.costplots import plot_costs
from analysis.render.faultplots import plot_faults_timeline
from analysis.render.network import plot_network
from analysis.render.plots import plot_latency_cdf, plot_ops_per_node, plot_rate, save_figure
from analysis.render.report import render_report
from analysis.render.staleness import plot_staleness
from analysis.render.sweep import sweep_figure, sweep_markdown
from analysis.render.timeline import plot_latency_timeline
from runfiles import NETCHECK_MD, REPORT_HTML, SWEEP, SWEEP_MD, RunFiles, read_json, write_json
from runfiles.rtt import RttProfile
from runfiles.summary import Summary, read_summary


@dataclass(frozen=True)
class ReportFiles:
    """What `build_report` wrote."""

    summary: Path
    report: Path
    plots: list[Path]


def build_report(run_dir: Path, rtt_profiles: tuple[RttProfile, ...] = ()) -> ReportFiles:
    """(Re)build summary.json, the PNG plots and report.md from ``run_dir``'s raw data.

    ``rtt_profiles``: network profiles projected besides the built-in ones (``--rtt-profile``).
    """
    summary = build_summary(run_dir, rtt_profiles)
    files = RunFiles(run_dir)
    write_json(files.summary, summary.to_json())
    summary_path = files.summary
    latency_png = plot_latency_cdf(hdr.latency_curves(run_dir), run_dir / "latency_cdf.png")
    windows = {name: frames.window(run_dir, name).to_json() for name in frames.strategies(run_dir)}
    rate_png = plot_rate(frames.intervals(run_dir), windows, run_dir / "rate.png")
    ops_png = plot_ops_per_node(
        frames.nodes(run_dir), run_dir / "ops_per_node.png", frames.refreshes(run_dir)
    )
    timeline_png = plot_latency_timeline(
        hdr.latency_per_second(run_dir), frames.refreshes(run_dir), run_dir / "latency_timeline.png"
    )
    plots = {
        "Latency distribution": latency_png.name,
        "Achieved request rate": rate_png.name,
        "Redis ops/s per node": ops_png.name,
        "Latency second by second": timeline_png.name,
    }
    written = [latency_png, rate_png, ops_png, timeline_png]
    staleness = frames.staleness(run_dir)
    if not staleness.empty:
        stale_png = plot_staleness(staleness, frames.refreshes(run_dir), run_dir / "staleness.png")
        plots["Staleness of the cached views"] = stale_png.name
        written.append(stale_png)
    if summary.under_faults:
        faults_png = plot_faults_timeline(run_dir, summary.under_faults, run_dir / "faults_timeline.png")
        plots["Under faults, second by second"] = faults_png.name
        written.append(faults_png)
    network_png = plot_network(summary, run_dir)
    if network_png is not None:
        plots["Network projection"] = network_png.name
        written.append(network_png)
    costs = plot_costs(summary, run_dir)
    plots.update(costs)
    written += [run_dir / name for name in costs.values()]
    meta = frames.read_json(files.meta)
    report_path = files.report
    report = render_report(summary, meta, plots, clear_baseline(run_dir, rtt_profiles))
    # A gate already run on this directory keeps its section (as it was decided, from gate.json).
    if files.gate.is_file():
        report = with_gate_section(report, frames.read_json(files.gate))
    report_path.write_text(report)
    write_report_html(run_dir)
    return ReportFiles(summary_path, report_path, written)


def clear_baseline(run_dir: Path, rtt_profiles: tuple[RttProfile, ...] = ()) -> Summary | None:
    """A --tls run's clear baseline (``clear/``), its summary.json written; None in other runs."""
    files = RunFiles(run_dir).clear_baseline
    if not files.is_run():
        return None
    summary = build_summary(files.dir, rtt_profiles)
    write_json(files.summary, summary.to_json())
    return summary


def saved_clear_baseline(run_dir: Path) -> Summary | None:
    """The summary a --tls run's clear baseline was given (by ``clear_baseline``), if it has one."""
    path = RunFiles(run_dir).clear_baseline.summary
    return read_summary(path) if path.is_file() else None


# A plot in report.md's Plots section: the image, then its caption in italics (render_report writes it).
_PLOT = re.compile(r"!\[([^\]]+)\]\(([^)]+)\)\n\n\*\1\*")


def render_from_summary(run_dir: Path) -> Path:
    """report.md again from summary.json and meta.json alone, for a run kept without its raw data.

    The plots cannot be drawn again: the report shows those its last version showed. The scale model,
    derived from the rest of the summary, is worked out again (and written back), so an old run's report
    shows the current model.
    """
    files = RunFiles(run_dir)
    meta = read_json(files.meta) if files.meta.is_file() else {}
    previous = files.report.read_text() if files.report.is_file() else ""
    plots = dict(_PLOT.findall(previous))
    summary = read_summary(files.summary)
    summary = replace(summary, scale_model=scale_model(run_dir, summary))
    write_json(files.summary, summary.to_json())
    report = render_report(summary, meta, plots, saved_clear_baseline(run_dir))
    if files.gate.is_file():
        report = with_gate_section(report, read_json(files.gate))
    files.report.write_text(report)
    write_report_html(run_dir)
    return files.report


def build_sweep_report(sweep_dir: Path) -> tuple[Path, Path, Path]:
    """Write sweep.csv, sweep.png and sweep.md into ``sweep_dir``."""
    described = read_json(sweep_dir / SWEEP)
    frame = sweep_frame(sweep_dir)
    csv_path = sweep_dir / "sweep.csv"
    frame.to_csv(csv_path, index=False)
    png = save_figure(sweep_figure(frame, described["param"], described["unit"]), sweep_dir / "sweep.png")
    md = sweep_dir / SWEEP_MD
    md.write_text(sweep_markdown(frame, described["param"], described["unit"], png.name))
    write_report_html(sweep_dir)
    return csv_path, png, md


def write_report_html(folder: Path) -> Path | None:
    """report.html from the folder's Markdown report: a run's report.md (with the headline its summary
    gives), a sweep's sweep.md or a netcheck's netcheck.md. None when the folder has none of them."""
    files = RunFiles(folder)
    if files.report.is_file() and files.summary.is_file():
        meta = read_json(files.meta) if files.meta.is_file() else {}
        gate = read_json(files.gate) if files.gate.is_file() else None
        headline = compare_headline(read_summary(files.summary), meta, gate)
        return write_html(files.report, files.report_html, headline)
    for name in (SWEEP_MD, NETCHECK_MD):
        if (folder / name).is_file():
            return write_html(folder / name, folder / REPORT_HTML)
    return None

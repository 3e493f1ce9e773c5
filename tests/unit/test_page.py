"""report.html's page: Markdown into sections and tables, plots embedded, wide tables folded, the headline."""

from __future__ import annotations

import base64
from pathlib import Path

from analysis.page.headline import compare_headline
from analysis.page.html import WIDE_COLUMNS, parse, render_html, write_html
from tests.unit.sample_summary import make_summary, typed, with_plan

PNG = base64.b64decode(  # a 1x1 PNG
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
WIDE = ["strategy", "valid", "requests", "failures", "req/s", "p50 (ms)", "p90 (ms)", "p99 (ms)"]
WIDE += ["max (ms)", "Redis cmds/req", "client CPU µs/req", "nodes/req"]


def md_table(header: list[str], rows: list[list[str]]) -> str:
    rule = "|:--|" + "--:|" * (len(header) - 1)
    return "\n".join(["| " + " | ".join(header) + " |", rule, *("| " + " | ".join(r) + " |" for r in rows)])


def test_a_wide_table_shows_its_key_columns_first_and_keeps_the_rest() -> None:
    assert len(WIDE) > WIDE_COLUMNS
    text = "# Run\n\n## Comparison\n\n" + md_table(WIDE, [["naive", *map(str, range(11))]])
    (section,) = parse(text, Path()).sections
    (table,) = section.blocks
    assert [WIDE[i] for i in table.key] == [
        "strategy", "valid", "p50 (ms)", "p99 (ms)", "Redis cmds/req", "client CPU µs/req",
    ]  # fmt: skip
    assert table.numeric == [False] + [True] * (len(WIDE) - 1)
    html = render_html(text, Path())
    assert f"All {len(WIDE)} columns" in html
    assert html.count("<table>") == 2  # the key view, and the whole table behind <details>
    assert '<td class="num">4</td>' in html  # numbers right-aligned


def test_a_narrow_table_is_shown_whole() -> None:
    text = "## Memory\n\n" + md_table(["strategy", "keys", "bytes"], [["cached", "1", "2"]])
    (table,) = parse(text, Path()).sections[0].blocks
    assert table.key == []
    assert "All 3 columns" not in render_html(text, Path())


def test_plots_are_embedded_and_nothing_outside_is_referenced(tmp_path: Path) -> None:
    (tmp_path / "rate.png").write_bytes(PNG)
    text = "## Plots\n\n![rate](rate.png)\n\n![gone](missing.png)\n\n![far](https://example.com/x.png)\n"
    html = render_html(text, tmp_path)
    assert f'src="data:image/png;base64,{base64.b64encode(PNG).decode()}"' in html
    assert 'data-missing="missing.png"' in html
    assert "https://example.com" not in html.replace('data-missing="https://example.com/x.png"', "")
    assert "<link" not in html
    assert "<script" not in html


def test_text_is_escaped_and_sections_get_unique_anchors() -> None:
    text = "# Title\n\nlead <script>alert(1)</script>\n\n## Plots\n\na\n\n## Plots\n\nb\n"
    page = parse(text, Path())
    assert page.title == "Title"
    assert [(s.title, s.anchor) for s in page.sections] == [
        ("", "lead"),
        ("Plots", "plots"),
        ("Plots", "plots-2"),
    ]
    html = render_html(text, Path())
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<a href="#plots-2">Plots</a>' in html


def test_write_html_leaves_the_page_and_nothing_half_written(tmp_path: Path) -> None:
    (tmp_path / "report.md").write_text("# Run\n\n## Scenario\n\nwords\n")
    written = write_html(tmp_path / "report.md", tmp_path / "report.html")
    assert written.read_text().startswith("<!DOCTYPE html>")
    assert written.stat().st_mode & 0o777 == (tmp_path / "report.md").stat().st_mode & 0o777
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "report.md"]


def test_the_headline_puts_the_strategies_key_figures_and_verdicts_first() -> None:
    summary = with_plan(make_summary())
    headline = compare_headline(summary, {"git": {"commit": "0123456789abcdef", "branch": "main"}})
    assert headline.columns[:3] == ["strategy", "valid", "p50 (ms)"]
    assert [row[0] for row in headline.rows] == ["naive", "cached"]
    assert headline.invalid == []
    assert {b.tone for b in headline.badges} <= {"holds", "fails", "caveat", "unmeasured"}
    assert len(headline.badges) >= 10
    assert ("commit", "0123456789ab on main") in headline.facts
    html = render_html("# Run\n\n## Scenario\n\nwords\n", Path(), headline)
    assert html.index("The answer") < html.index('id="scenario"')


def test_an_invalid_strategy_and_a_failed_gate_are_impossible_to_miss() -> None:
    data = make_summary()
    data["strategies"]["cached"]["valid"] = False
    data["strategies"]["cached"]["invalid_reason"] = "generator lag p99 3.0 ms over the 2 ms limit"
    gate = {"verdict": "FAIL", "checks": [{"check": "cached.valid == 1", "verdict": "FAIL"}]}
    headline = compare_headline(typed(data), {}, gate)
    assert headline.invalid == ["cached: generator lag p99 3.0 ms over the 2 ms limit"]
    assert headline.gate is not None
    assert (headline.gate.verdict, headline.gate.tone) == ("gate FAIL", "fails")
    html = render_html("# Run\n", Path(), headline)
    assert 'role="alert"' in html
    assert "failed: cached.valid == 1" in html


def test_a_wide_sweep_table_keeps_its_label_columns_and_its_key_metrics() -> None:
    header = ["value", "strategy", "valid", "rps", "latency_us_p50", "latency_us_p99"]
    header += ["redis_commands_per_request", "bytes_out_per_request", "client_cpu_us_per_request"]
    header += ["stale_entries_mean", "stale_displacement_mean", "background_commands_per_s"]
    rule = "|:--|:--|" + "--:|" * (len(header) - 2)
    text = "| " + " | ".join(header) + " |\n" + rule + "\n| 3 | naive |" + " 1 |" * (len(header) - 2) + "\n"
    (table,) = parse(text, Path()).sections[0].blocks
    assert [header[i] for i in table.key] == [
        "value", "strategy", "valid", "latency_us_p50", "latency_us_p99", "redis_commands_per_request",
        "bytes_out_per_request", "client_cpu_us_per_request",
    ]  # fmt: skip

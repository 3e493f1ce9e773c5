"""report.html: a report as one file any browser opens offline, with the answer first.

The body is the report's own Markdown (report.md, sweep.md, netcheck.md), parsed by markdown-it-py; the
page around it (headline figures, verdict badges, run facts, contents) is the Jinja2 template
``templates/report.html.j2``, filled from the same summary the Markdown was rendered from. Plots are
embedded as ``data:`` URIs and styles are inline, so the file fetches nothing: it reads the same as a CI
artifact, an e-mail attachment or a file on disk.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markupsafe import Markup

from analysis import metrics
from analysis.page.headline import Headline
from runfiles import write_text_whole

#: A table wider than this shows its key columns first and the whole table behind a disclosure.
WIDE_COLUMNS = 9


@dataclass(frozen=True)
class Table:
    """One Markdown table: header and cells as HTML, which columns are numbers, which are key."""

    header: list[Markup]
    rows: list[list[Markup]]
    numeric: list[bool]  # right-aligned in the Markdown (``--:``)
    key: list[int]  # the columns shown first when the table is wide; empty: show it whole


@dataclass(frozen=True)
class Section:
    """A level-2 heading and what follows it up to the next."""

    title: str
    anchor: str
    blocks: list[Markup | Table] = field(default_factory=list)


@dataclass(frozen=True)
class Page:
    title: str
    sections: list[Section]


def _slug(text: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


def _embed_images(tokens: list[Token], base_dir: Path) -> None:
    """Every image a ``data:`` URI of its file, so the page needs nothing beside it."""
    for token in tokens:
        for child in token.children or []:
            if child.type != "image":
                continue
            src = str(child.attrGet("src") or "")
            path = base_dir / src
            if src.startswith(("data:", "http:", "https:", "//")) or not path.is_file():
                # Not a file of the run: shown as its caption, never fetched.
                child.attrSet("src", "data:,")
                child.attrSet("data-missing", src)
                continue
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            child.attrSet("src", f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode()}")


def _key_columns(header: list[str], numeric: list[bool]) -> list[int]:
    """A wide table's label columns (left-aligned: strategy, the swept value) and its key metric
    columns (analysis/metrics/table.py); its first columns where fewer than two metrics are key."""
    if len(header) <= WIDE_COLUMNS:
        return []
    key_labels = metrics.key_labels()
    keys = [i for i, text in enumerate(header) if numeric[i] and text in key_labels]
    if len(keys) < 2:
        return list(range(WIDE_COLUMNS))
    return sorted({i for i, right in enumerate(numeric) if not right} | set(keys))


def _renderer(md: MarkdownIt) -> RendererHTML:
    assert isinstance(md.renderer, RendererHTML)  # the default; its protocol type lacks renderInline
    return md.renderer


def _table(tokens: list[Token], md: MarkdownIt) -> Table:
    """The tokens from ``table_open`` to ``table_close``."""
    header: list[Markup] = []
    header_text: list[str] = []
    numeric: list[bool] = []
    rows: list[list[Markup]] = []
    in_head = False
    for i, token in enumerate(tokens):
        if token.type == "thead_open":
            in_head = True
        elif token.type == "thead_close":
            in_head = False
        elif token.type == "tr_open" and not in_head:
            rows.append([])
        elif token.type in ("th_open", "td_open"):
            inline = tokens[i + 1]
            # markdown-it escapes every character of the text: raw HTML is off ("html": False).
            cell = Markup(_renderer(md).renderInline(inline.children or [], md.options, {}))  # noqa: S704
            if in_head:
                header.append(cell)
                header_text.append(inline.content)
                numeric.append("right" in str(token.attrGet("style") or ""))
            else:
                rows[-1].append(cell)
    return Table(header, rows, numeric, _key_columns(header_text, numeric))


def parse(markdown: str, base_dir: Path) -> Page:
    """The report's Markdown as sections of HTML blocks and tables."""
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = md.parse(markdown)
    _embed_images(tokens, base_dir)
    # What comes before the first level-2 heading (warnings, when the run was made) has no heading.
    title, sections, taken = "", [Section("", "lead")], {"lead"}
    pending: list[Token] = []

    def flush() -> None:
        if pending:
            html = md.renderer.render(pending, md.options, {})
            sections[-1].blocks.append(Markup(html))  # noqa: S704 -- escaped, as the cells above
            pending.clear()

    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.type == "heading_open" and token.tag in ("h1", "h2"):
            text = tokens[i + 1].content
            flush()
            if token.tag == "h1" and not title:
                title = text
            else:
                sections.append(Section(text, _slug(text, taken)))
            i += 3  # open, inline, close
            continue
        if token.type == "table_open":
            flush()
            end = next(j for j in range(i, len(tokens)) if tokens[j].type == "table_close")
            sections[-1].blocks.append(_table(tokens[i : end + 1], md))
            i = end + 1
            continue
        pending.append(token)
        i += 1
    flush()
    return Page(title, [s for s in sections if s.blocks])


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("analysis.page", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.tests["table"] = lambda block: isinstance(block, Table)
    return env


def render_html(markdown: str, base_dir: Path, headline: Headline | None = None, title: str = "") -> str:
    """The page: ``markdown`` (whose images are files in ``base_dir``) behind the headline, if any."""
    page = parse(markdown, base_dir)
    context: dict[str, Any] = {
        "title": title or page.title or "leaderboard-bench report",
        "sections": page.sections,
        "headline": headline,
    }
    return _environment().get_template("report.html.j2").render(context)


def write_html(markdown_path: Path, html_path: Path, headline: Headline | None = None) -> Path:
    """``markdown_path`` rendered to ``html_path`` beside it; the file appears whole or not at all."""
    write_text_whole(html_path, render_html(markdown_path.read_text(), markdown_path.parent, headline))
    return html_path

"""A report.html opened in a real browser (Debian's chromium, driven by Playwright), checked as a reader
would see it: every plot drawn, every table filled, no console error, nothing fetched.

The browser is the system's own (``make tools`` installs Debian's chromium): Playwright's downloaded
builds need a network this project does not assume. Where there is none the tests skip with the reason,
and ``LBBENCH_REQUIRE_BROWSER=1`` (set by ``make test`` where it could install one) turns that into a
failure. Each page's screenshot is kept in ``test-artifacts/`` for CI to publish.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REQUIRE_BROWSER_ENV = "LBBENCH_REQUIRE_BROWSER"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def browser_path() -> str:
    """The system's chromium; skips (or fails, where one is required) when there is none."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    why = f"no browser on PATH (tried {', '.join(BROWSERS)}): `make tools` installs Debian's chromium"
    if os.environ.get(REQUIRE_BROWSER_ENV) == "1":
        pytest.fail(f"{REQUIRE_BROWSER_ENV}=1 but {why}")
    pytest.skip(why)


@dataclass
class Opened:
    """What the browser saw."""

    console_errors: list[str] = field(default_factory=list)
    fetched: list[str] = field(default_factory=list)  # every request but the page itself and data: URIs
    images: int = 0
    broken_images: list[str] = field(default_factory=list)
    tables: int = 0
    empty_tables: int = 0
    text: str = ""
    screenshot: Path | None = None


def _record_fetch(seen: Opened, page_url: str, url: str) -> None:
    if url != page_url and not url.startswith("data:"):
        seen.fetched.append(url)


def open_report(html: Path, artifact: str) -> Opened:
    """Load ``html`` in headless chromium; the screenshot goes to test-artifacts/<artifact>.png."""
    from playwright.sync_api import sync_playwright

    seen = Opened()
    page_url = html.resolve().as_uri()
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=browser_path(), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: seen.console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc: seen.console_errors.append(str(exc)))
            page.on(
                "request",
                lambda r: (
                    None if r.url == page_url or r.url.startswith("data:") else seen.fetched.append(r.url)
                ),
            )
            page.goto(page_url, wait_until="load")
            seen.images = page.locator("img").count()
            seen.broken_images = page.eval_on_selector_all(
                "img", "imgs => imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt)"
            )
            seen.tables = page.locator("table").count()
            seen.empty_tables = page.eval_on_selector_all(
                "table", "ts => ts.filter(t => t.querySelectorAll('tbody tr').length === 0).length"
            )
            seen.text = page.inner_text("body")
            ARTIFACTS.mkdir(exist_ok=True)
            seen.screenshot = ARTIFACTS / f"{artifact}.png"
            page.screenshot(path=str(seen.screenshot), full_page=True)
        finally:
            browser.close()
    return seen


def check_report(html: Path, artifact: str, min_images: int = 1) -> Opened:
    """Open the page and assert what a reader needs: plots drawn, tables filled, no errors, no fetches."""
    assert html.is_file(), f"no {html.name} in {html.parent}"
    seen = open_report(html, artifact)
    assert seen.console_errors == []
    assert seen.fetched == []
    assert seen.images >= min_images
    assert seen.broken_images == []
    assert seen.tables >= 1
    assert seen.empty_tables == 0
    return seen

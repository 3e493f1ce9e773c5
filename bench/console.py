"""Progress and status output on stderr (stdout stays clean for --json output and the report path)."""

from __future__ import annotations

import threading
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from bench.threads import background_thread

console = Console(stderr=True, highlight=False, soft_wrap=True)
# Off a terminal (CI logs, pipes) a bar cannot redraw; a line this often shows the run is alive.
PLAIN_PROGRESS_EVERY_S = 15.0


def progress_bar() -> Progress:
    """A progress bar for long work (seeding, load phases); silent off a terminal."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


def status(message: str) -> None:
    """One status line."""
    console.print(f"[bold]lbbench[/bold] {message}")


class PhaseClock:
    """Progress of a timed phase: a bar on a terminal, a status line every 15 s elsewhere."""

    def __init__(self, label: str, total_s: float) -> None:
        self.label = label
        self.total_s = total_s
        self._bar = progress_bar()
        self._task = self._bar.add_task(label, total=round(total_s))
        self._next_line_s = PLAIN_PROGRESS_EVERY_S

    def __enter__(self) -> PhaseClock:
        self._bar.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._bar.stop()

    def tick(self, elapsed_s: float) -> None:
        self._bar.update(self._task, completed=min(elapsed_s, self.total_s))
        if not console.is_terminal and elapsed_s >= self._next_line_s:
            status(f"{self.label}: {min(elapsed_s, self.total_s):.0f}/{self.total_s:g} s")
            self._next_line_s += PLAIN_PROGRESS_EVERY_S


class CountProgress:
    """Progress of counted work in steps: a bar per step on a terminal, a status line every 15 s elsewhere.

    The lines come from a timer thread, not from :meth:`advance`: a step can go quiet for longer
    than 15 s (servers loading a RESTORE reply only when done) and the log must still show life.
    """

    def __init__(self, label: str, totals: dict[str, int], unit: str) -> None:
        self.label = label
        self.unit = unit
        self._totals = totals
        self._done = dict.fromkeys(totals, 0)
        self._bar = progress_bar()
        self._tasks = {step: self._bar.add_task(f"{label}: {step}", total=n) for step, n in totals.items()}
        self._started_s = time.monotonic()
        self._stop = threading.Event()
        self._ticker = background_thread(self._tick, f"{label}-progress")

    def __enter__(self) -> CountProgress:
        self._bar.start()
        if not console.is_terminal:
            self._ticker.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._ticker.is_alive():
            self._ticker.join()
        self._bar.stop()

    def advance(self, step: str, count: int) -> None:
        self._done[step] += count
        self._bar.advance(self._tasks[step], count)

    def _tick(self) -> None:
        while not self._stop.wait(PLAIN_PROGRESS_EVERY_S):
            parts = ", ".join(f"{s} {self._done[s]:,}/{n:,}" for s, n in self._totals.items())
            status(f"{self.label}: {parts} {self.unit} ({time.monotonic() - self._started_s:.0f} s)")

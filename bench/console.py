"""Progress and status output on stderr (stdout stays clean for --json output)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

console = Console(stderr=True, highlight=False)


def progress_bar() -> Progress:
    """A progress bar for long work (seeding, load phases); it degrades to nothing off a terminal."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


def status(message: str) -> None:
    """One status line."""
    console.print(f"[bold]lbbench[/bold] {message}")

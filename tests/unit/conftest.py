"""Fixtures shared by the report tests."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from typing import Any

import pytest

from tests.unit.sample_summary import make_summary


@pytest.fixture
def summary() -> dict[str, Any]:
    """A fresh synthetic summary.json (naive and cached over 10 shards) for each test."""
    return make_summary()


@pytest.fixture
def keep_signal_handlers() -> Iterator[None]:
    """Restore the test process's signal handlers after code that installs the CLI's (main())."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)

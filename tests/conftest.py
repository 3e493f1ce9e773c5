"""Session set-up shared by every test directory."""

from __future__ import annotations

import pytest

from tests.helpers import set_child_subreaper


def pytest_configure(config: pytest.Config) -> None:
    del config
    # A killed `lbbench` leaves its servers to the nearest subreaper: make that this process, so the
    # leftover-process checks still see them (tests/helpers.py started_processes).
    set_child_subreaper(True)

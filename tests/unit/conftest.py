"""Fixtures shared by the report tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.sample_summary import make_summary


@pytest.fixture
def summary() -> dict[str, Any]:
    """A fresh synthetic summary.json (naive and cached over 10 shards) for each test."""
    return make_summary()

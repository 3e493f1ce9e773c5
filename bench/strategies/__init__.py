"""Strategy registry: a new strategy is one module here plus one line in ``REGISTRY``."""

from __future__ import annotations

from bench.errors import UsageError
from bench.strategies.base import Strategy
from bench.strategies.blob import BlobStrategy
from bench.strategies.cached import CachedStrategy
from bench.strategies.globalset import GlobalStrategy
from bench.strategies.incremental import IncrementalStrategy
from bench.strategies.naive import NaiveStrategy
from bench.strategies.regional import RegionalStrategy
from bench.wire.merge import Ranking

REGISTRY: dict[str, type[Strategy]] = {
    NaiveStrategy.name: NaiveStrategy,
    CachedStrategy.name: CachedStrategy,
    GlobalStrategy.name: GlobalStrategy,
    IncrementalStrategy.name: IncrementalStrategy,
    RegionalStrategy.name: RegionalStrategy,
    BlobStrategy.name: BlobStrategy,
}

__all__ = ["REGISTRY", "Ranking", "Strategy", "get_strategy", "parse_strategies"]


def get_strategy(name: str) -> type[Strategy]:
    """The strategy class registered as ``name``; UsageError naming the known ones otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise UsageError(f"unknown strategy {name!r}; known: {', '.join(REGISTRY)}") from None


def parse_strategies(text: str) -> list[str]:
    """``"naive,cached"`` -> ``["naive", "cached"]``, each checked against the registry."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise UsageError("--strategies needs at least one strategy name")
    for name in names:
        get_strategy(name)
    if len(set(names)) != len(names):
        raise UsageError(f"--strategies lists a strategy twice: {text}")
    return names

"""Strategy registry: a new strategy is one module here plus one line in ``REGISTRY``."""

from __future__ import annotations

from pathlib import Path

from bench.declare import Kind
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

__all__ = [
    "REGISTRY",
    "Ranking",
    "Strategy",
    "StrategyList",
    "StrategyName",
    "get_strategy",
    "parse_strategies",
]


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


class StrategyName(Kind[str]):
    """One registered strategy's name (``--strategy``)."""

    metavar = "NAME"

    def parse(self, text: str) -> str:
        return self.checked(text)

    def check(self, value: str) -> str | None:
        try:
            get_strategy(value)
        except UsageError as exc:
            return str(exc)
        return None

    @property
    def expects(self) -> str:
        return "one of " + ", ".join(REGISTRY)

    def describe(self) -> str:
        return "a strategy: " + ", ".join(f"`{name}`" for name in REGISTRY)


class StrategyList(Kind[list[str]]):
    """Registered strategies, comma-separated on the command line, a list in a scenario file."""

    metavar = "A,B,..."

    def parse(self, text: str) -> list[str]:
        try:
            return parse_strategies(text)
        except UsageError as exc:
            raise ValueError(str(exc)) from None

    def check(self, value: list[str]) -> str | None:
        try:
            parse_strategies(",".join(value))
        except UsageError as exc:
            return str(exc)
        return None

    def load(self, value: object, relative_to: Path | None = None) -> list[str]:
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return self.parse(",".join(value))
        return super().load(value, relative_to)

    def show(self, value: list[str]) -> str:
        return ",".join(value)

    @property
    def expects(self) -> str:
        return "a list of strategy names"

    def describe(self) -> str:
        return "comma-separated, of " + ", ".join(f"`{name}`" for name in REGISTRY)

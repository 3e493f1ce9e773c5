"""Kinds of option values: how command-line text and scenario-file values become one typed value.

A kind reads a value (:meth:`Kind.parse` from text, :meth:`Kind.load` from TOML), checks its range,
writes it back for scenario.toml (:meth:`Kind.dump`) and describes it for help and docs. Its error
messages complete a sentence that starts with the flag: ``--players`` + ``must be at least 1, got 0``.
Times carry units (bench/units.py).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from bench.units import format_duration, parse_duration, plain_number

T = TypeVar("T")


class Kind(ABC, Generic[T]):
    """How one option's values are read, checked and written back."""

    metavar = "VALUE"
    unit = ""  # shown in the docs' "value" column (e.g. "s"), where the value carries one
    none_is_a_value = False  # True: None is a value the kind writes (else: "not set, worked out later")
    takes_table = False  # True: a scenario file may give the value as a table (``[target]``)

    @abstractmethod
    def parse(self, text: str) -> T:
        """A command-line value; ValueError with the end of a sentence that starts with the flag."""

    def load(self, value: object, relative_to: Path | None = None) -> T:  # noqa: ARG002 (paths use it)
        """A scenario-file value: TOML's own type, or the same text the command line takes."""
        if isinstance(value, str):
            return self.parse(value)
        raise ValueError(f"must be {self.expects}, got {value!r}")

    def dump(self, value: T) -> object:
        """The value as scenario.toml writes it; :meth:`load` reads it back equal."""
        return value

    def check(self, value: T) -> str | None:  # noqa: ARG002 (most kinds have no range)
        """What is wrong with a typed value (the end of a sentence), or None."""
        return None

    def show(self, value: T) -> str:
        """The value in help text and docs."""
        return str(value)

    def describe(self) -> str:
        """What values it takes, for the docs' flag tables."""
        return self.expects

    @property
    def expects(self) -> str:
        return self.metavar.lower()

    def checked(self, value: T) -> T:
        problem = self.check(value)
        if problem is not None:
            raise ValueError(problem)
        return value


def _range_words(low: float | None, high: float | None, show: Callable[[Any], str]) -> str:
    if low is not None and high is not None:
        return f" {show(low)} to {show(high)}"
    if low is not None:
        return f" >= {show(low)}"
    return f" <= {show(high)}" if high is not None else ""


def _bounds_problem(
    value: float, low: float | None, high: float | None, show: Callable[[float], str]
) -> str | None:
    if low is not None and high is not None and not low <= value <= high:
        return f"must be between {show(low)} and {show(high)}, got {show(value)}"
    if low is not None and value < low:
        return f"must be at least {show(low)}, got {show(value)}"
    if high is not None and value > high:
        return f"must be at most {show(high)}, got {show(value)}"
    return None


@dataclass(frozen=True)
class Integer(Kind[int]):
    """A whole number (``1_000_000`` and ``1,000,000`` read too) within ``[min, max]``."""

    min: int | None = None
    max: int | None = None
    metavar = "N"

    def parse(self, text: str) -> int:
        try:
            value = int(text.strip().replace("_", "").replace(",", ""))
        except ValueError:
            raise ValueError(f"not an integer: {text!r}") from None
        return self.checked(value)

    def load(self, value: object, relative_to: Path | None = None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            return self.checked(value)
        return super().load(value, relative_to)

    def check(self, value: int) -> str | None:
        return _bounds_problem(
            value, self.min, self.max, lambda v: f"{v:,.0f}" if abs(v) >= 10_000 else f"{v:g}"
        )

    def show(self, value: int) -> str:
        return f"{value:,}"

    def describe(self) -> str:
        return "integer" + _range_words(self.min, self.max, self.show)

    @property
    def expects(self) -> str:
        return "an integer"


@dataclass(frozen=True)
class Number(Kind[float]):
    """A real number within ``[min, max]``; ``positive``: above 0."""

    min: float | None = None
    max: float | None = None
    positive: bool = False
    unit: str = ""
    metavar = "X"

    def parse(self, text: str) -> float:
        try:
            value = float(text.replace("_", ""))
        except ValueError:
            raise ValueError(f"not a number: {text!r}") from None
        return self.checked(value)

    def load(self, value: object, relative_to: Path | None = None) -> float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return self.checked(float(value))
        return super().load(value, relative_to)

    def check(self, value: float) -> str | None:
        if not math.isfinite(value):
            return f"must be finite, got {value}"
        if self.positive and not value > 0:
            return f"must be positive, got {self.show(value)}"
        return _bounds_problem(value, self.min, self.max, self.show)

    def dump(self, value: float) -> object:
        return int(value) if float(value).is_integer() else value

    def show(self, value: float) -> str:
        return f"{value:,.0f}" if float(value).is_integer() and value >= 10_000 else plain_number(value)

    def describe(self) -> str:
        words = "number" + (" > 0" if self.positive else _range_words(self.min, self.max, self.show))
        return f"{words}, {self.unit}" if self.unit else words

    @property
    def expects(self) -> str:
        return "a number"


@dataclass(frozen=True)
class Duration(Number):
    """A time in ``unit`` (s or ms), written with any unit (``90s``, ``1m30s``, ``500ms``; bare: ``unit``).

    A scenario file may give a number (in ``unit``) or the same text the command line takes.
    """

    unit: str = "s"
    metavar = "TIME"

    def parse(self, text: str) -> float:
        return self.checked(parse_duration(text, self.unit))

    def dump(self, value: float) -> object:
        return format_duration(value, self.unit)

    def show(self, value: float) -> str:
        return format_duration(value, self.unit)

    def describe(self) -> str:
        bound = " > 0" if self.positive else _range_words(self.min, self.max, self.show)
        return f"time{bound} (90s, 1m30s, 500ms; a bare number is {self.unit})"

    @property
    def expects(self) -> str:
        return "a time"


@dataclass(frozen=True)
class Choice(Kind[str]):
    """One of a fixed set of words; ``values`` may be a function, for a registry filled after import."""

    values: tuple[str, ...] | Callable[[], Iterable[str]]
    metavar = "NAME"

    def allowed(self) -> list[str]:
        return list(self.values() if callable(self.values) else self.values)

    def parse(self, text: str) -> str:
        return self.checked(text)

    def check(self, value: str) -> str | None:
        allowed = self.allowed()
        return None if value in allowed else f"must be one of {', '.join(allowed)}, got {value!r}"

    @property
    def expects(self) -> str:
        return "one of " + ", ".join(self.allowed())

    def describe(self) -> str:
        return " | ".join(f"`{value}`" for value in self.allowed())


@dataclass(frozen=True)
class Text(Kind[str]):
    """Free text (a URL, a name, a size such as 512m)."""

    metavar = "TEXT"

    def parse(self, text: str) -> str:
        if not text:
            raise ValueError("must not be empty")
        return text

    @property
    def expects(self) -> str:
        return "a string"

    def describe(self) -> str:
        return "text"


@dataclass(frozen=True)
class Csv(Kind[tuple[str, ...]]):
    """Words or values, comma-separated on the command line (``5,10,30``), a list in a scenario file."""

    choices: Callable[[], Iterable[str]] | None = None
    metavar = "A,B,..."

    def parse(self, text: str) -> tuple[str, ...]:
        words = tuple(word.strip() for word in text.split(",") if word.strip())
        if not words:
            raise ValueError("needs at least one value")
        return self.checked(words)

    def load(self, value: object, relative_to: Path | None = None) -> tuple[str, ...]:
        if isinstance(value, list) and all(
            isinstance(item, str | int | float) and not isinstance(item, bool) for item in value
        ):
            return self.parse(",".join(map(str, value)))
        return super().load(value, relative_to)

    def check(self, value: tuple[str, ...]) -> str | None:
        if self.choices is None:
            return None
        allowed = list(self.choices())
        wrong = [word for word in value if word not in allowed]
        return f"must be among {', '.join(allowed)}, got {wrong[0]!r}" if wrong else None

    def dump(self, value: tuple[str, ...]) -> object:
        return list(value)

    def show(self, value: tuple[str, ...]) -> str:
        return ",".join(value)

    def describe(self) -> str:
        if self.choices is None:
            return "comma-separated values"
        return "comma-separated, of " + ", ".join(f"`{value}`" for value in self.choices())

    @property
    def expects(self) -> str:
        return "a list"


@dataclass(frozen=True)
class Flag(Kind[bool]):
    """On or off: ``--x`` / ``--no-x`` on the command line, true / false in a file."""

    metavar = "BOOL"

    def parse(self, text: str) -> bool:
        words = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
        try:
            return words[text.strip().lower()]
        except KeyError:
            raise ValueError(f"must be true or false, got {text!r}") from None

    def load(self, value: object, relative_to: Path | None = None) -> bool:
        if isinstance(value, bool):
            return value
        return super().load(value, relative_to)

    def show(self, value: bool) -> str:
        return "on" if value else "off"

    def describe(self) -> str:
        return "on / off"


@dataclass(frozen=True)
class PathArg(Kind[Path]):
    """A path. ``role``: ``out`` (a directory to create: not a file, not a non-empty directory),
    ``file`` or ``dir`` (must exist as one), ``any``. A scenario file's relative paths are relative to it.
    """

    role: str = "any"
    validate: Callable[[Path], None] | None = None  # a further check that raises ValueError (a parse)
    metavar = "PATH"

    def parse(self, text: str) -> Path:
        if not text:
            raise ValueError("must not be empty")
        return self.checked(Path(text))

    def load(self, value: object, relative_to: Path | None = None) -> Path:
        if isinstance(value, str) and value and relative_to is not None:
            return self.checked(relative_to / Path(value).expanduser())
        return super().load(value, relative_to)

    def check(self, value: Path) -> str | None:
        if self.role == "out":
            if value.exists() and not value.is_dir():
                return f"names a file, not a directory: {value}"
            if value.is_dir() and any(value.iterdir()):
                return f"names a directory that is not empty: {value}"
        elif self.role == "file" and not value.is_file():
            return f"no such file: {value}"
        elif self.role == "dir" and not value.is_dir():
            return f"no such directory: {value}"
        if self.validate is not None:
            try:
                self.validate(value)
            except ValueError as exc:
                return str(exc)
        return None

    def dump(self, value: Path) -> object:
        return str(value.resolve())

    def describe(self) -> str:
        return {"out": "directory (created)", "file": "existing file", "dir": "existing directory"}.get(
            self.role, "path"
        )


@dataclass(frozen=True)
class ZeroIsNone(Kind[T | None], Generic[T]):
    """``inner``'s values, or 0 for none (``--rps 0``: closed loop; ``--read-write-ratio 0``: no writes)."""

    none_is_a_value = True  # None is what 0 means, and is written back as 0

    inner: Kind[T]
    meaning: str  # what 0 means, for help text and docs

    @property
    def metavar(self) -> str:  # type: ignore[override]  # the inner kind's, read at run time
        return self.inner.metavar

    @property
    def unit(self) -> str:  # type: ignore[override]  # likewise
        return self.inner.unit

    def _none_at_zero(self, value: T) -> T | None:
        return None if value == 0 else value

    def parse(self, text: str) -> T | None:
        try:
            zero = float(text) == 0
        except ValueError:
            zero = False
        return None if zero else self.inner.parse(text)

    def load(self, value: object, relative_to: Path | None = None) -> T | None:
        if value == 0 and not isinstance(value, bool):
            return None
        return self._none_at_zero(self.inner.load(value, relative_to))

    def check(self, value: T | None) -> str | None:
        return None if value is None else self.inner.check(value)

    def dump(self, value: T | None) -> object:
        return 0 if value is None else self.inner.dump(value)

    def show(self, value: T | None) -> str:
        return "0" if value is None else self.inner.show(value)

    def describe(self) -> str:
        return f"{self.inner.describe()}, or 0: {self.meaning}"

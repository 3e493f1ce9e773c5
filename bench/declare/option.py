"""One declaration per command-line option: its flag, kind, default, help, the commands that take it.

An option that lands in an options object is declared as that dataclass's field::

    players: int = option(1_000_000, Integer(min=1), "players to seed", commands=SEEDING)

so the field's default *is* the option's default. Options that only one command reads are declared as
:class:`Option` values beside that command. From these declarations alone, ``lbbench/parser.py``
builds argparse, ``bench/scenario.py`` reads scenario files and writes ``scenario.toml``, the options
objects check their values (:func:`problems`), and ``lbbench/docs.py`` writes the flag tables of
docs/commands.md. A command that needs another default for an option (netcheck's smaller population)
says so in its own declaration (``lbbench/main.py``), which no other command reads.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from bench.declare.kinds import Kind

T = TypeVar("T")

#: Which commands take an option, named once so that a declaration can say "every command that runs load".
RUNS = frozenset({"compare", "sweep", "netcheck"})
SEEDING = RUNS | {"top", "refresh", "seed", "up", "capacity"}  # every command that talks to Redis

_OPTION = "lbbench.option"  # the dataclass field metadata key that holds a field's declaration


@dataclass(frozen=True)
class Derived:
    """A default that is worked out from the other options when the run starts, described in words."""

    text: str


@dataclass(frozen=True)
class Option:
    """One command-line option, declared once."""

    kind: Kind[Any]
    help: str
    commands: frozenset[str]
    default: Any = None
    name: str = ""  # the flag without "--" and the scenario-file key; a field's name (dashes) if empty
    env: str | None = None  # an environment variable that overrides a scenario file's value
    repeat: bool = False  # --x A --x B: a tuple, a list in a scenario file
    many: bool = False  # --x A B C (or positional A B C): a tuple
    positional: bool = False
    required: bool = False
    scenario: bool = True  # written to scenario.toml (not: where output goes, the file itself)
    group: str | None = None  # the heading it is listed under in --help
    metavar: str | None = None  # the value's name in --help (URL, FILE, ...); the kind's by default

    @property
    def value_name(self) -> str:
        return self.metavar or self.kind.metavar

    @property
    def flag(self) -> str:
        """How the command line writes it: ``--players``, or ``PARAM`` for a positional argument."""
        return self.name.upper() if self.positional else f"--{self.name}"

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")

    def default_for(self, overrides: Mapping[str, Any]) -> Any:
        """The default a command gets: its own override (``overrides``), else the declared one."""
        value = overrides.get(self.name, self.default)
        if value is None and (self.repeat or self.many):
            return ()
        return None if isinstance(value, Derived) else value

    def describe_default(self, overrides: Mapping[str, Any]) -> str:
        """That default as help and docs state it."""
        value = overrides.get(self.name, self.default)
        if isinstance(value, Derived):
            return value.text
        if value is None or value == ():
            return "none"
        if self.repeat or self.many:
            return ", ".join(self.kind.show(v) for v in value)
        return self.kind.show(value)

    def convert(self, text: str) -> Any:
        """One command-line value, checked."""
        return self.kind.parse(text)

    def load(self, value: object, relative_to: Path | None = None) -> Any:
        """One scenario-file value, checked (a list for repeated options)."""
        if self.repeat or self.many:
            items = value if isinstance(value, list) else [value]
            return tuple(self.kind.load(item, relative_to) for item in items)
        return self.kind.load(value, relative_to)

    def dump(self, value: Any) -> object:
        if self.repeat or self.many:
            return [self.kind.dump(item) for item in value]
        return self.kind.dump(value)

    def problem(self, value: Any) -> str | None:
        """What is wrong with a typed value, as a whole sentence naming the flag; None if nothing."""
        values = value if self.repeat or self.many else (value,)
        for item in values:
            if item is None:
                continue
            found = self.kind.check(item)
            if found is not None:
                return sentence(self.flag, found)
        return None


def sentence(subject: str, problem: str) -> str:
    """``--players`` + ``must be at least 1, got 0`` reads on; ``not an integer: 'x'`` after a colon.

    A message that already names the flag (a registry's own wording) stands as it is.
    """
    if problem.startswith(subject + " "):
        return problem
    joins = problem.split(" ", 1)[0] in ("must", "needs", "lists", "is", "takes", "names")
    return f"{subject} {problem}" if joins else f"{subject}: {problem}"


def option(
    default: Any,
    kind: Kind[Any],
    help: str,
    *,
    commands: Iterable[str],
    **more: Any,
) -> Any:
    """A dataclass field declared as a command-line option (its name, with dashes, is the flag).

    ``default`` is the field's default; a :class:`Derived` one leaves the field None, for the options
    object to work out.
    """
    declared = Option(kind=kind, help=help, commands=frozenset(commands), default=default, **more)
    metadata = {_OPTION: declared}
    if isinstance(default, list):  # a mutable default: each object gets its own copy
        return field(default_factory=lambda: list(default), metadata=metadata)
    return field(default=None if isinstance(default, Derived) else default, metadata=metadata)


def declared(cls: type) -> list[tuple[str, Option]]:
    """``(field name, Option)`` for each field of the dataclass ``cls`` declared with :func:`option`."""
    found = []
    for f in dataclasses.fields(cls):
        declaration = f.metadata.get(_OPTION)
        if declaration is not None:
            found.append((f.name, declaration if declaration.name else _named(declaration, f.name)))
    return found


def _named(declaration: Option, field_name: str) -> Option:
    return dataclasses.replace(declaration, name=field_name.replace("_", "-"))


def problems(instance: object) -> list[str]:
    """Every declared field of a dataclass instance whose value its kind refuses, as one line each."""
    return [
        problem
        for field_name, declaration in declared(type(instance))
        if (problem := declaration.problem(getattr(instance, field_name))) is not None
    ]


def flag_of(cls: type, field_name: str) -> str:
    """The flag that sets ``cls.field_name`` (``--docker-network`` for ``TopologyOptions.network``)."""
    for name, declaration in declared(cls):
        if name == field_name:
            return declaration.flag
    raise KeyError(field_name)


def declared_options(cls: type) -> list[Option]:
    """The declarations of ``cls``'s fields, in field order."""
    return [declaration for _, declaration in declared(cls)]


def from_values(cls: type[T], values: object, **more: Any) -> T:
    """A ``cls`` whose declared fields take ``values``' attributes (by each option's ``dest``), where set."""
    fields = {
        name: getattr(values, declaration.dest)
        for name, declaration in declared(cls)
        if hasattr(values, declaration.dest)
    }
    return cls(**fields, **more)

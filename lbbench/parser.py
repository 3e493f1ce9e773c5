"""The `lbbench` command line built from the option declarations, and each run's options resolved.

argparse reads only the syntax: every option is stored as the text given (nothing when not given), so
that the order of precedence is explicit here: the declared default (or the command's own, from its
:class:`Command`), then the ``--config`` file, then an option's environment variable, then the flags.
Each command gets argparse actions of its own: one command's defaults cannot reach another's.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from bench import scenario
from bench.declare import Flag, Option, PathArg, sentence
from bench.errors import EXIT_USAGE, UsageError

CONFIG = Option(
    PathArg("file"),
    "read options from this TOML scenario file, by flag name (a run's scenario.toml runs it again);"
    " flags given here override it",
    commands=frozenset(),
    name="config",
    scenario=False,
    metavar="FILE",
)


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, no usage dump: the usage is one `--help` away.
        message = re.sub(r"^argument (-[-\w]+(/-[-\w]+)?): ", r"\1: ", message)
        self.exit(EXIT_USAGE, f"lbbench: error: {message}\n")


@dataclass(frozen=True)
class Command:
    """One subcommand: what it does, and the defaults it states for itself (by flag name)."""

    name: str  # "compare"; a nested one is "baseline save"
    help: str
    run: Callable[[argparse.Namespace], int]
    description: str | None = None
    defaults: Mapping[str, Any] = field(
        default_factory=dict
    )  # this command's own defaults: no other reads them


class Cli:
    """The commands and the option declarations they take, turned into a parser and resolved options."""

    def __init__(self, commands: Sequence[Command], options: Sequence[Option]) -> None:
        self.commands = {command.name: command for command in commands}
        self.options = list(options)
        for command in commands:
            names = [o.name for o in self.taken_by(command.name)]
            doubled = {name for name in names if names.count(name) > 1}
            assert not doubled, f"{command.name} has two declarations of {doubled}"
            unknown = set(command.defaults) - set(names)
            assert not unknown, f"{command.name} states defaults for options it does not take: {unknown}"

    def taken_by(self, command: str) -> list[Option]:
        """The declarations ``command`` takes, ``--config`` first where it takes any."""
        own = [o for o in self.options if command in o.commands]
        return [CONFIG, *own] if own else []

    def known(self) -> dict[str, set[str]]:
        """Every flag name, with the commands that take it."""
        found: dict[str, set[str]] = {}
        for declaration in self.options:
            found.setdefault(declaration.name, set()).update(declaration.commands)
        return found

    def build(self, prog: str, description: str) -> Parser:
        parser = Parser(prog=prog, description=description)
        sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
        nested: dict[str, Any] = {}
        for command in self.commands.values():
            head, _, tail = command.name.partition(" ")
            if tail:  # "baseline save": a subcommand of its own parser
                if head not in nested:
                    group = sub.add_parser(head, help=command.help)
                    nested[head] = group.add_subparsers(dest="subcommand", required=True, parser_class=Parser)
                p = nested[head].add_parser(tail, help=command.help, description=command.description)
            else:
                p = sub.add_parser(head, help=command.help, description=command.description)
            p.set_defaults(command=command.name)
            self._add_options(p, command)
        return parser

    def _add_options(self, parser: Parser, command: Command) -> None:
        groups: dict[str, Any] = {}
        for declaration in self.taken_by(command.name):
            target: Any = parser
            if declaration.group:
                if declaration.group not in groups:
                    groups[declaration.group] = parser.add_argument_group(declaration.group)
                target = groups[declaration.group]
            described = declaration.describe_default(command.defaults)
            text = declaration.help + ("" if declaration is CONFIG else f" (default {described})")
            kwargs: dict[str, Any] = {"help": text.replace("%", "%%"), "default": argparse.SUPPRESS}
            if declaration.positional:
                kwargs["nargs"] = "*" if declaration.many else "?"
                target.add_argument(declaration.dest, metavar=declaration.flag, **kwargs)
                continue
            if isinstance(declaration.kind, Flag):
                kwargs["action"] = argparse.BooleanOptionalAction
            else:
                kwargs["metavar"] = declaration.value_name
                if declaration.repeat:
                    kwargs["action"] = "append"
                elif declaration.many:
                    kwargs["nargs"] = "+"
            target.add_argument(declaration.flag, dest=declaration.dest, **kwargs)

    def resolve(self, given: argparse.Namespace) -> tuple[Command, argparse.Namespace]:
        """The command and every option it takes: default < --config file < environment < flags."""
        command = self.commands[given.command]
        taken = self.taken_by(command.name)
        values = {o.dest: _copy(o.default_for(command.defaults)) for o in taken}
        config = getattr(given, CONFIG.dest, None)
        if config is not None:
            path = _convert(CONFIG, config)
            values[CONFIG.dest] = path
            from_file = scenario.read(path, command.name, taken[1:], self.known())
            values.update({o.dest: from_file[o.name] for o in taken if o.name in from_file})
        for declaration in taken:
            text = os.environ.get(declaration.env) if declaration.env else None
            if text is not None:
                values[declaration.dest] = _convert(declaration, text, f"${declaration.env}")
            if hasattr(given, declaration.dest):
                values[declaration.dest] = _convert(declaration, getattr(given, declaration.dest))
        for declaration in taken:
            if declaration.required and values[declaration.dest] in (None, ()):
                raise UsageError(f"`lbbench {command.name}` needs {declaration.flag}")
        return command, argparse.Namespace(command=command.name, **values)


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value


def _convert(declaration: Option, given: Any, source: str | None = None) -> Any:
    """A value as argparse stored it (text, a list of texts, or a bool), converted and checked."""
    if isinstance(given, bool):
        return given
    try:
        if declaration.repeat or declaration.many:
            return tuple(declaration.convert(text) for text in given)
        return declaration.convert(given)
    except ValueError as exc:
        raise UsageError(sentence(source or declaration.flag, str(exc))) from None


__all__ = ["CONFIG", "Cli", "Command", "Parser"]

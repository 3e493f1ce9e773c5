"""Scenario files: a command's options by flag name, in TOML; read by ``--config``, written by every run.

A scenario file sets options the way the command line does, without the dashes in front::

    players = 200_000
    duration = "90s"
    strategies = ["naive", "cached"]
    fault = ["stall:shard=3,at=20s,for=5s"]

Flags given on the command line override the file. A table that belongs to one command (``[gates]`` for
``lbbench gate``) holds that command's options and is skipped by the others, so one file can describe a
CI job's scenario and its gate; ``[target]`` is the tier ``lbbench plan`` sizes (its ``--target``).
Relative paths are relative to the file. Every run writes the options it ran with as ``scenario.toml``;
``lbbench compare --config <run>/scenario.toml`` runs the same scenario again. Passwords are never
written: a URL keeps ``user:***@`` in their place.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import tomli_w

from bench.declare import Option, sentence
from bench.errors import UsageError

#: Tables that hold one command's options; every other command skips them.
TABLES = {"gates": "gate", "target": "plan"}
#: Of those, the tables that are the value of one option of that command, named as the table.
VALUE_TABLES = frozenset({"target"})


def read(
    path: Path, command: str, options: Sequence[Option], known: Mapping[str, set[str]]
) -> dict[str, Any]:
    """The options ``path`` sets for ``command``, by flag name, each checked; UsageError (one line) naming
    the file and the key otherwise.

    Args:
        options: the declarations ``command`` takes.
        known: every flag name of every command, with the commands that take it (for the message when a
            key belongs to another command).
    """
    try:
        document = tomllib.loads(path.read_text())
    except OSError as exc:
        raise UsageError(f"--config {path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path} is not valid TOML: {exc}") from None
    own = next((table for table, owner in TABLES.items() if owner == command), None)
    if own in VALUE_TABLES:
        section = {own: document[own]} if own in document else {}
        where = str(path)
    elif own is not None:
        section = document.get(own, {})
        where = f"{path} [{own}]"
        if not isinstance(section, dict):
            raise UsageError(f"{path}: {own} must be a table ([{own}])")
    else:
        section = {key: value for key, value in document.items() if key not in TABLES}
        where = str(path)
    by_name = {o.name: o for o in options}
    values: dict[str, Any] = {}
    for key, value in section.items():
        declaration = by_name.get(key)
        if declaration is None:
            raise UsageError(f"{where}: {_unknown(key, command, by_name, known)}")
        if isinstance(value, dict) and not declaration.kind.takes_table:
            raise UsageError(f"{where}: {key} must be a value, not a table")
        try:
            values[key] = declaration.load(value, relative_to=path.parent)
        except ValueError as exc:
            raise UsageError(f"{where}: {sentence(key, str(exc))}") from None
    return values


def _unknown(key: str, command: str, options: Mapping[str, Option], known: Mapping[str, set[str]]) -> str:
    if key in known:
        takers = ", ".join(sorted(known[key]))
        return f"{key} is not an option of `lbbench {command}` (it is for {takers})"
    if "_" in key and key.replace("_", "-") in options:
        return f"unknown key {key!r}: options go by their flag names, {key.replace('_', '-')!r}"
    close = difflib.get_close_matches(key, list(options), n=1)
    return f"unknown key {key!r}" + (f" (did you mean {close[0]!r}?)" if close else "")


def render(command: str, values: Sequence[tuple[Option, Any]]) -> str:
    """scenario.toml for ``command``: a line per option, a comment where a value is worked out later."""
    lines = [
        f"# The options of this `lbbench {command}` run, by flag name. To run it again:",
        f"#   lbbench {command} --config <this file> [flags that override it, e.g. --duration 10s]",
        "# Passwords are not kept: a URL shows *** in place of one; give it on the command line.",
    ]
    for declaration, value in values:
        if not declaration.scenario:
            continue
        if value is None and not declaration.kind.none_is_a_value:
            lines.append(f"# {declaration.name}: not set ({declaration.describe_default({})})")
        else:
            lines.append(f"{declaration.name} = {_inline(declaration.dump(value))}")
    return "\n".join(lines) + "\n"


def _inline(value: object) -> str:
    """A TOML value on one line (tomli-w writes each array item on a line of its own)."""
    if isinstance(value, list):
        return "[" + ", ".join(_inline(item) for item in value) + "]"
    return tomli_w.dumps({"v": value}).removeprefix("v = ").rstrip("\n")


def write(path: Path, command: str, values: Sequence[tuple[Option, Any]]) -> None:
    path.write_text(render(command, values))

"""docs/commands.md's flag tables, from the option declarations (written by lbbench/docs.py).

Options are grouped by the commands that take them, so the topology flags every command shares are one
table, not eight; a command's own default (netcheck's smaller population) is named in the default column.
"""

from __future__ import annotations

from collections.abc import Sequence

from bench.declare import Flag, Option
from lbbench.main import CLI
from lbbench.parser import CONFIG


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")


def _default(option: Option, commands: Sequence[str]) -> str:
    """The declared default, then each command whose own default differs."""
    declared = option.describe_default({})
    text = f"{declared}"
    for name in commands:
        own = option.describe_default(CLI.commands[name].defaults)
        if own != declared:
            text += f" (`{name}`: {own})"
    return _cell(text)


def _usage(option: Option) -> str:
    """The option as it is typed: ``--shard-memory SIZE``, ``--overwrite`` / ``--no-overwrite``, ``PARAM``."""
    if option.positional:
        return f"`{option.flag}`"
    if isinstance(option.kind, Flag):
        return f"`{option.flag}` / `--no-{option.name}`"
    return f"`{option.flag} {option.value_name}`"


def _row(option: Option, commands: Sequence[str]) -> str:
    if option.repeat:
        value = f"{option.kind.describe()}; repeatable"
    elif option.many:
        value = f"{option.kind.describe()}; one or more"
    else:
        value = option.kind.describe()
    if option.required:
        value += "; required"
    return f"| {_usage(option)} | {_cell(value)} | {_default(option, commands)} | {_cell(option.help)} |"


def flag_tables() -> str:
    """Markdown: one table per set of commands that share options, largest set first."""
    order = list(CLI.commands)
    groups: dict[frozenset[str], list[Option]] = {}
    for option in CLI.options:
        groups.setdefault(option.commands, []).append(option)
    parts = [
        f"Every command that takes options also takes `{CONFIG.flag} FILE`: {CONFIG.help}"
        " ([scenario files](#scenario-files)). Times take units (`90s`, `1m30s`, `500ms`)."
    ]
    for commands, options in sorted(
        groups.items(), key=lambda item: (-len(item[0]), order.index(min(item[0], key=order.index)))
    ):
        names = sorted(commands, key=order.index)
        parts.append("### " + ", ".join(f"`{name}`" for name in names))
        rows = ["| flag | value | default | what it sets |", "|---|---|---|---|"]
        rows += [_row(option, names) for option in options]
        parts.append("\n".join(rows))
    return "\n\n".join(parts)

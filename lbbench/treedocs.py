"""The layer tables of docs/architecture.md and the module list of docs/development.md, from the tree.

Each package and module says what it holds in the first paragraph of its docstring; the layers are the
import-linter contracts of pyproject.toml, the same ones `make lint` enforces. So neither list can name
a module that is gone, miss one that came, or order the layers otherwise than the checks do.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
ROOTS = ("lbbench", "loadgen", "analysis", "bench", "runfiles")


def _module_path(name: str) -> Path:
    path = REPO.joinpath(*name.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def first_line(name: str) -> str:
    """The first paragraph of a module's or package's docstring (the one idea it holds), on one line."""
    doc = ast.get_docstring(ast.parse(_module_path(name).read_text())) or ""
    return " ".join(doc.strip().split("\n\n")[0].split())


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _contracts() -> list[dict[str, Any]]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    contracts: list[dict[str, Any]] = config["tool"]["importlinter"]["contracts"]
    return [c for c in contracts if c["type"] == "layers"]


def layer_tables() -> str:
    """One table per layers contract: the layers top to bottom, each package with its first line."""
    parts = []
    for contract in _contracts():
        containers: list[str] = contract.get("containers") or []
        prefix = f"{containers[0]}." if containers else ""
        rows = ["| layer | package | what it holds |", "|--:|---|---|"]
        for depth, layer in enumerate(contract["layers"], start=1):
            for name in (part.strip() for part in layer.split("|")):
                rows.append(f"| {depth} | `{prefix}{name}` | {_cell(first_line(prefix + name))} |")
        parts += [
            f"**{contract['name']}** (top to bottom; siblings on one layer are independent):",
            "\n".join(rows),
        ]
    return "\n\n".join(parts)


def _modules(root: str) -> list[str]:
    names = []
    for path in sorted((REPO / root).rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return sorted(set(names))


def module_list() -> str:
    """Every module of every package, with the first line of its docstring."""
    parts = []
    for root in ROOTS:
        rows = ["| module | what it holds |", "|---|---|"]
        rows += [f"| `{name}` | {_cell(first_line(name))} |" for name in _modules(root)]
        parts += [f"### `{root}/`", "\n".join(rows)]
    return "\n\n".join(parts)

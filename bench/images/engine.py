"""Reaching the Docker engine: one clear line when there is none, the labels, and the facts a run records.

It lives in the images package, not beside the docker provider, because both talk to the engine and
label what they make, and the layering must run one way: bench/topology/containers/ imports it from
here, and nothing in bench/images/ imports topology.
"""

from __future__ import annotations

from typing import Any

import docker
from docker.errors import DockerException

from bench.errors import UsageError

#: Every container, network and image the harness makes carries these labels.
LABEL_PROJECT = "io.lbbench.project"
LABEL_RUN = "io.lbbench.run"
LABEL_ROLE = "io.lbbench.role"
LABEL_OWNER_PID = "io.lbbench.owner-pid"
PROJECT = "leaderboard-bench"
ENGINE_TIMEOUT_S = 60


def engine() -> docker.DockerClient:
    """A client of the engine ``$DOCKER_HOST`` (or the local socket) names; UsageError if none answers."""
    try:
        client = docker.from_env(timeout=ENGINE_TIMEOUT_S)
        client.ping()
    except DockerException as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageError(
            f"no Docker engine answers ({reason}); start dockerd, or use --provider local"
        ) from None
    return client


def engine_facts(client: docker.DockerClient) -> dict[str, Any]:
    """What meta.json records about the engine: its version, storage driver and cgroup version."""
    version = client.version()
    info = client.info()
    return {
        "engine_version": version.get("Version", "?"),
        "engine_api": version.get("ApiVersion", "?"),
        "storage_driver": info.get("Driver", "?"),
        "cgroup_version": info.get("CgroupVersion", "?"),
    }


def run_labels(run_id: str, role: str) -> dict[str, str]:
    """The labels of one container of run ``run_id``."""
    return {LABEL_PROJECT: PROJECT, LABEL_RUN: run_id, LABEL_ROLE: role}

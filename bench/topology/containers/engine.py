"""Reaching the Docker engine: one clear line when there is none, and the facts a run records."""

from __future__ import annotations

import os
from typing import Any

import docker
from docker.errors import DockerException

from bench.errors import UsageError

#: Every container and network the harness starts carries these labels.
LABEL_PROJECT = "io.lbbench.project"
LABEL_RUN = "io.lbbench.run"
LABEL_ROLE = "io.lbbench.role"
LABEL_OWNER_PID = "io.lbbench.owner-pid"
PROJECT = "leaderboard-bench"
ENGINE_TIMEOUT_S = 60

# testcontainers' defaults do not fit a machine with no registry that looks like a container itself:
# the Ryuk reaper image cannot be pulled (we remove our containers ourselves), and without the
# override get_container_host_ip() answers the bridge gateway instead of the loopback we publish on.
TESTCONTAINERS_DEFAULTS = {
    "TESTCONTAINERS_RYUK_DISABLED": "true",
    "TESTCONTAINERS_HOST_OVERRIDE": "127.0.0.1",
}


def prepare_testcontainers() -> None:
    """Set testcontainers' environment defaults (a user's own settings win)."""
    for name, value in TESTCONTAINERS_DEFAULTS.items():
        os.environ.setdefault(name, value)


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

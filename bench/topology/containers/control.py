"""Fault actions on a run's server containers: docker pause/unpause, kill/start, a CPU quota."""

from __future__ import annotations

import time

from docker.models.containers import Container

from bench.topology.containers.nodes import RunContainers, exit_reason
from bench.topology.control import DUTY_PERIOD_S, NodeControl
from bench.topology.processes import READY_TIMEOUT_S, wait_for_ping

_CFS_PERIOD_US = round(DUTY_PERIOD_S * 1e6)


class DockerControl(NodeControl):
    """The containers of one run, by node name (``shard-3``, ``cache``)."""

    def __init__(self, run: RunContainers, urls: dict[str, str]) -> None:
        self.run = run
        self.urls = urls

    def _container(self, node: str) -> Container:
        name = f"{self.run.spec.run_id}-{node}"
        return next(
            c.get_wrapped_container() for c in self.run.containers if c.get_wrapped_container().name == name
        )

    def pause(self, node: str) -> str:
        self._container(node).pause()
        return "docker pause"

    def resume(self, node: str) -> str:
        self._container(node).unpause()
        return "docker unpause"

    def kill(self, node: str) -> str:
        container = self._container(node)
        container.kill()
        container.wait()
        return "docker kill (SIGKILL)"

    def restart(self, node: str) -> str:
        container = self._container(node)
        container.start()  # host network: the port is in its command line, so it comes back on it
        wrapper = next(c for c in self.run.containers if c.get_wrapped_container().id == container.id)
        deadline = time.monotonic() + READY_TIMEOUT_S
        wait_for_ping(node, self.urls[node], deadline, exit_reason(wrapper), self.run.spec.client_tls)
        return "docker start"

    def throttle(self, node: str, held_share: float) -> str:
        quota_us = round((1 - held_share) * _CFS_PERIOD_US)
        self.run.client.api.update_container(
            str(self._container(node).id), cpu_period=_CFS_PERIOD_US, cpu_quota=quota_us
        )
        return f"CPU quota {quota_us} µs per {_CFS_PERIOD_US} µs (--cpus {1 - held_share:g})"

    def unthrottle(self, node: str) -> str:
        self.run.client.api.update_container(str(self._container(node).id), cpu_quota=-1)
        return "CPU quota removed"

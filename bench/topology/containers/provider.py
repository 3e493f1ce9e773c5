"""``--provider docker``: N shard containers and one cache container, the harness's own, gone on close."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.console import status
from bench.errors import UsageError
from bench.topology.base import SpawningProvider, Topology, TopologyOptions, endpoints
from bench.topology.containers import DEFAULT_NETWORK_MODE, NETWORK_MODES
from bench.topology.tlsca import make_certificates

if TYPE_CHECKING:  # the docker SDK and testcontainers load when a run opens, not on every `lbbench --help`
    import psutil
    from docker import DockerClient

    from bench.images.serverimage import ServerImage

_MEMORY = re.compile(r"^[1-9][0-9]*[bkmg]?$", re.IGNORECASE)


class DockerProvider(SpawningProvider):
    """``--shards N`` server containers plus a cache container, on loopback, labelled with the run id."""

    name = "docker"
    reads = ("image", "network", "shard_cpus", "shard_memory", "tls")
    server_faults = frozenset({"stall", "kill", "slow", "cache-down"})

    def __init__(self, options: TopologyOptions) -> None:
        super().__init__(options)
        self.network_mode = options.network or DEFAULT_NETWORK_MODE
        if self.network_mode not in NETWORK_MODES:
            raise UsageError(
                f"--docker-network must be one of {', '.join(NETWORK_MODES)}, got {options.network!r}"
            )
        if options.shard_cpus is not None and not 0 < options.shard_cpus <= 1024:
            raise UsageError(f"--shard-cpus must be a positive number of CPUs, got {options.shard_cpus:g}")
        if options.shard_memory is not None and not _MEMORY.match(options.shard_memory):
            raise UsageError(f"--shard-memory must look like 512m or 2g, got {options.shard_memory!r}")

    @property
    def fault_kinds(self) -> frozenset[str]:
        kinds = set(self.server_faults)
        if self.network_mode == "bridge":
            # A restarted container gets a new published port: only faults without a restart.
            kinds -= {"kill", "cache-down"}
        if self.options.shard_cpus is not None:
            kinds.discard("slow")  # its CPU quota is the --shard-cpus limit's own setting
        return frozenset(kinds)

    def limits(self) -> dict[str, Any]:
        """docker's create() arguments for each shard's limits (none unless asked for)."""
        limits: dict[str, Any] = {}
        if self.options.shard_cpus is not None:
            limits["nano_cpus"] = round(self.options.shard_cpus * 1e9)
        if self.options.shard_memory is not None:
            limits["mem_limit"] = self.options.shard_memory.lower()
        return limits

    def open(self) -> Topology:
        from bench.images.engine import engine
        from bench.images.serverimage import resolve_image, resolve_tls_image
        from bench.topology.containers.control import DockerControl
        from bench.topology.containers.nodes import (
            NodeSpec,
            RunContainers,
            new_run_id,
            prepare_testcontainers,
            relay_cpu_s,
            remove_orphans,
        )

        client = engine()
        prepare_testcontainers()
        removed = remove_orphans(client)
        if removed:
            status(f"removed {removed} container(s) left by a harness run that was killed")
        tls = self.options.tls
        image = (resolve_tls_image if tls else resolve_image)(client, self.options.image)
        # --tls: a CA made for the run, in a directory the containers mount; gone with them.
        certificates_dir = Path(tempfile.mkdtemp(prefix="lbbench-tls-")) if tls else None

        def stop() -> None:
            run.stop()
            if certificates_dir is not None:
                shutil.rmtree(certificates_dir, ignore_errors=True)

        certificates = make_certificates(certificates_dir) if certificates_dir else None
        spec = NodeSpec(image.name, image.server, self.network_mode, new_run_id(), certificates)
        run = RunContainers(client, spec)
        status(
            f"starting {self.shard_count + 1} containers from {image.name} ({image.source}), "
            f"{self.network_mode} network{', TLS only' if tls else ''}"
        )
        policy = self.options.policy
        if certificates is not None:
            policy = policy.with_run_ca(str(certificates.ca_cert))
        try:
            shard_urls = [run.start("shard", f"shard-{i}", self.limits()) for i in range(self.shard_count)]
            cache_url = run.start("cache", "cache", {})
            shards, cache = endpoints(shard_urls, cache_url, policy)
            server = cache.server_label()
            relays = self._relays(run.ports)
            details = {**self._details(client, image, run.spec.run_id, relays), "tls": tls}
        except BaseException:
            stop()
            raise
        return Topology(
            self.name,
            shards,
            cache,
            owns_data=True,
            server=server,
            details=details,
            on_close=stop,
            control=DockerControl(run, {e.name: e.url for e in [*shards, cache]}),
            relay_cpu_s=relay_cpu_s(relays) if relays else None,
        )

    def _relays(self, ports: set[int]) -> list[psutil.Process] | None:
        """The docker-proxy processes in the harness's path; None where that cannot be told."""
        from bench.topology.containers.nodes import engine_runs_here, proxy_processes

        if self.network_mode == "host":
            return []
        return proxy_processes(ports) if engine_runs_here() else None

    def _details(
        self, client: DockerClient, image: ServerImage, run_id: str, relays: list[psutil.Process] | None
    ) -> dict[str, Any]:
        from bench.images.engine import engine_facts

        proxy = None if relays is None else bool(relays)
        return {
            "image": image.name,
            "image_id": image.image_id,
            "image_source": image.source,
            "docker_run_id": run_id,
            "network_mode": self.network_mode,
            "network": NETWORK_MODES[self.network_mode],
            "userland_proxy": proxy,
            "shard_limits": {"cpus": self.options.shard_cpus, "memory": self.options.shard_memory},
            **engine_facts(client),
        }

"""One run's server containers: started with testcontainers, labelled with the run id, removed on close."""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psutil
from docker import DockerClient
from docker.errors import DockerException, NotFound
from testcontainers.core.container import DockerContainer

from bench.errors import TopologyError
from bench.images.engine import LABEL_OWNER_PID, LABEL_PROJECT, LABEL_RUN, PROJECT, run_labels
from bench.topology.processes import PORT_ATTEMPTS, READY_TIMEOUT_S, free_port, wait_for_ping
from bench.topology.tlsca import ServerCertificates
from bench.wire.tls import TlsFiles

SERVER_PORT = 6379
CERTIFICATES_MOUNT = "/tls"  # where a --tls container finds the run's certificates

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


def new_run_id() -> str:
    """A short id that names the run's containers and network."""
    return f"lbbench-{secrets.token_hex(4)}"


@dataclass(frozen=True)
class NodeSpec:
    """What every server container of a run shares."""

    image: str
    server: str  # the binary in the image: "valkey-server" or "redis-server"
    network_mode: str
    run_id: str
    # --tls: the run's certificates, mounted read-only into every container; its port speaks only TLS.
    certificates: ServerCertificates | None = None

    @property
    def client_tls(self) -> TlsFiles:
        return self.certificates.client_tls if self.certificates else TlsFiles()


@dataclass
class RunContainers:
    """The server containers (and bridge network) of one run; ``stop`` removes them all."""

    client: DockerClient
    spec: NodeSpec
    containers: list[DockerContainer] = field(default_factory=list)
    network_id: str | None = None
    ports: set[int] = field(default_factory=set)  # the published 127.0.0.1 ports (bridge mode)

    def start(self, role: str, name: str, limits: dict[str, Any]) -> str:
        """Start one server container and wait until it answers PING; returns its redis:// URL."""
        if self.spec.network_mode == "bridge" and self.network_id is None:
            self.network_id = self._create_network()
        for attempt in range(PORT_ATTEMPTS):
            container, url = self._start_one(role, name, limits)
            self.containers.append(container)
            try:
                deadline = time.monotonic() + READY_TIMEOUT_S
                wait_for_ping(name, url, deadline, exit_reason(container), self.spec.client_tls)
            except TopologyError as exc:
                # host mode: another program may have taken the free port first; a fresh one fixes it.
                if "in use" in str(exc) and attempt + 1 < PORT_ATTEMPTS:
                    continue
                raise
            return url
        raise AssertionError("unreachable")

    def _start_one(self, role: str, name: str, limits: dict[str, Any]) -> tuple[DockerContainer, str]:
        spec = self.spec
        port = free_port() if spec.network_mode == "host" else SERVER_PORT
        certificates = spec.certificates
        if certificates is None:
            ports = ["--port", str(port)]
        else:  # the plain port off, as on spawned --tls servers: a client without TLS is refused
            ports = ["--port", "0", "--tls-port", str(port), *certificates.server_args(CERTIFICATES_MOUNT)]
        command = [spec.server, *ports, "--save", "", "--appendonly", "no"]
        kwargs: dict[str, Any] = {"labels": {**run_labels(spec.run_id, role), **owner_label()}, **limits}
        container = DockerContainer(spec.image).with_name(f"{spec.run_id}-{name}")
        if certificates is not None:
            container.with_volume_mapping(certificates.ca_cert.parent, CERTIFICATES_MOUNT, "ro")
        if spec.network_mode == "host":
            container.with_command([*command, "--bind", "127.0.0.1"])
            kwargs["network_mode"] = "host"
        else:
            # Inside its own network namespace: reachable only through the loopback port published below.
            container.with_command([*command, "--bind", "0.0.0.0", "--protected-mode", "no"])  # noqa: S104
            kwargs["network"] = spec.run_id
            # Published on loopback whatever dockerd's default --ip is; the host port is the engine's pick.
            container.ports[f"{SERVER_PORT}/tcp"] = ("127.0.0.1", None)  # type: ignore[assignment]
        container.with_kwargs(**kwargs)
        try:
            container.start()
        except DockerException as exc:
            raise TopologyError(
                f"cannot start container {name} from {spec.image}: {_first_line(exc)}"
            ) from None
        if spec.network_mode == "bridge":
            port = _published_port(container)
            self.ports.add(port)
        return container, f"{'rediss' if certificates else 'redis'}://127.0.0.1:{port}"

    def _create_network(self) -> str:
        network = self.client.networks.create(
            self.spec.run_id, driver="bridge", labels=run_labels(self.spec.run_id, "network")
        )
        return str(network.id)

    def stop(self) -> None:
        """Remove every container and the network of this run (idempotent, never raises)."""
        for container in reversed(self.containers):
            wrapped = container.get_wrapped_container()
            with contextlib.suppress(DockerException):
                wrapped.reload()
                if wrapped.status == "paused":  # stalled by a fault: unfrozen first, so it can stop
                    wrapped.unpause()
            with contextlib.suppress(DockerException):
                wrapped.remove(force=True, v=True)
        self.containers = []
        if self.network_id is not None:
            with contextlib.suppress(DockerException):
                self.client.networks.get(self.network_id).remove()
            self.network_id = None


def exit_reason(container: DockerContainer) -> Callable[[], str | None]:
    def exited() -> str | None:
        wrapped = container.get_wrapped_container()
        try:
            wrapped.reload()
        except NotFound:
            return "container is gone"
        if wrapped.status in ("created", "running"):
            return None
        logs = wrapped.logs(tail=1).decode(errors="replace").strip() or "(no log output)"
        return f"exited with code {wrapped.attrs['State'].get('ExitCode')}: {logs}"

    return exited


def _published_port(container: DockerContainer) -> int:
    wrapped = container.get_wrapped_container()
    wrapped.reload()
    bindings = wrapped.attrs["NetworkSettings"]["Ports"].get(f"{SERVER_PORT}/tcp") or []
    for binding in bindings:
        if binding.get("HostIp") == "127.0.0.1":
            return int(binding["HostPort"])
    raise TopologyError(f"container {wrapped.name} has no port published on 127.0.0.1: {bindings}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def proxy_processes(ports: set[int]) -> list[psutil.Process]:
    """The docker-proxy processes relaying any of these 127.0.0.1 ``ports`` (none without the proxy)."""
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        args: list[str] = proc.info["cmdline"] or []
        if proc.info["name"] != "docker-proxy" or "-host-port" not in args:
            continue
        with contextlib.suppress(IndexError, ValueError):
            if int(args[args.index("-host-port") + 1]) in ports:
                found.append(proc)
    return found


def engine_runs_here() -> bool:
    """Whether dockerd is a process on this machine (so its proxies would be seen here too)."""
    return any(proc.info["name"] == "dockerd" for proc in psutil.process_iter(["name"]))


def relay_cpu_s(processes: list[psutil.Process]) -> Callable[[], float]:
    """A reader of the cumulative CPU seconds of ``processes`` (an exited one counts what it last had)."""
    last: dict[int, float] = {}

    def read() -> float:
        for proc in processes:
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                last[proc.pid] = times.user + times.system
        return sum(last.values())

    return read


def remove_orphans(client: DockerClient) -> int:
    """Remove containers and networks left by harness runs whose process is gone (killed with -9)."""
    removed = 0
    label = f"{LABEL_PROJECT}={PROJECT}"
    for container in client.containers.list(all=True, filters={"label": label}):
        if _owner_alive(container.labels):
            continue
        with contextlib.suppress(DockerException):
            container.remove(force=True, v=True)
            removed += 1
    for network in client.networks.list(filters={"label": label}):
        if not _owner_alive(network.attrs.get("Labels") or {}):
            with contextlib.suppress(DockerException):
                network.remove()
    return removed


def owner_label() -> dict[str, str]:
    """Which process owns a container: lets a later run remove what a killed run left behind."""
    return {LABEL_OWNER_PID: str(os.getpid())}


def _owner_alive(labels: dict[str, str]) -> bool:
    pid = labels.get(LABEL_OWNER_PID, "")
    if not pid.isdigit() or LABEL_RUN not in labels:
        return True  # not ours to judge (e.g. started by compose)
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

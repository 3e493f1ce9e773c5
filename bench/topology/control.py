"""What a provider can do to its own servers for fault injection: freeze, kill, restart, throttle.

The fault scheduler (bench/faults/) only sees :class:`NodeControl`; each provider that owns its
servers hands one out as ``Topology.control``. Nodes are named as the topology names them
(``shard-3``, ``cache``). Every method returns a few words on what it did, for faults.csv.
"""

from __future__ import annotations

import contextlib
import os
import signal
from abc import ABC, abstractmethod
from collections.abc import Callable

from bench.threads import LoopThread
from bench.topology.endpoint import Endpoint
from bench.topology.processes import LocalServers, ServerProcess

#: slow: one stop/continue cycle. The CFS quota period docker's --cpus uses is also 100 ms.
DUTY_PERIOD_S = 0.1


class NodeControl(ABC):
    """Fault actions on the servers of one topology."""

    @abstractmethod
    def pause(self, node: str) -> str:
        """Freeze the node: it keeps its sockets (the kernel still accepts), answers nothing."""

    @abstractmethod
    def resume(self, node: str) -> str:
        """Undo :meth:`pause`."""

    @abstractmethod
    def kill(self, node: str) -> str:
        """Kill the node's server at once (connections are refused afterwards)."""

    @abstractmethod
    def restart(self, node: str) -> str:
        """Start a killed node again on the same address, empty; returns once it answers PING."""

    @abstractmethod
    def throttle(self, node: str, held_share: float) -> str:
        """Let the node run only ``1 - held_share`` of the time until :meth:`unthrottle`."""

    @abstractmethod
    def unthrottle(self, node: str) -> str:
        """Undo :meth:`throttle`."""


class DutyCycle:
    """Calls ``hold()`` then ``release()`` every DUTY_PERIOD_S, held ``held_share`` of each period."""

    def __init__(self, hold: Callable[[], None], release: Callable[[], None], held_share: float) -> None:
        self.hold, self.release, self.held_share = hold, release, held_share
        self._loop = LoopThread(self._run, "duty-cycle")

    def start(self) -> None:
        self._loop.start()

    def _run(self) -> None:
        try:
            # A period the signals made late is followed at once by the next: the node's share holds.
            for _ in self._loop.ticks(DUTY_PERIOD_S, first_s=0.0, skip_overrun=False):
                self.hold()
                if self._loop.wait(self.held_share * DUTY_PERIOD_S):
                    break
                self.release()
        finally:
            self.release()  # never leaves the node held

    def stop(self) -> None:
        self._loop.stop()


class LocalControl(NodeControl):
    """Signals to the servers the harness spawned (local and cluster providers)."""

    def __init__(self, servers: LocalServers, endpoints: list[Endpoint]) -> None:
        self.servers = servers
        # By port: a cluster's shard-i is whichever spawned server owns the i-th slot range.
        self._names = {e.name: e.url.rsplit(":", 1)[1] for e in endpoints}
        self._cycles: dict[str, DutyCycle] = {}

    def _server(self, node: str) -> ServerProcess:
        port = self._names[node]
        return next(s for s in self.servers.servers if str(s.port) == port)

    def _signal(self, node: str, signum: signal.Signals) -> str:
        server = self._server(node)
        with contextlib.suppress(ProcessLookupError):
            os.kill(server.process.pid, signum)
        return f"{signum.name} pid {server.process.pid}"

    def pause(self, node: str) -> str:
        return self._signal(node, signal.SIGSTOP)

    def resume(self, node: str) -> str:
        return self._signal(node, signal.SIGCONT)

    def kill(self, node: str) -> str:
        detail = self._signal(node, signal.SIGKILL)
        self._server(node).process.wait()
        return detail

    def restart(self, node: str) -> str:
        server = self.servers.restart(self._server(node).name)
        return f"started pid {server.process.pid} on port {server.port}"

    def throttle(self, node: str, held_share: float) -> str:
        pid = self._server(node).process.pid
        cycle = DutyCycle(
            lambda: self._quiet_kill(pid, signal.SIGSTOP),
            lambda: self._quiet_kill(pid, signal.SIGCONT),
            held_share,
        )
        self._cycles[node] = cycle
        cycle.start()
        period_ms = DUTY_PERIOD_S * 1000
        return f"SIGSTOP {held_share * period_ms:g} ms of every {period_ms:g} ms, pid {pid}"

    def unthrottle(self, node: str) -> str:
        cycle = self._cycles.pop(node, None)
        if cycle is not None:
            cycle.stop()
        return "duty cycle stopped, SIGCONT"

    @staticmethod
    def _quiet_kill(pid: int, signum: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)

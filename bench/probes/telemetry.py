"""Once-a-second INFO sampling of every node, with the harness's own traffic accounted for.

Each sample row holds cumulative counters, so any window's figures are last-row minus first-row:

- ``commands``: commandstats calls, all commands;
- ``workload_commands``: the same without per-connection set-up commands (HELLO, CLIENT, AUTH,
  SELECT), the sampler's own INFO calls and the commands of the harness's other clients (the
  refresher, the staleness probe);
- ``workload_bytes_in`` / ``workload_bytes_out``: Redis's ``total_net_input_bytes`` /
  ``total_net_output_bytes`` minus the bytes the sampler and those clients sent and received, which
  we count exactly on their sockets. Redis counts a request's bytes when it reads it and a reply's when
  it writes it, after INFO has been rendered, so sample k holds INFO request k but reply k-1.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from typing import Any

import redis

from bench.cache.formats import FORMATS
from bench.keys import Keys
from bench.threads import OVERLAP_WAIT_S, LoopThread, held_briefly
from bench.topology import Endpoint, Topology
from bench.wire.counting import ByteCounter, CountingConnection
from runfiles import is_setup_command

SAMPLE_INTERVAL_S = 1.0


def parse_info(text: str) -> dict[str, str]:
    """``INFO`` text -> flat ``{field: raw value}`` (commandstats lines keep their raw value)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition(":")
            fields[name] = value
    return fields


def parse_commandstats(fields: Mapping[str, str]) -> dict[str, tuple[int, int]]:
    """``{"zrange": (calls, usec), ...}`` from parsed INFO fields."""
    stats = {}
    for name, value in fields.items():
        if name.startswith("cmdstat_"):
            parts = dict(item.split("=", 1) for item in value.split(","))
            stats[name[len("cmdstat_") :]] = (int(parts["calls"]), int(parts["usec"]))
    return stats


class TelemetrySampler:
    """Samples INFO on all nodes every SAMPLE_INTERVAL_S in a background thread."""

    def __init__(
        self,
        topology: Topology,
        *,
        refresher: Mapping[str, ByteCounter] | None = None,
        others: Sequence[Mapping[str, ByteCounter]] = (),
        pre_sample: Callable[[], None] | None = None,
        refresher_busy: threading.Lock | None = None,
        interval_s: float = SAMPLE_INTERVAL_S,
    ) -> None:
        """Args:
        refresher: the background refresher's counters per node (also reported on their own).
        others: counters per node of the harness's other clients, subtracted like the refresher's.
        pre_sample: called just before each INFO round in the same thread, so the exchanges it
            makes (a probe's) are complete, and counted on both sides, when INFO is read.
        refresher_busy: the lock the refresher holds through each refresh. INFO is read under it, so
            a refresh's bytes are counted on both sides or on neither. Without it, a refresh
            finishing between INFO and the read of its counters was subtracted before Redis had
            counted it: a step down, dropped as a restart, and the next step counted it as load
            (a cached cross-check at 1.05-1.15 with refresh and sampling both every second).
        """
        # One connection per server: in a cluster the cache endpoint is one of the shards' servers,
        # and sampling it twice would count its traffic twice. Each row carries the first name
        # (the shard's) and subtracts the harness's counters of every name on that server.
        self.nodes = topology.servers
        self.aliases = {e.name: topology.aliases(e) for e in self.nodes}
        self.interval_s = interval_s
        self.refresher_counters = refresher or {}
        self.harness_counters = [self.refresher_counters, *others]
        self.pre_sample = pre_sample
        self.refresher_busy = refresher_busy
        self.counters = {e.name: ByteCounter() for e in self.nodes}
        self.connections: list[CountingConnection] = [e.connection(self.counters[e.name]) for e in self.nodes]
        self.node_rows: list[dict[str, Any]] = []
        self.command_rows: list[dict[str, Any]] = []
        self._loop = LoopThread(self._run, "telemetry")
        self._lock = threading.Lock()
        self.error: str = ""
        self.missed: list[dict[str, Any]] = []  # samples a node did not answer: t_s, node, error

    def sample(self) -> None:
        """Take one sample of every node (safe to call from any thread)."""
        with self._lock:
            self._sample()

    def _sample(self) -> None:
        if self.pre_sample is not None:
            self.pre_sample()
        if self.refresher_busy is None:
            self._info_round()
            return
        # A refresh stuck on a stalled server only delays the sample by OVERLAP_WAIT_S, once.
        with held_briefly(self.refresher_busy, OVERLAP_WAIT_S):
            self._info_round()

    def _info_round(self) -> None:
        """INFO from every node, all requests sent before any reply is read; one row each."""
        sent_after_request: list[int | None] = []
        received_before_reply: list[int] = []
        for conn, node in zip(self.connections, self.nodes, strict=True):
            counter = self.counters[node.name]
            received_before_reply.append(counter.bytes_received)
            try:
                conn.send_command("INFO", "all", check_health=False)
            except redis.RedisError as exc:
                self._missed(conn, node, exc)
                sent_after_request.append(None)
                continue
            sent_after_request.append(counter.bytes_sent)
        t_s = time.time()
        for i, (conn, node) in enumerate(zip(self.connections, self.nodes, strict=True)):
            sent = sent_after_request[i]
            if sent is None:
                continue
            try:
                raw = conn.read_response()
            except redis.RedisError as exc:
                self._missed(conn, node, exc)
                continue
            text = raw.decode() if isinstance(raw, bytes) else str(raw)
            self._add_rows(node, t_s, text, (sent, received_before_reply[i]))

    def _missed(self, conn: CountingConnection, node: Endpoint, exc: Exception) -> None:
        """A node that did not answer (stalled, killed by a fault): its row is missing, the run goes on.

        The next sample reconnects. A restarted server's counters start again from zero.
        """
        conn.disconnect()
        self.missed.append({"t_s": time.time(), "node": node.name, "error": f"{type(exc).__name__}: {exc}"})

    def _add_rows(self, endpoint: Endpoint, t_s: float, text: str, own_bytes: tuple[int, int]) -> None:
        """Rows for one node; ``own_bytes`` = (sampler bytes sent, received) that Redis has counted."""
        node, role = endpoint.name, endpoint.role
        sent, received = own_bytes
        fields = parse_info(text)
        commandstats = parse_commandstats(fields)
        names = self.aliases[node]
        harness = [counters[n] for counters in self.harness_counters for n in names if n in counters]
        refresher = [self.refresher_counters[n] for n in names if n in self.refresher_counters]
        commands = sum(calls for calls, _ in commandstats.values())
        setup = sum(calls for cmd, (calls, _) in commandstats.items() if is_setup_command(cmd))
        bytes_in = int(fields["total_net_input_bytes"])
        bytes_out = int(fields["total_net_output_bytes"])
        self.node_rows.append(
            {
                "t_s": t_s,
                "node": node,
                "role": role,
                "commands": commands,
                "workload_commands": commands - setup - sum(c.commands for c in harness),
                "bytes_in": bytes_in,
                "bytes_out": bytes_out,
                "workload_bytes_in": bytes_in - sent - sum(c.bytes_sent for c in harness),
                "workload_bytes_out": bytes_out - received - sum(c.bytes_received for c in harness),
                "refresher_commands": sum(c.commands for c in refresher),
                "cpu_s": float(fields["used_cpu_user"]) + float(fields["used_cpu_sys"]),
                "used_memory_bytes": int(fields["used_memory"]),
                "instantaneous_ops_per_sec": int(fields["instantaneous_ops_per_sec"]),
            }
        )
        for command, (calls, usec) in commandstats.items():
            self.command_rows.append(
                {"t_s": t_s, "node": node, "command": command, "calls": calls, "usec": usec}
            )

    def start(self) -> None:
        """Take the baseline sample now, then keep sampling in the background."""
        self.sample()
        self._loop.start()

    def _run(self) -> None:
        # Samples a slow round delayed are taken at once: the row count follows the window's length.
        for _ in self._loop.ticks(self.interval_s, skip_overrun=False):
            try:
                self.sample()
            except Exception as exc:
                self.error = f"telemetry sampling failed: {exc}"
                return

    def stop(self) -> None:
        """Stop the thread and take the closing sample, so the window ends after the load."""
        self._loop.stop()
        try:
            self.sample()
        finally:
            for conn in self.connections:
                conn.disconnect()


def key_memory_bytes(topology: Topology, keys: Keys) -> dict[str, int]:
    """``MEMORY USAGE ... SAMPLES 0`` (every element counted) of each harness key; 0 if absent.

    Labels: the node name for each shard's leaderboard, each cache format's ``memory_label``, and
    ``global_set`` for the single global sorted set. Taken after the load window closes, so it is
    not part of the measured traffic.
    """
    sizes: dict[str, int] = {}
    keys = keys.on(topology)
    targets = [(e, keys.shard_on(e), e.name) for e in topology.shards]
    targets += [(topology.cache, f.key(keys), f.memory_label) for f in FORMATS.values()]
    targets.append((topology.cache, keys.global_set, "global_set"))
    for endpoint, key, label in targets:
        with closing(endpoint.client()) as client:
            sizes[label] = int(client.memory_usage(key, samples=0) or 0)
    return sizes

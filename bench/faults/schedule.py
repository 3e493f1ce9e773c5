"""Applying a phase's faults at their offsets from the load window's start, and undoing them all.

The clock starts at the phase's first request (the ``load-start`` marker the load generator
writes), so every strategy sees the same schedule relative to its load. Each action becomes a row
of ``faults.csv`` (runfiles/records.py FAULT_COLUMNS). :meth:`FaultScheduler.stop` undoes whatever
is still in effect, so the next phase starts on healthy nodes.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass
from typing import Any

from bench.cache.refresher import RefresherThread
from bench.faults.spec import Fault
from bench.keys import Keys
from bench.threads import LoopThread
from bench.topology import Endpoint, Topology
from bench.topology.control import NodeControl
from bench.wire.policy import ConnectionPolicy
from runfiles import PhaseFiles

MARKER_POLL_S = 0.01
# DUMP/RESTORE of a whole shard (a 1M-member set is ~15 MB) outlasts the per-command timeout.
SNAPSHOT_TIMEOUT_MS = 60_000.0


@dataclass(frozen=True)
class Step:
    """One scheduled action: a fault's start (``undo`` False) or its end."""

    offset_s: float
    index: int  # the fault's position in the plan
    undo: bool


class FaultScheduler:
    """Runs one phase's fault plan in a background thread; ``rows`` are faults.csv's."""

    def __init__(
        self,
        faults: list[Fault],
        topology: Topology,
        keys: Keys,
        files: PhaseFiles,
        refresher: RefresherThread | None,
    ) -> None:
        self.faults = faults
        self.topology = topology
        self.keys = keys.on(topology)
        self.files = files
        self.refresher = refresher
        self.rows: list[dict[str, Any]] = []
        self.t_start_s: float | None = None  # the load window's start, once the marker came
        self._active: set[int] = set()
        self._done: set[int] = set()  # started and undone (or never to be undone: refresher-dead)
        self._snapshots: dict[int, bytes] = {}
        self._lock = threading.Lock()
        self._loop = LoopThread(self._run, "faults")
        steps = [Step(f.at_s, i, undo=False) for i, f in enumerate(faults)]
        steps += [Step(f.end_s, i, undo=True) for i, f in enumerate(faults) if f.end_s is not None]
        self.steps = sorted(steps, key=lambda s: (s.offset_s, s.undo))

    @property
    def control(self) -> NodeControl:
        if self.topology.control is None:  # options.validate() refused this combination
            raise AssertionError(f"--provider {self.topology.provider} injects no server faults")
        return self.topology.control

    def arm(self) -> None:
        """Before the load: snapshot each shard a kill fault will restart, to restore its data."""
        for i, fault in enumerate(self.faults):
            if fault.kind == "kill" and fault.shard is not None:
                endpoint = self._slow_endpoint(self.topology.shards[fault.shard])
                client = endpoint.client()
                try:
                    payload = client.dump(self.keys.shard_on(endpoint))
                    if payload is not None:
                        self._snapshots[i] = payload
                finally:
                    client.close()

    def start(self) -> None:
        self._loop.start()

    def _run(self) -> None:
        t0 = self._wait_for_load()
        if t0 is None:
            return
        # Offsets are wall-clock from the marker; waiting is measured on perf_counter from here.
        anchor = time.perf_counter() - (time.time() - t0)
        for step in self.steps:
            if self._loop.wait_until(anchor + step.offset_s):
                return
            with self._lock:
                self._apply(step.index, undo=step.undo, note="")

    def _wait_for_load(self) -> float | None:
        for _ in self._loop.ticks(MARKER_POLL_S, skip_overrun=True):
            try:
                self.t_start_s = float(self.files.load_start.read_text())
            except (OSError, ValueError):
                continue  # not there yet, or being written
            return self.t_start_s
        return None

    def stop(self, *, heal: bool = True) -> None:
        """Stop the schedule and undo every fault still in effect (``heal``: restarts too).

        Without ``heal`` (the run is being torn down) only the cheap undos run: stalled servers
        continue and duty cycles stop, so the servers can be stopped at once.
        """
        self._loop.stop()
        with self._lock:
            for i, fault in enumerate(self.faults):
                if i in self._active and (heal or fault.kind in ("stall", "slow")):
                    self._apply(i, undo=True, note=" (end of phase)")
                elif heal and i not in self._active and i not in self._done:
                    self._done.add(i)
                    self._record(fault, "skipped", f"the load ended before at={fault.at_s:g}s")

    def _apply(self, index: int, *, undo: bool, note: str) -> None:
        fault = self.faults[index]
        try:
            if undo:
                self._undo(index, fault, note)
                self._active.discard(index)
                self._done.add(index)
            else:
                self._active.add(index)
                self._start(fault)
                if fault.kind == "refresher-dead":
                    self._active.discard(index)
                    self._done.add(index)
        except Exception as exc:
            self._record(fault, "failed", f"{'undo' if undo else 'start'}: {type(exc).__name__}: {exc}")

    def _start(self, fault: Fault) -> None:
        target = fault.target
        if fault.kind == "stall":
            self._record(fault, "pause", self.control.pause(target))
        elif fault.kind in ("kill", "cache-down"):
            self._record(fault, "kill", self.control.kill(target))
        elif fault.kind == "slow":
            assert fault.duty is not None
            self._record(fault, "throttle", self.control.throttle(target, fault.duty))
        elif self.refresher is None:
            self._record(fault, "skipped", "this strategy has no cache refresher")
        else:
            self.refresher.stop()  # waits for a refresh in flight: bounded by the command timeout
            self._record(fault, "stop", f"after {len(self.refresher.records)} refreshes in this phase")

    def _undo(self, index: int, fault: Fault, note: str) -> None:
        target = fault.target
        if fault.kind == "stall":
            self._record(fault, "resume", self.control.resume(target) + note)
        elif fault.kind == "slow":
            self._record(fault, "unthrottle", self.control.unthrottle(target) + note)
        elif fault.kind == "cache-down":
            detail = self.control.restart(target)
            self._record(fault, "restart", f"{detail}, empty until the refresher's next run{note}")
        elif fault.kind == "kill":
            self._record(fault, "restart", self.control.restart(target) + note)
            self._restore(index, fault)

    def _restore(self, index: int, fault: Fault) -> None:
        assert fault.shard is not None
        payload = self._snapshots.get(index)
        if payload is None:
            self._record(fault, "restore", "nothing to restore: the shard held no leaderboard")
            return
        endpoint = self._slow_endpoint(self.topology.shards[fault.shard])
        client = endpoint.client()
        try:
            client.restore(self.keys.shard_on(endpoint), 0, payload, replace=True)
        finally:
            client.close()
        self._record(fault, "restore", f"leaderboard as at the phase's start, {len(payload):,} bytes")

    @staticmethod
    def _slow_endpoint(endpoint: Endpoint) -> Endpoint:
        return dataclasses.replace(endpoint, policy=ConnectionPolicy(SNAPSHOT_TIMEOUT_MS))

    def _record(self, fault: Fault, action: str, detail: str) -> None:
        t_s = time.time()
        offset = None if self.t_start_s is None else round(t_s - self.t_start_s, 4)
        self.rows.append(
            {
                "t_s": t_s,
                "offset_s": offset,
                "fault": fault.spec,
                "kind": fault.kind,
                "target": fault.target,
                "action": action,
                "detail": detail,
            }
        )

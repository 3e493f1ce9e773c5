"""A TCP relay in front of each node that adds a real round trip drawn from a network profile.

This kernel has no netem and no delay proxy is installable, so the delay is made in user space:
each chunk a client sends is held for one round trip drawn from the profile (order kept: a chunk
never overtakes the one before it), then forwarded; replies come back at once. The relays run in
their own process (``python -m bench.topology.delayrelay``), off the load generator's event loop,
on an asyncio loop over ``select()``: its timeout has µs resolution, where epoll's is 1 ms and would
round a 0.2 ms round trip up to 1 ms.

``DelayRelays`` spawns that process and hands back the relays' ports; it is torn down on exit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
from array import array
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import numpy as np

from bench.errors import TopologyError
from bench.threads import teardown_signals_held
from bench.topology.processes import child_preexec
from runfiles.rtt import BUILT_IN, RttProfile, parse_profile

DRAW_BATCH = 4096
_PR_SET_TIMERSLACK = 29
READY_LINE = "ready"
START_TIMEOUT_S = 10.0


class _Delays:
    """Round trips drawn from a profile in batches (µs to s), seeded: a run's delays can be replayed."""

    def __init__(self, profile: RttProfile, seed: int) -> None:
        self.profile = profile
        self.rng = np.random.default_rng(seed)
        self._batch: list[float] = []

    def next_s(self) -> float:
        if not self._batch:
            self._batch = (self.profile.draw_us(self.rng, DRAW_BATCH) / 1e6).tolist()
        return self._batch.pop()


class _Timing:
    """What the relays achieved, and how early to wake so that a held chunk leaves on time.

    A timed wake-up lands tens of µs late (scheduler, VM exits): each timer is set early by a
    running estimate of the median lateness (a step up when late, down when early, so a few
    wake-ups delayed by a busy CPU do not drag it), and every chunk's achieved hold (arrival to
    forward) is kept, so the check can compose the round trips the relay really added as well.
    """

    EARLY_MAX_S = 0.0005
    STEP_S = 0.000_002

    def __init__(self) -> None:
        self.early_s = 0.0
        self.held_us = array("d")

    def forwarded(self, arrival_s: float, due_s: float, now_s: float) -> None:
        self.held_us.append((now_s - arrival_s) * 1e6)
        if due_s > arrival_s:  # only a timer's lateness says anything about the next timer
            step_s = self.STEP_S if now_s > due_s else -self.STEP_S
            self.early_s = min(self.EARLY_MAX_S, max(0.0, self.early_s + step_s))

    def profile_toml(self, name: str) -> str:
        """The achieved holds as a profile file (runfiles/rtt.py's format)."""
        held = np.frombuffer(self.held_us, dtype=np.float64) if self.held_us else np.zeros(1)
        percents = [*range(101), 99.9]
        values = np.percentile(held, percents) / 1000
        lines = [f'name = "{name}-achieved"', f'source = "the relay\'s holds, {len(self.held_us)} chunks"']
        lines += ["[rtt_ms]", *(f'"p{q:g}" = {v:.4f}' for q, v in zip(percents, values, strict=True))]
        return "\n".join(lines) + "\n"


class _Upstream(asyncio.Protocol):
    """Relay to node: the node's replies go straight back to the client."""

    def __init__(self, client: asyncio.Transport) -> None:
        self.client = client

    def data_received(self, data: bytes) -> None:
        self.client.write(data)

    def connection_lost(self, exc: Exception | None) -> None:  # noqa: ARG002 - asyncio.Protocol
        self.client.close()


class _Downstream(asyncio.Protocol):
    """Client to relay: each chunk waits one drawn round trip, in order, then goes to the node."""

    def __init__(self, target: tuple[str, int], delays: _Delays, timing: _Timing) -> None:
        self.target = target
        self.delays = delays
        self.timing = timing
        self.loop = asyncio.get_running_loop()
        self.upstream: asyncio.Transport | None = None
        self.client: asyncio.Transport | None = None
        self.last_due = 0.0
        self.held: deque[tuple[float, float, bytes]] = deque()  # (arrival, due, chunk), oldest first

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.client = transport
        transport.pause_reading()  # until the node's side is connected
        self.loop.create_task(self._connect(transport))

    async def _connect(self, client: asyncio.Transport) -> None:
        try:
            upstream, _ = await self.loop.create_connection(lambda: _Upstream(client), *self.target)
        except OSError:
            client.close()
            return
        assert isinstance(upstream, asyncio.Transport)
        self.upstream = upstream
        if not client.is_closing():
            client.resume_reading()

    def data_received(self, data: bytes) -> None:
        now = self.loop.time()
        due = max(now + self.delays.next_s(), self.last_due)
        self.last_due = due
        if due <= now and not self.held:
            self._forward(data, now, due)
            return
        # One timer per connection, for the oldest chunk: timers due at the same instant have no
        # order, and a stream's chunks must keep theirs.
        self.held.append((now, due, data))
        if len(self.held) == 1:
            self.loop.call_at(due - self.timing.early_s, self._release)

    def _release(self) -> None:
        now = self.loop.time()
        while self.held and self.held[0][1] - self.timing.early_s <= now:
            arrival, due, data = self.held.popleft()
            self._forward(data, arrival, due)
        if self.held:
            self.loop.call_at(self.held[0][1] - self.timing.early_s, self._release)

    def _forward(self, data: bytes, arrival_s: float, due_s: float) -> None:
        if self.upstream is not None and not self.upstream.is_closing():
            self.upstream.write(data)
        self.timing.forwarded(arrival_s, due_s, self.loop.time())

    def connection_lost(self, exc: Exception | None) -> None:  # noqa: ARG002 - asyncio.Protocol
        if self.upstream is not None:
            # After the chunks still held: a client that sends and closes still gets its command in.
            self.loop.call_at(self.last_due, self.upstream.close)


async def serve(targets: Sequence[tuple[str, int]], profile: RttProfile, seed: int, timing: _Timing) -> None:
    """One listening relay per target on a free 127.0.0.1 port; prints each port, then READY_LINE.

    Runs until SIGTERM.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    servers = []
    for i, target in enumerate(targets):
        delays = _Delays(profile, seed + i)  # each node its own stream of draws

        def protocol(target: tuple[str, int] = target, delays: _Delays = delays) -> _Downstream:
            return _Downstream(target, delays, timing)

        server = await loop.create_server(protocol, "127.0.0.1", 0)
        servers.append(server)
        print(server.sockets[0].getsockname()[1], flush=True)
    print(READY_LINE, flush=True)
    await stop.wait()
    for server in servers:
        server.close()


def _tight_timers() -> None:
    # Linux lets a timed wait overshoot by the thread's timer slack, 50 µs by default: a quarter of
    # a same-zone round trip. 1 ns asks for wake-ups on time (Linux only; elsewhere the default).
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_TIMERSLACK, 1)


def relay_profile(text: str) -> RttProfile:
    """A built-in profile's name, or a profile file (runfiles/rtt.py); ProfileError otherwise."""
    return BUILT_IN[text] if text in BUILT_IN else parse_profile(Path(text))


def _target(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="TCP relays that add a round trip from a network profile")
    parser.add_argument("--profile", default="loopback", help=f"one of {', '.join(BUILT_IN)}, or a TOML file")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--record", type=Path, help="write the achieved holds here at exit (a profile file)")
    parser.add_argument("targets", nargs="+", type=_target, help="host:port of each node")
    args = parser.parse_args(argv)
    _tight_timers()
    loop = asyncio.SelectorEventLoop(selectors.SelectSelector())
    profile, timing = relay_profile(args.profile), _Timing()
    with contextlib.suppress(KeyboardInterrupt):
        loop.run_until_complete(serve(args.targets, profile, args.seed, timing))
    if args.record is not None:
        args.record.write_text(timing.profile_toml(profile.name))


class DelayRelays:
    """The relay process for ``targets``; ``ports[i]`` relays ``targets[i]``.

    ``profile``: a built-in profile's name or a profile file, checked here (ProfileError).
    """

    def __init__(self, targets: Sequence[tuple[str, int]], profile: str, seed: int = 1) -> None:
        self.targets = list(targets)
        self.profile_arg = profile
        self.profile = relay_profile(profile)
        self.seed = seed
        self.ports: list[int] = []
        #: The round trips the relay really added (each chunk's hold), read when it stops.
        self.achieved: RttProfile | None = None
        self.achieved_toml = ""  # the same, as the profile file the relay wrote
        self._process: subprocess.Popen[str] | None = None
        self._record = Path(tempfile.mkdtemp(prefix="lbbench-relay-")) / "achieved.toml"

    def __enter__(self) -> DelayRelays:
        args = [sys.executable, "-m", "bench.topology.delayrelay", "--profile", self.profile_arg]
        args += ["--seed", str(self.seed), "--record", str(self._record)]
        args += [f"{host}:{port}" for host, port in self.targets]
        with teardown_signals_held():  # a Ctrl-C lands once the process is ours to stop
            self._process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                text=True,
                start_new_session=True,
                preexec_fn=child_preexec,  # noqa: PLW1509 - prctl must run in the child before exec
            )
        try:
            self.ports = self._read_ports(self._process)
        except BaseException:
            self.close()
            raise
        return self

    def _read_ports(self, process: subprocess.Popen[str]) -> list[int]:
        assert process.stdout is not None
        ports: list[int] = []
        for line in process.stdout:
            if line.strip() == READY_LINE:
                return ports
            ports.append(int(line))
        raise TopologyError(f"the delay relay exited ({process.wait()}) before it listened")

    def close(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(START_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
        if self._record.exists():
            self.achieved_toml = self._record.read_text()
            self.achieved = parse_profile(self._record)
        shutil.rmtree(self._record.parent, ignore_errors=True)

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


if __name__ == "__main__":
    main()

"""Per-request µs latency recording into flat arrays, written out when the test stops."""

from __future__ import annotations

import json
import os
import time
from array import array
from collections import Counter
from pathlib import Path

import numpy as np


class Recorder:
    """Appends (completion time, latency, ok) per request; a few hundred ns per call."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget everything recorded (a new test in the same process starts from zero)."""
        self.t_end_s = array("d")
        self.latency_us = array("q")
        self.ok = array("b")
        self.errors: Counter[str] = Counter()
        self._cpu_start_s = 0.0
        self.t_start_s = 0.0
        self.t_stop_s = 0.0
        self.cpu_s = 0.0

    def start(self) -> None:
        self.reset()
        self.t_start_s = time.time()
        self._cpu_start_s = time.process_time()

    def add(self, t_start_ns: int, t_end_ns: int, error: BaseException | None) -> None:
        """Record one request timed with ``perf_counter_ns``."""
        self.t_end_s.append(time.time())
        self.latency_us.append((t_end_ns - t_start_ns) // 1000)
        self.ok.append(error is None)
        if error is not None:
            self.errors[f"{type(error).__name__}: {error}"[:200]] += 1

    def stop(self) -> None:
        self.cpu_s = time.process_time() - self._cpu_start_s
        self.t_stop_s = time.time()

    def write(self, raw_dir: Path) -> Path:
        """Write ``requests-<pid>.npz`` and ``loadgen-<pid>.json`` into ``raw_dir``."""
        raw_dir.mkdir(parents=True, exist_ok=True)
        pid = os.getpid()
        ok = np.frombuffer(self.ok, dtype=np.int8).astype(bool)
        path = raw_dir / f"requests-{pid}.npz"
        np.savez(
            path,
            t_end_s=np.frombuffer(self.t_end_s, dtype=np.float64),
            latency_us=np.frombuffer(self.latency_us, dtype=np.int64),
            ok=ok,
        )
        summary = {
            "pid": pid,
            "requests": int(ok.sum()),
            "failures": int((~ok).sum()),
            "cpu_s": self.cpu_s,
            "t_start_s": self.t_start_s,
            "t_stop_s": self.t_stop_s,
            "errors": dict(self.errors.most_common(20)),
        }
        (raw_dir / f"loadgen-{pid}.json").write_text(json.dumps(summary, indent=1))
        return path

"""`lbbench capacity`: what one node serves of each read command, measured with redis-benchmark."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.console import status
from bench.errors import EXIT_OK, UsageError
from bench.keys import Keys
from bench.probes.meta import utc_now
from runfiles import CAPACITY, write_json
from runfiles.summary import Capacity
from runfiles.typed import from_json


def cmd_capacity(args: argparse.Namespace) -> int:
    from analysis.figures.capacity import capacity_section
    from analysis.render.capacity import headroom_rows_text
    from bench.probes.capacity import probe
    from bench.probes.rbench import find_tool
    from lbbench.commands import seeded

    tool, why = find_tool()
    if tool is None:  # said before any server starts
        status(f"capacity: skipped: {why}")
        return EXIT_OK
    out: Path = args.out or Path("results") / f"{utc_now():%Y%m%dT%H%M%SZ}-capacity"
    with seeded(args) as topology:
        found = probe(topology, Keys(args.key_prefix), args.budget, args.top_n)
    if not found["available"]:
        status(f"capacity: skipped: {found['reason']}")
        return EXIT_OK
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot write to {out}: {exc.strerror}") from None
    write_json(out / CAPACITY, found)
    section = capacity_section(found, None)
    assert section is not None
    print(headroom_rows_text(from_json(Capacity, section)))
    status(f"recorded in {out / CAPACITY}")
    return EXIT_OK

"""Where the loadgen image carries this machine's redis-benchmark, and how it is started from there.

The image's Python base keeps its own C library, so the copy brings every library it links with its
own loader (``lib/ld.so``) and runs through it rather than from PATH: the staging is in
bench/images/loadgenimage.py, the use in bench/probes/rbench.py.
"""

from __future__ import annotations

from pathlib import Path

REDIS_BENCHMARK = "redis-benchmark"
BUNDLED = Path("/opt/lbbench/redis-benchmark")
LOADER = "ld.so"


def bundled_command(root: Path = BUNDLED) -> tuple[str, ...]:
    """The start of the command line that runs the image's redis-benchmark through its loader."""
    lib = root / "lib"
    return (str(lib / LOADER), "--library-path", str(lib), str(root / "bin" / REDIS_BENCHMARK))


def bundled_tool(root: Path = BUNDLED) -> tuple[str, ...] | None:
    """:func:`bundled_command` where this machine (the image) has the copy; None elsewhere."""
    if not (root / "bin" / REDIS_BENCHMARK).is_file() or not (root / "lib" / LOADER).is_file():
        return None
    return bundled_command(root)

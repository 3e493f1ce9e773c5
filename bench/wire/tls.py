"""TLS to Redis: the CA, client certificate and key a ``rediss://`` connection presents and checks.

The flags mirror ``redis-cli --tls --cacert --cert --key --insecure``. One set serves every node of a
run, as a managed service's one CA signs all of its nodes. The files are named by path; a Locust
worker on another host needs them at the same paths, and nothing reads their content but the TLS
library.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TlsFiles:
    """What a TLS connection uses; all None: the system's CAs, no client certificate."""

    ca_cert: str | None = None
    cert: str | None = None
    key: str | None = None
    #: No check of the server's certificate or name: for a lab's self-signed servers only.
    insecure: bool = False

    def redis_kwargs(self) -> dict[str, Any]:
        """redis-py's ``ssl_*`` arguments (``redis.Redis`` and ``redis.SSLConnection`` take the same)."""
        return {
            "ssl_ca_certs": self.ca_cert,
            "ssl_certfile": self.cert,
            "ssl_keyfile": self.key,
            "ssl_cert_reqs": "none" if self.insecure else "required",
            "ssl_check_hostname": not self.insecure,
        }

    def benchmark_args(self) -> list[str]:
        """redis-benchmark's flags for the same connection."""
        args = ["--tls"]
        for flag, path in (("--cacert", self.ca_cert), ("--cert", self.cert), ("--key", self.key)):
            if path:
                args += [flag, path]
        return [*args, "--insecure"] if self.insecure else args

    def to_json(self) -> dict[str, Any]:
        return {"ca_cert": self.ca_cert, "cert": self.cert, "key": self.key, "insecure": self.insecure}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> TlsFiles:
        return cls(**data) if data else cls()

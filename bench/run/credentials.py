"""Node passwords stay off the master-worker channel.

Locust sends a master's custom arguments to every worker in the clear, so the load config a master
passes on names each node with ``***`` for its password. Each worker puts the password back from what
its own host holds: a worker bench started finds it in its own ``$LBBENCH_LOAD_CONFIG`` (the process
environment, never the wire); a remote or container worker reads ``$LBBENCH_REDIS_PASSWORD``, or the
file ``$LBBENCH_REDIS_PASSWORD_FILE`` names (``lbbench-worker --password-file``), one password for
every node that has one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from bench.errors import UsageError
from bench.run.loadconfig import LOAD_CONFIG_ENV
from bench.topology.endpoint import REDACTED, redact_url, with_password

PASSWORD_ENV = "LBBENCH_REDIS_PASSWORD"  # noqa: S105 - a variable's name
PASSWORD_FILE_ENV = "LBBENCH_REDIS_PASSWORD_FILE"  # noqa: S105 - a variable's name
HOW_TO_GIVE = f"set ${PASSWORD_ENV} on the worker's host, or start lbbench-worker with --password-file"


class MissingPassword(Exception):
    """A worker was sent a node whose password its host does not hold (one line, no password in it)."""


def _urls(topology: Mapping[str, Any]) -> list[str]:
    return [*topology["shards"], topology["cache"]]


def _with_urls(topology: Mapping[str, Any], change: Any) -> dict[str, Any]:
    return {**topology, "shards": [change(u) for u in topology["shards"]], "cache": change(topology["cache"])}


def passwords(urls: Iterable[str]) -> set[str]:
    """The distinct passwords in ``urls`` (unquoted, as the server checks them)."""
    found = (urlsplit(url).password for url in urls)
    return {unquote(p) for p in found if p is not None}


def without_passwords(config_json: str) -> str:
    """A load config's JSON as it may travel to workers: every password ``***``."""
    config = json.loads(config_json)
    config["topology"] = _with_urls(config["topology"], redact_url)
    return json.dumps(config)


def host_password(environ: Mapping[str, str]) -> str | None:
    """The password this host gives its workers: ``$LBBENCH_REDIS_PASSWORD``, else the file named."""
    if environ.get(PASSWORD_ENV):
        return environ[PASSWORD_ENV]
    path = environ.get(PASSWORD_FILE_ENV)
    if not path:
        return None
    try:
        # One line; the newline an editor or `echo` leaves is not part of the password.
        return Path(path).read_text().rstrip("\r\n")
    except OSError as exc:
        raise MissingPassword(f"cannot read the password file {path}: {exc.strerror}") from None


def with_passwords(wire_json: str, environ: Mapping[str, str]) -> str:
    """The config a worker was sent, each ``***`` replaced by the password its own host holds."""
    config = json.loads(wire_json)
    topology = config["topology"]
    if all(urlsplit(url).password != REDACTED for url in _urls(topology)):
        return wire_json
    known: dict[str, str] = {}
    local = environ.get(LOAD_CONFIG_ENV)
    if local:
        known = {redact_url(url): url for url in _urls(json.loads(local)["topology"])}
    unknown = [url for url in _urls(topology) if urlsplit(url).password == REDACTED and url not in known]
    password = host_password(environ) if unknown else None  # the host is asked only when needed
    if unknown and password is None:
        raise MissingPassword(f"{unknown[0]} needs a password: {HOW_TO_GIVE}")
    given = quote(password or "", safe="")

    def fill(url: str) -> str:
        if urlsplit(url).password != REDACTED:
            return url
        return known.get(url) or with_password(url, given)

    config["topology"] = _with_urls(topology, fill)
    return json.dumps(config)


def check_remote_passwords(urls: Iterable[str], remote_workers: int) -> None:
    """Remote workers get one password for every node: refuse nodes that need different ones."""
    if remote_workers and len(passwords(urls)) > 1:
        raise UsageError(
            f"the nodes have different passwords, and remote workers take one (${PASSWORD_ENV} or"
            " --password-file on their host): give every node the same user and password"
        )

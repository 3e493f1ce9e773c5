"""Redis Cluster plumbing: the even slot split, hash tags per master, forming a cluster, reading one.

A cluster is formed without redis-cli: each master is given its slot range (``CLUSTER
ADDSLOTSRANGE``), one node ``CLUSTER MEET``s the others, replicas ``CLUSTER REPLICATE`` their master
once they know it, and we poll until every node reports ``cluster_state:ok`` and the same slot map.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis

from bench.errors import TopologyError, UsageError
from bench.topology.endpoint import Endpoint, redact_url
from bench.wire.keyslot import even_slot_ranges, key_slot
from bench.wire.policy import ConnectionPolicy

#: The hash tag of every global key in a cluster. Fixed rather than derived from --key-prefix, so a
#: prefix change never moves the cache to another node.
GLOBAL_TAG = "lbbench-global"
FORM_TIMEOUT_S = 30.0
_TAG_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_TAG_MAX_LEN = 4  # 36**4 candidates: enough for a master owning a single slot

SlotRanges = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Master:
    """One master of a cluster: where it listens, its id, the slots it owns, its replicas' URLs."""

    url: str
    node_id: str
    slots: SlotRanges
    replicas: tuple[str, ...] = ()

    def owns(self, slot: int) -> bool:
        return any(lo <= slot <= hi for lo, hi in self.slots)


def _candidate_tags() -> Iterator[str]:
    for length in range(1, _TAG_MAX_LEN + 1):
        for chars in itertools.product(_TAG_ALPHABET, repeat=length):
            yield "".join(chars)


def key_tags(slot_maps: Sequence[SlotRanges]) -> list[str]:
    """For each master's slot ranges, the shortest tag ("0", "1", ..., "a", ..., "00", ...) it owns."""
    owner = {slot: i for i, ranges in enumerate(slot_maps) for lo, hi in ranges for slot in range(lo, hi + 1)}
    found: dict[int, str] = {}
    for tag in _candidate_tags():
        i = owner.get(key_slot(tag.encode()))
        if i is not None and i not in found:
            found[i] = tag
            if len(found) == len(slot_maps):
                break
    missing = [i for i in range(len(slot_maps)) if i not in found]
    if missing:
        raise TopologyError(f"no hash tag of up to {_TAG_MAX_LEN} characters lands on master {missing[0]}")
    return [found[i] for i in range(len(slot_maps))]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _pairs(flat: Sequence[Any]) -> dict[str, Any]:
    """A RESP2 flat ``[name, value, ...]`` reply as a dict with str names."""
    return {_text(flat[i]): flat[i + 1] for i in range(0, len(flat), 2)}


def _ranges(flat: Sequence[Any]) -> SlotRanges:
    return tuple(sorted((int(flat[i]), int(flat[i + 1])) for i in range(0, len(flat), 2)))


def _node_url(seed_url: str, host: str, port: int) -> str:
    """``seed_url`` pointed at ``host:port``: cluster nodes share the seed's user and password."""
    parts = urlsplit(seed_url)
    auth = ""
    if parts.username or parts.password:
        auth = f"{parts.username or ''}" + (f":{parts.password}" if parts.password is not None else "") + "@"
    return urlunsplit(("redis", f"{auth}{host}:{port}", "", "", ""))


def _masters_from_shards(reply: Sequence[Any], seed_url: str) -> list[Master]:
    masters = []
    for entry in reply:
        shard = _pairs(entry)
        slots = _ranges(shard["slots"])
        nodes = [_pairs(node) for node in shard["nodes"]]
        primary = [n for n in nodes if _text(n["role"]) == "master"]
        if not slots or not primary:
            continue  # a master without slots holds no shard
        url = lambda n: _node_url(seed_url, _text(n.get("endpoint") or n["ip"]), int(n["port"]))  # noqa: E731
        replicas = tuple(url(n) for n in nodes if _text(n["role"]) != "master")
        masters.append(Master(url(primary[0]), _text(primary[0]["id"]), slots, replicas))
    return sorted(masters, key=lambda m: m.slots[0])


def _masters_from_slots(reply: Sequence[Any], seed_url: str) -> list[Master]:
    """CLUSTER SLOTS (servers before CLUSTER SHARDS): one row per contiguous range, grouped by master."""
    by_id: dict[str, tuple[str, list[tuple[int, int]], tuple[str, ...]]] = {}
    for lo, hi, primary, *replicas in reply:
        node_id = _text(primary[2])
        urls = tuple(_node_url(seed_url, _text(r[0]), int(r[1])) for r in replicas)
        url = _node_url(seed_url, _text(primary[0]), int(primary[1]))
        by_id.setdefault(node_id, (url, [], urls))[1].append((int(lo), int(hi)))
    masters = [Master(url, i, tuple(sorted(r)), reps) for i, (url, r, reps) in by_id.items()]
    return sorted(masters, key=lambda m: m.slots[0])


def discover(seed_url: str, policy: ConnectionPolicy) -> list[Master]:
    """The masters of the cluster ``seed_url`` belongs to, in slot order; UsageError unless it is healthy."""
    client = Endpoint("cluster seed", "seed", seed_url, policy).client()
    try:
        info = _text(client.execute_command("CLUSTER", "INFO"))
        state = _pairs([x for line in info.splitlines() if ":" in line for x in line.split(":", 1)])
        if state.get("cluster_state") != "ok":
            raise UsageError(
                f"cluster at {redact_url(seed_url)} is not ok: cluster_state:{state['cluster_state']}"
            )
        try:
            masters = _masters_from_shards(client.execute_command("CLUSTER", "SHARDS"), seed_url)
        except redis.ResponseError:
            masters = _masters_from_slots(client.execute_command("CLUSTER", "SLOTS"), seed_url)
        # CLUSTER SHARDS groups a replica by its shard id, which other nodes learn by gossip a while
        # after they know whom it replicates: read the replicas from CLUSTER NODES instead.
        replicas = _replicas_by_master(client, seed_url)
        return [replace(m, replicas=replicas.get(m.node_id, ())) for m in masters]
    except redis.ResponseError as exc:
        raise UsageError(f"{redact_url(seed_url)} is not a cluster node: {exc}") from None
    except redis.RedisError as exc:
        raise UsageError(f"cannot reach cluster node {redact_url(seed_url)}: {exc}") from None
    finally:
        client.close()


def coverage_settings(url: str, policy: ConnectionPolicy) -> dict[str, bool | None]:
    """A node's failure-coverage settings; None where CONFIG GET is refused (managed services)."""
    client = Endpoint("cluster node", "node", url, policy).client()
    settings: dict[str, bool | None] = {}
    try:
        for name in ("require-full-coverage", "allow-reads-when-down"):
            try:
                value = client.config_get(f"cluster-{name}").get(f"cluster-{name}")
            except redis.ResponseError:
                value = None
            settings[name.replace("-", "_")] = None if value is None else value == "yes"
    finally:
        client.close()
    return settings


def _replicas_by_master(client: redis.Redis, seed_url: str) -> dict[str, tuple[str, ...]]:
    """The URLs of each master's replicas (by master id), in URL order, from CLUSTER NODES."""
    found: dict[str, list[str]] = {}
    for line in _text(client.execute_command("CLUSTER", "NODES")).splitlines():
        _node_id, addr, flags, master, *_rest = line.split()
        if "slave" not in flags.split(",") or {"fail", "handshake", "noaddr"} & set(flags.split(",")):
            continue
        host_port = addr.split("@", 1)[0]
        host, port = host_port.rsplit(":", 1)
        found.setdefault(master, []).append(_node_url(seed_url, host, int(port)))
    return {master: tuple(sorted(urls)) for master, urls in found.items()}


def _nodes_view(client: redis.Redis) -> frozenset[tuple[str, str, str, SlotRanges]]:
    """CLUSTER NODES as ``{(id, role, master id, slots)}``; a node still in handshake reads as such."""
    view = set()
    for line in _text(client.execute_command("CLUSTER", "NODES")).splitlines():
        node_id, _addr, flags, master, *_rest = line.split()
        role = "handshake" if "handshake" in flags else ("master" if "master" in flags else "replica")
        slots = [s for s in line.split()[8:] if not s.startswith("[")]
        pairs = [(int(s.split("-")[0]), int(s.split("-")[-1])) for s in slots]
        view.add((node_id, role, master, tuple(sorted(pairs))))
    return frozenset(view)


def form_cluster(urls: Sequence[str], masters: int, host: str, policy: ConnectionPolicy) -> None:
    """Make ``urls`` one cluster: the first ``masters`` split the slots, the rest replicate them in turn.

    Replica j of the rest follows master ``j % masters``. TopologyError (one line) if it does not
    settle within FORM_TIMEOUT_S.
    """
    clients = [Endpoint(f"node-{i}", "node", url, policy).client() for i, url in enumerate(urls)]
    deadline = time.monotonic() + FORM_TIMEOUT_S
    try:
        ids = [_text(c.execute_command("CLUSTER", "MYID")) for c in clients]
        for client, (lo, hi) in zip(clients, even_slot_ranges(masters), strict=False):
            client.execute_command("CLUSTER", "ADDSLOTSRANGE", lo, hi)
        for url, client in zip(urls[1:], clients[1:], strict=True):
            # The bus port is not always port + 10000 (that can pass 65535): MEET names it.
            bus_port = client.config_get("cluster-port")["cluster-port"]
            clients[0].execute_command("CLUSTER", "MEET", host, urlsplit(url).port, bus_port)
        # A replica can follow only a master it has heard of.
        _wait(deadline, "every node to know the others", lambda: all(_knows(c, ids) for c in clients))
        for j, client in enumerate(clients[masters:]):
            client.execute_command("CLUSTER", "REPLICATE", ids[j % masters])
        expected = _expected_view(ids, masters)
        _wait(
            deadline, "cluster_state:ok and one slot map on every node", lambda: _settled(clients, expected)
        )
    except redis.RedisError as exc:
        raise TopologyError(f"forming the cluster failed: {exc}") from None
    finally:
        for client in clients:
            client.close()


def _knows(client: redis.Redis, ids: list[str]) -> bool:
    view = _nodes_view(client)
    return {v[0] for v in view if v[1] != "handshake"} >= set(ids)


def _expected_view(ids: list[str], masters: int) -> frozenset[tuple[str, str, str, SlotRanges]]:
    ranges = even_slot_ranges(masters)
    no_slots: SlotRanges = ()
    view: set[tuple[str, str, str, SlotRanges]] = {
        (ids[i], "master", "-", (ranges[i],)) for i in range(masters)
    }
    view |= {(node_id, "replica", ids[j % masters], no_slots) for j, node_id in enumerate(ids[masters:])}
    return frozenset(view)


def _settled(clients: list[redis.Redis], expected: frozenset[tuple[str, str, str, SlotRanges]]) -> bool:
    for client in clients:
        if b"cluster_state:ok" not in client.execute_command("CLUSTER", "INFO"):
            return False
        if _nodes_view(client) != expected:
            return False
    return True


def _wait(deadline: float, what: str, done: Any) -> None:
    while not done():
        if time.monotonic() > deadline:
            raise TopologyError(f"cluster not formed after {FORM_TIMEOUT_S:g}s: waiting for {what}")
        time.sleep(0.05)

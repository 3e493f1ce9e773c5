"""Servers the user runs, given by URL: checked, used, never stopped; only the harness's keys are touched."""

from __future__ import annotations

from bench.errors import UsageError
from bench.topology.base import Provider, Topology, TopologyOptions, endpoints
from bench.topology.endpoint import check_url


class ExternalProvider(Provider):
    """``--shard-url`` once per shard plus ``--cache-url``."""

    name = "external"
    owns_data = False

    def __init__(self, options: TopologyOptions) -> None:
        super().__init__(options)
        if not options.shard_urls or not options.cache_url:
            raise UsageError("external topology needs both --shard-url (one per shard) and --cache-url")
        if options.shards is not None and options.shards != len(options.shard_urls):
            raise UsageError(f"--shards {options.shards} but {len(options.shard_urls)} --shard-url given")
        for url in (*options.shard_urls, options.cache_url):
            check_url(url)
        if len(set(options.shard_urls) | {options.cache_url}) != len(options.shard_urls) + 1:
            raise UsageError("every --shard-url and the --cache-url must be a different server")
        self.cache_url: str = options.cache_url

    @property
    def shard_count(self) -> int:
        return len(self.options.shard_urls)

    def open(self) -> Topology:
        shards, cache = endpoints(list(self.options.shard_urls), self.cache_url, self.options.policy)
        labels = {endpoint.server_label() for endpoint in [*shards, cache]}
        return Topology(self.name, shards, cache, owns_data=False, server=", ".join(sorted(labels)))

"""Where the shards and the cache node live: topology providers, endpoints, spawned processes."""

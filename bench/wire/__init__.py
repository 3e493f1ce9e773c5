"""Talking to Redis on the hot path: counted connections, scatter-gather, merging, key slots, timeouts."""

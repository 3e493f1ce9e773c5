"""The async global cache: the background refresher, the cache formats it writes, the rank histogram."""

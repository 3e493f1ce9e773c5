"""The load generator: the only code that imports Locust (gevent-patched): users, pacing, recording."""

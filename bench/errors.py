"""Errors the CLI turns into one clear line and exit code 2."""


class UsageError(Exception):
    """Bad input from the user: a flag, URL, config value or path we cannot use."""


class TopologyError(UsageError):
    """A server could not be started or reached."""

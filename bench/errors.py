"""Errors the CLI turns into one clear line and exit code 2."""


class UsageError(Exception):
    """Bad input from the user: a flag, URL, config value or path we cannot use."""


class TopologyError(UsageError):
    """A server could not be started or reached."""


# `lbbench` exit codes (README "Exit codes").
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

"""The two kinds of failure the CLI reports in one line: bad input (exit 2) and a failed run (exit 1)."""


class UsageError(Exception):
    """Bad input from the user: a flag, URL, config value or path we cannot use (exit 2)."""


class RunError(Exception):
    """A run could not go on: a server died or stalled, the data is not what a step needs (exit 1)."""


class TopologyError(RunError):
    """A server the harness started, or one it had already reached, failed."""


# `lbbench` exit codes (docs/commands.md "Exit codes").
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

"""The `lbbench` command line: the subcommands, their options declared once, and the exit codes.

The top of the dependency graph: it runs bench (the system under test and the run) and analysis (the
report), which never import each other.
"""

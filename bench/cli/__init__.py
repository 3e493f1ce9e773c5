"""The `lbbench` command line: argument parsing, one function per subcommand, exit codes."""

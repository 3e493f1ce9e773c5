"""`python -m lbbench`: the same command line as the `lbbench` script."""

from lbbench.main import run

run()

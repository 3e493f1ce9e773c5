"""``python -m bench`` runs the lbbench CLI."""

from bench.cli import run

run()

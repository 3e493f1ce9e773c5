"""``python -m bench`` runs the lbbench CLI."""

from bench.cli.main import run

run()

"""Faults injected into a run's nodes during each strategy's load phase (docs/faults.md)."""

"""A run: compare and sweep, each strategy's load phase, the Locust swarm and what it is told."""

"""The system under test and the run: topology, seeding, strategies, cache, wire, faults, probes, run."""

"""What the harness measures beside the load: INFO telemetry, staleness, rank checks, run metadata."""

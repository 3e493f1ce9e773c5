"""Loading: a run directory's raw files in; tidy pandas frames (frames) and merged µs histograms (hdr) out."""

"""Figures: frames, histograms and the run's JSON files in; summary.json's sections out.

``summary.build_summary`` assembles them: the per-strategy sections, lag and exhausted users, the rank
check, staleness, per-node capacity, the scale model, the network projection and Under faults. A
sweep's tidy table of its points' summaries is here too.
"""

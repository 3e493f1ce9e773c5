"""The gate: summaries of runs and a baseline in, with check expressions; a verdict per check out.

``checks`` parses the expressions, ``evaluate`` decides them (``noise`` is the rule for timings),
``baseline`` reads and writes baselines, ``report`` writes gate.json and the report's Gate section.
"""

"""The network check: a netcheck directory's runs in; measured latency against the projection out.

``check`` compares one check's runs (netcheck.md, netcheck.json), ``pool`` several checks' results.
"""

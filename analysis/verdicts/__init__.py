"""Verdicts: a summary in; each of the seed's claims out, as a Claim with its Verdict.

``claims`` judges the quantitative claims (a-h), ``tradeoffs`` the qualitative ones (i-u), ``capacity``
those that rest on per-node capacity.
"""

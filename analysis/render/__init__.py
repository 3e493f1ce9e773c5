"""Rendering: a summary, its verdicts and the frames in; report.md's sections and the PNG plots out."""

"""From run files to numbers and words: frames, figures, verdicts, report, plots, gates."""

"""report.html: a report's Markdown and its summary as one self-contained page (html.py, headline.py)."""

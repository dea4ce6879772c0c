"""Reports for readers: Markdown, HTML, JSON and CSV exports of the tracker
(:func:`mou_tracker.reports.export.export`). Never imports Textual."""

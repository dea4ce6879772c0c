"""The terminal UI (Textual). Only this package imports Textual; the domain, storage and
reports never do. Entry point: :func:`mou_tracker.tui.app.run_app`."""

"""Part of the terminal UI."""

"""The UI's read queries live beside the UI but, like the core, never import Textual."""

from __future__ import annotations

import subprocess
import sys


def test_tui_data_layer_never_imports_textual():
    code = "import sys, mou_tracker.tui.data, mou_tracker.tui.text\nprint('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

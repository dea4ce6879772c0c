"""Look at the exported HTML as a reader's browser shows it: screenshots at phone and desktop
widths and a PDF print, with headless Chromium.

    python scripts/screenshots.py [EXPORT_DIR] [--out DIR] [--page html/index.html ...]

EXPORT_DIR defaults to ``exports``. For every page it writes ``<name>-390.png`` (a phone),
``<name>-1280.png`` (a desktop) and ``<name>.pdf`` (print, A4) into ``--out`` (default
``screenshots/`` in the current directory), and prints how many pages each PDF has. It needs a
Chromium or Chrome binary (``chromium``, ``chromium-browser``, ``google-chrome``, or the path
in ``$CHROMIUM``); on Debian, ``apt-get install chromium``. Nothing here runs in CI: it is a
check for a person to run and look at.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# width -> window height in CSS pixels: tall enough to hold a whole page, since headless
# Chromium captures only the window (crop the PNG to look at one part).
WIDTHS = {390: 16000, 1280: 9000}
DEFAULT_PAGES = ("html/index.html", "html/commitments/oai-3.1.html")


def browser() -> str:
    for candidate in (
        os.environ.get("CHROMIUM"),
        "chromium",
        "chromium-browser",
        "google-chrome",
    ):
        if candidate and shutil.which(candidate):
            return str(shutil.which(candidate))
    sys.exit("screenshots: no Chromium found (install chromium, or set CHROMIUM=/path/to/it)")


def run(binary: str, profile: str, *args: str) -> None:
    command = [
        binary,
        "--headless",
        "--disable-gpu",
        "--no-sandbox",
        "--hide-scrollbars",
        "--no-first-run",
        "--disable-extensions",
        f"--user-data-dir={profile}",
        *args,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        sys.exit(f"screenshots: chromium failed: {result.stderr.strip()[-400:]}")


def pdf_pages(path: Path) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", path.read_bytes()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export_dir", nargs="?", default="exports", type=Path)
    parser.add_argument("--out", default=Path("screenshots"), type=Path)
    parser.add_argument("--page", action="append", dest="pages")
    args = parser.parse_args(argv)
    binary = browser()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mou-chromium-") as profile:
        for rel in args.pages or DEFAULT_PAGES:
            page = (args.export_dir / rel).resolve()
            if not page.is_file():
                sys.exit(f"screenshots: {page} does not exist (export first)")
            url = page.as_uri()
            name = page.stem
            for width, height in WIDTHS.items():
                shot = (args.out / f"{name}-{width}.png").resolve()
                run(binary, profile, f"--window-size={width},{height}", f"--screenshot={shot}", url)
                print(f"{shot}  ({width}x{height})")
            pdf = (args.out / f"{name}.pdf").resolve()
            run(binary, profile, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", url)
            print(f"{pdf}  ({pdf_pages(pdf)} pages)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Open a campaign report in headless Chromium, take a screenshot and check that it rendered.

    python scripts/check_report.py results/report.html [--screenshot results/report.png]

Snakemake's report is a single HTML page that draws itself with JavaScript;
a page that failed to render is blank or shows only its loading text. The
check: Chromium exits 0, the screenshot exists, and enough of it is drawn
(non-white pixels and several colours). Prints one line per finding and
exits 1 on failure; prints "SKIPPED: ..." and exits 0 where no Chromium is
installed (Debian: apt-get install chromium).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
# a closed network refuses Chromium's background connections; keep it quiet
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--virtual-time-budget=15000")


def find_browser() -> str | None:
    """Path of an installed Chromium, or None."""
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def screenshot(browser: str, html: Path, png: Path, size: str = "1400,1800") -> subprocess.CompletedProcess:
    """Render ``html`` in headless Chromium and write a PNG of the window."""
    with tempfile.TemporaryDirectory() as profile:
        cmd = [browser, *FLAGS, f"--user-data-dir={profile}", f"--window-size={size}",
               f"--screenshot={png}", html.resolve().as_uri()]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)


def drawn(png: Path) -> tuple[float, int]:
    """Share of non-white pixels and the number of distinct colours of a PNG."""
    import numpy as np
    from matplotlib.image import imread

    pixels = imread(png)[..., :3]
    non_white = float((pixels < 0.95).any(axis=-1).mean())
    colours = len(np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0))
    return non_white, colours


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="the report's HTML file")
    parser.add_argument("--screenshot", type=Path, default=None, help="PNG to write (default: beside the report)")
    args = parser.parse_args(argv)
    if not args.report.is_file():
        print(f"check_report: error: {args.report} not found; build it with `make report`", file=sys.stderr)
        return 2
    if "System Message:" in args.report.read_text(errors="replace"):
        print("FAILED: a caption or the description has an RST error ('System Message' in the page)")
        return 1
    browser = find_browser()
    if browser is None:
        print("SKIPPED: no Chromium on this machine (Debian: apt-get install chromium)")
        return 0
    png = args.screenshot or args.report.with_suffix(".png")
    proc = screenshot(browser, args.report, png)
    if proc.returncode != 0 or not png.is_file():
        print(f"FAILED: Chromium exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
        return 1
    non_white, colours = drawn(png)
    print(f"check_report: {png} ({png.stat().st_size} bytes): {non_white:.1%} of the page drawn, {colours} colours")
    if non_white < 0.02 or colours < 16:
        print("FAILED: the page looks blank (did its JavaScript run?)")
        return 1
    print("check_report: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

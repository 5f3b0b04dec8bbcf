"""Open a campaign report in headless Chromium: the landing page and every category page, checked.

    python scripts/check_report.py results/report.html [--screenshot results/report.png]

Snakemake's report is a single-page app: one HTML file that draws itself
with JavaScript, with no address per page; a category page is what the
menu shows after a click on the category. So the check renders the page
several times in headless Chromium:

- the landing page as a screenshot: Chromium exits 0 and enough of the page
  is drawn (non-white pixels and several colours);
- each category of the report's ``categories``, through a copy of the page
  with a small probe script that clicks the category in the menu (and each
  subcategory), then the view button of every result listed, and writes
  what it saw into the page, read back with ``--dump-dom``. A category
  passes when it is in the menu and opens, lists all of its results, and
  every image result shows a decoded image (tables and other files are
  download links holding their data);
- the categories are numbered in the order the menu shows them
  ("1. Data" ... "8. Provenance").

Prints one line per finding and exits 1 on failure. Without Chromium it
prints "SKIPPED: ..." and exits 0, unless the environment variable
CONSTRICT_REQUIRE_BROWSER is set (CI sets it): then it fails. Debian:
``apt-get install chromium``.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
REQUIRE_ENV = "CONSTRICT_REQUIRE_BROWSER"
# a closed network refuses Chromium's background connections; keep it quiet
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--virtual-time-budget=60000")

PROBE = """
<script id="constrict-check-probe">
(function () {
  const category = decodeURIComponent(location.hash.slice(1));
  const out = {category: category, menu: [], opened: false, subcategories: {}};
  const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const navLinks = () => Array.from(document.querySelectorAll("nav a"));
  const byText = (text) => navLinks().find((a) => a.textContent.trim() === text);
  const outside = (selector) => Array.from(document.querySelectorAll("#app " + selector)).filter(
    (node) => !node.closest("nav"));
  async function shown() {
    for (let i = 0; i < 50; i++) {
      const img = outside("img")[0];
      if (img && img.complete) return img.naturalWidth > 0 ? "image" : "broken image";
      if (outside("iframe").length) return "frame";
      await wait(100);
    }
    return "nothing";
  }
  async function listed() {
    const seen = [];
    const n = document.querySelectorAll("nav tbody tr").length;
    for (let i = 0; i < n; i++) {
      const row = document.querySelectorAll("nav tbody tr")[i];
      const cells = Array.from(row.querySelectorAll("td"));
      const label = cells.slice(0, -1).map((td) => td.textContent.trim()).join(" ");
      const view = cells.length ? cells[cells.length - 1].querySelector("a") : null;
      const href = view ? (view.getAttribute("href") || "") : "";
      if (!view) { seen.push({label: label, view: "no button"}); continue; }
      if (href.startsWith("data:")) { seen.push({label: label, view: "download"}); continue; }
      view.click();
      await wait(200);
      seen.push({label: label, view: await shown()});
    }
    return seen;
  }
  async function main() {
    for (let i = 0; i < 100 && !byText(category); i++) await wait(100);
    const names = Object.keys(categories);
    out.menu = navLinks().map((a) => a.textContent.trim()).filter((t) => names.includes(t));
    const link = byText(category);
    if (!link) return;
    link.click();
    out.opened = true;
    await wait(300);
    const subs = Object.keys(categories[category]);
    if (subs.length === 1) { out.subcategories[subs[0]] = await listed(); return; }
    for (const sub of subs) {
      const item = byText(sub);
      if (!item) { out.subcategories[sub] = null; continue; }
      item.click();
      await wait(300);
      out.subcategories[sub] = await listed();
      const back = byText(category);
      if (back) { back.click(); await wait(300); }
    }
  }
  function finish() {
    const pre = document.createElement("pre");
    pre.id = "constrict-check";
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  }
  window.addEventListener("load", () => main().catch((e) => { out.error = String(e); }).finally(finish));
})();
</script>
"""


def find_browser() -> str | None:
    """Path of an installed Chromium, or None."""
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def browser_required() -> bool:
    """True when a missing browser is a failure (CONSTRICT_REQUIRE_BROWSER set, not 0/false)."""
    return os.environ.get(REQUIRE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def _run(browser: str, args: list[str]) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        cmd = [browser, *FLAGS, f"--user-data-dir={profile}", *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)


def screenshot(browser: str, html_path: Path, png: Path, size: str = "1400,1800") -> subprocess.CompletedProcess:
    """Render ``html_path`` in headless Chromium and write a PNG of the window."""
    return _run(browser, [f"--window-size={size}", f"--screenshot={png}", html_path.resolve().as_uri()])


def drawn(png: Path) -> tuple[float, int]:
    """Share of non-white pixels and the number of distinct colours of a PNG."""
    import numpy as np
    from matplotlib.image import imread

    pixels = imread(png)[..., :3]
    non_white = float((pixels < 0.95).any(axis=-1).mean())
    colours = len(np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0))
    return non_white, colours


def report_data(text: str, name: str) -> dict:
    """One of the report's embedded JSON objects (``var categories = {...};``, ``var results = ...``)."""
    match = re.search(rf'<script id="{name}">\s*var {name} = (.*?);\s*</script>', text, re.S)
    if match is None:
        raise ValueError(f"the page has no '{name}' data: is it a Snakemake report?")
    return json.loads(match.group(1))


def open_category(browser: str, probed: Path, category: str) -> dict:
    """What the probe saw on one category page (``opened``, ``menu``, ``subcategories`` -> rows)."""
    proc = _run(browser, ["--dump-dom", f"{probed.resolve().as_uri()}#{category}"])
    match = re.search(r'<pre id="constrict-check">(.*?)</pre>', proc.stdout, re.S)
    if proc.returncode != 0 or match is None:
        return {"error": f"Chromium exited {proc.returncode} without the probe's answer: {proc.stderr.strip()[-300:]}"}
    return json.loads(html.unescape(match.group(1)))


def check_category(category: str, seen: dict, subcategories: dict, results: dict) -> list[str]:
    """Problems of one category page (empty when it passed)."""
    if "error" in seen:
        return [f"{category}: {seen['error']}"]
    if not seen.get("opened"):
        return [f"{category}: not in the report's menu"]
    problems = []
    for sub, paths in subcategories.items():
        rows = seen["subcategories"].get(sub)
        if rows is None:
            problems.append(f"{category} / {sub}: the subcategory did not open")
            continue
        if len(rows) != len(paths):
            problems.append(f"{category} / {sub}: lists {len(rows)} results, the report holds {len(paths)}")
        images = sum(results[p]["mime_type"].startswith("image/") for p in paths)
        drawn_images = sum(r["view"] == "image" for r in rows)
        if drawn_images != images:
            problems.append(f"{category} / {sub}: {drawn_images} of {images} images shown")
        problems += [f"{category} / {sub}: {r['label']}: {r['view']}" for r in rows
                     if r["view"] not in ("image", "frame", "download")]
    return problems


def numbering_problems(menu: list[str]) -> list[str]:
    """Categories not numbered "N. name" in the order the menu shows them."""
    numbers = [re.match(r"(\d+)\. \S", name) for name in menu]
    problems = [f"category '{name}' has no number" for name, m in zip(menu, numbers, strict=True) if m is None]
    values = [int(m.group(1)) for m in numbers if m]
    if values != sorted(set(values)):
        problems.append(f"categories out of order in the menu: {', '.join(menu)}")
    return problems


def check_pages(browser: str, report: Path) -> list[str]:
    """Open every category page of ``report``; print one line per category; return the problems."""
    text = report.read_text(errors="replace")
    categories, results = report_data(text, "categories"), report_data(text, "results")
    problems, menu = [], []
    with tempfile.TemporaryDirectory() as tmp:
        probed = Path(tmp) / "report.html"
        head, tail = text.rsplit("</body>", 1)  # the last one: scripts inside the page hold the string too
        probed.write_text(head + PROBE + "</body>" + tail)
        for category in sorted(categories, key=str.casefold):  # about the menu's order
            subcategories = categories[category]
            seen = open_category(browser, probed, category)
            menu = menu or seen.get("menu", [])
            found = check_category(category, seen, subcategories, results)
            rows = [r for s in seen.get("subcategories", {}).values() if s for r in s]
            print(f"check_report: {category}: {'FAILED' if found else 'ok'}, {len(rows)} results "
                  f"({sum(r['view'] == 'image' for r in rows)} images shown, "
                  f"{sum(r['view'] == 'download' for r in rows)} files to download)")
            problems += found
    return problems + numbering_problems(menu)


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
        if browser_required():
            print(f"FAILED: no Chromium on this machine and {REQUIRE_ENV} is set (Debian: apt-get install chromium)")
            return 1
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
    problems = check_pages(browser, args.report)
    for problem in problems:
        print(f"FAILED: {problem}")
    if problems:
        return 1
    print("check_report: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

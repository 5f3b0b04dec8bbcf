"""scripts/check_report.py without a browser: what it reads from a report and what it calls a failure.

The real run (headless Chromium on the tiny campaign's report, every
category page) is tests/test_workflow.py::test_report_renders_in_a_browser.
"""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import check_report

sys.path.pop(0)

CATEGORIES = {"1. Data": {"Other": ["results/a.tsv"]}, "2. Screen": {"Other": ["results/h.png", "results/h.tsv"]}}
RESULTS = {"results/a.tsv": {"mime_type": "text/tab-separated-values"},
           "results/h.png": {"mime_type": "image/png"}, "results/h.tsv": {"mime_type": "text/tab-separated-values"}}


def page(categories=CATEGORIES):
    return (f'<html><body><script id="categories">\n    var categories = {json.dumps(categories)};\n    </script>'
            f'<script id="results">\n    var results = {json.dumps(RESULTS)};\n    </script></body></html>')


def test_reads_the_embedded_categories():
    assert check_report.report_data(page(), "categories") == CATEGORIES
    with pytest.raises(ValueError, match="Snakemake report"):
        check_report.report_data("<html></html>", "categories")


def test_numbering_follows_the_menu():
    assert check_report.numbering_problems(["1. Data", "2. Screen", "7. Cathode stack", "8. Provenance"]) == []
    assert check_report.numbering_problems(["1. Data", "8. Provenance", "Cathode stack"]) == [
        "category 'Cathode stack' has no number"]
    assert check_report.numbering_problems(["1. Data", "10. Extra", "2. Screen"]) == [
        "categories out of order in the menu: 1. Data, 10. Extra, 2. Screen"]


def test_a_category_passes_only_with_every_result_listed_and_each_image_drawn():
    subs = CATEGORIES["2. Screen"]
    good = {"opened": True, "subcategories": {"Other": [{"label": "h.png", "view": "image"},
                                                        {"label": "h.tsv", "view": "download"}]}}
    assert check_report.check_category("2. Screen", good, subs, RESULTS) == []
    hidden = {"opened": True, "subcategories": {"Other": [{"label": "h", "view": "download"}]}}
    assert check_report.check_category("2. Screen", hidden, subs, RESULTS) == [
        "2. Screen / Other: lists 1 results, the report holds 2", "2. Screen / Other: 0 of 1 images shown"]
    broken = {"opened": True, "subcategories": {"Other": [{"label": "h.png", "view": "broken image"},
                                                          {"label": "h.tsv", "view": "download"}]}}
    assert "2. Screen / Other: h.png: broken image" in check_report.check_category("2. Screen", broken, subs, RESULTS)
    assert check_report.check_category("2. Screen", {"opened": False}, subs, RESULTS) == [
        "2. Screen: not in the report's menu"]


def test_no_browser_skips_unless_required(tmp_path, monkeypatch, capsys):
    report = tmp_path / "report.html"
    report.write_text(page())
    monkeypatch.setattr(check_report, "find_browser", lambda: None)
    monkeypatch.delenv(check_report.REQUIRE_ENV, raising=False)
    assert check_report.main([str(report)]) == 0
    assert capsys.readouterr().out.startswith("SKIPPED")
    monkeypatch.setenv(check_report.REQUIRE_ENV, "1")
    assert check_report.main([str(report)]) == 1
    assert "FAILED: no Chromium" in capsys.readouterr().out
    monkeypatch.setenv(check_report.REQUIRE_ENV, "0")
    assert check_report.main([str(report)]) == 0

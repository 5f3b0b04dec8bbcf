"""CLI: readable and JSON output, one-line errors with exit code 2."""

import json

import pytest
from helpers import SNAPSHOT, tiny_table

from constrict import cli


def test_errors_are_one_line(capsys, monkeypatch):
    from constrict.hull import EntrySet

    monkeypatch.setattr(cli, "load_entry_set", lambda *args, **kwargs: EntrySet.from_frame(tiny_table()))
    for argv in (["interface", "Li", "Xx2"], ["interface", "Li", "Li3S"], ["interface", "Li", "S", "--voltage", "-1"],
                 ["window", "Na2S"], ["window", "Li2S", "--keff", "-5"], ["window", "Li2S", "--keff", "nan"],
                 ["interface", "Li", "S", "--voltage", "1e308"], ["interface", "Li", "S", "--voltage", "2", "10.5"],
                 ["interface", "Li2S", "S", "--ion", "Na"], ["window", "S", "--ion", "Na"]):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("constrict: error: ") and err.count("\n") == 1
    assert cli.main(["interface", "Li", "S", "--voltage", "1", "2", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["voltage_v"] for r in rows] == [1.0, 2.0]
    assert rows[1]["kcrit_gpa"] == pytest.approx(8.0108831, rel=1e-6)
    assert cli.main(["interface", "Li", "S", "--voltage", "2", "--convention", "reservoir", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["kcrit_gpa"] == "inf"
    assert cli.main(["window", "Li2S", "--keff", "5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["window_v"] == pytest.approx([0.0, 1.5])


def test_bad_input_messages_name_the_value(capsys, monkeypatch):
    from constrict.hull import EntrySet

    monkeypatch.setattr(cli, "load_entry_set", lambda *args, **kwargs: EntrySet.from_frame(tiny_table()))
    expected = {
        ("window", "Li2S", "--keff", "-5"): "--keff must be a finite modulus >= 0 GPa, got -5",
        ("interface", "Li", "S", "--voltage", "1e308"): "voltage 1e+308 V is outside 0-10 V",
        ("interface", "Li2S", "S", "--ion", "Na"): "working ion Na is in none of Li2S, S",
    }
    for argv, message in expected.items():
        assert cli.main(list(argv)) == 2
        assert message in capsys.readouterr().err
    # a Li-free phase opened to Li on request: sulfur takes up Li below 1.5 V
    assert cli.main(["window", "S", "--ion", "Li", "--allow-absent-ion", "--json"]) == 0
    lo, hi = json.loads(capsys.readouterr().out)["window_v"]
    assert lo == pytest.approx(1.5) and hi == "inf"


@pytest.mark.skipif(not SNAPSHOT.exists(), reason="data/mp_offline.parquet not built yet (make snapshot)")
def test_interface_on_snapshot(capsys):
    assert cli.main(["interface", "Li7P3S11", "LiNbO3", "--voltage", "2", "3", "4"]) == 0
    out = capsys.readouterr().out
    assert "x_m" in out and "Kcrit" in out and out.count("\n") >= 7
    assert cli.main(["window", "Li10GeP2S12"]) == 0
    assert "unconstrained window 1.7" in capsys.readouterr().out

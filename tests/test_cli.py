"""CLI: readable and JSON output, one-line errors with exit code 2."""

import json

import pytest
from helpers import SNAPSHOT, tiny_table
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constrict import cli


def test_errors_are_one_line(capsys, monkeypatch):
    from constrict.data.entries import EntrySet

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
    from constrict.data.entries import EntrySet

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


# -- every verb on the inputs a new user tries first (hypothesis) ------------------------------------

ODD_INPUTS = ("Li", "Na", "O2", "O", "S", "P", "Co", "Li2", "hull:Li", "hull:Na", "hull:O2", "hull:S",
              "LiNbO3", "Li7P3S11", "Na3PS4", "LiCoO2", "Li2O2")
"""Pure elements, the working ion itself (as a formula, a multiple and hull:), O2, and a few real phases."""


@pytest.fixture(scope="module")
def odd_subset(snapshot_frame):
    from constrict.data.entries import EntrySet
    from constrict.data.sources import restrict_to_chemical_systems

    return EntrySet.from_frame(restrict_to_chemical_systems(
        snapshot_frame, ["Li-Nb-O-P-S", "Co-Li-Nb-O", "Li-Na-Nb-O-P-S"]))


@pytest.fixture(scope="module")
def surrogate_dir(tmp_path_factory):
    """A small real surrogate at 4 V (the committed screen sample), saved where --models finds it."""
    from pathlib import Path

    import pandas as pd

    from constrict.surrogate import KcritSurrogate
    from constrict.surrogate.data import at_voltage, element_columns, training_table
    from constrict.surrogate.locate import model_name

    sample = Path(__file__).parent / "fixtures" / "surrogate" / "screen_sample.parquet"
    table, _ = training_table(pd.read_parquet(sample))
    rows = at_voltage(table, 4.0)
    model = KcritSurrogate(voltage_v=4.0, n_estimators=5)
    model.fit(rows[element_columns(table)], rows["kcrit_gpa"])
    folder = tmp_path_factory.mktemp("models")
    model.save(folder / model_name(4.0))
    return folder


def _argv(verb, draw, models):
    pick = lambda: draw(st.sampled_from(ODD_INPUTS))  # noqa: E731
    if verb == "interface":
        return ["interface", "--", pick(), pick()]
    if verb == "window":
        return ["window", pick(), "--keff", str(draw(st.sampled_from([0, 5, 15])))]
    if verb == "stack":
        return ["stack", "--voltage", "4", "--", pick(), pick(), pick()]
    if verb == "predict":
        return ["predict", "--models", str(models), "--", pick()]
    return ["design", "--route", "physics", "--evaluations", "3", "--max-change", "0.05", "--enter",
            "--electrolyte", draw(st.sampled_from(ODD_INPUTS)), "--", pick()]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(verb=st.sampled_from(["interface", "window", "stack", "predict", "design"]), data=st.data())
def test_no_verb_prints_a_traceback_on_elements_or_the_ion(verb, data, odd_subset, surrogate_dir, capsys,
                                                            monkeypatch):
    monkeypatch.setattr(cli, "load_entry_set", lambda *args, **kwargs: odd_subset)
    argv = _argv(verb, data.draw, surrogate_dir)
    code = cli.main(argv)  # an exception here is the traceback a user would see
    out, err = capsys.readouterr()
    assert code in (0, 2), argv
    if code == 2:
        assert err.startswith("constrict: error: ") and err.count("\n") == 1, (argv, err)
    assert "6.000 V" not in out, (argv, out)  # the scan limit is never printed as an edge


def test_the_ion_itself_is_one_line(capsys, monkeypatch, odd_subset):
    monkeypatch.setattr(cli, "load_entry_set", lambda *args, **kwargs: odd_subset)
    for argv in (["window", "Li", "--keff", "5"], ["window", "hull:Li"], ["window", "Li2"],
                 ["stack", "LiCoO2", "Li", "Li7P3S11", "--voltage", "4"], ["interface", "Li", "Li"]):
        assert cli.main(argv) == 2, argv
        err = capsys.readouterr().err
        assert "holds only the working ion Li" in err and err.count("\n") == 1
    # Li is a phase like any other when the system is open to another ion
    assert cli.main(["window", "Li", "--ion", "Na", "--allow-absent-ion"]) == 0


def test_scan_limit_is_said_not_printed_as_an_edge(capsys, monkeypatch, odd_subset):
    monkeypatch.setattr(cli, "load_entry_set", lambda *args, **kwargs: odd_subset)
    assert cli.main(["window", "S", "--keff", "5", "--convention", "ion_metal"]) == 0
    out = capsys.readouterr().out
    # 3.759 V since LiS4 has a plausible volume (2.139 V with its vacuum cell, 201 Å³/atom)
    assert "constrained window at Keff = 5 GPa (ion_metal) 3.759 V - above 6 V (scan limit)" in out
    assert cli.main(["window", "S", "--keff", "5", "--json"]) == 0
    [edge] = json.loads(capsys.readouterr().out)["constrained"]
    assert edge["high_at_scan_limit"] is True and edge["window_v"][1] == 6.0
    assert cli.main(["window", "Li7P3S11", "--keff", "5", "15", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [e["keff_gpa"] for e in out["constrained"]] == [5.0, 15.0]
    assert not any(e["high_at_scan_limit"] for e in out["constrained"])

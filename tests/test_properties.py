"""Property-based checks (hypothesis) of the physics invariants and of bad input, on real data."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constrict import cli
from constrict.core.errors import ConstrictError
from constrict.data.entries import EntrySet
from constrict.data.sources import restrict_to_chemical_systems
from constrict.physics.evaluate import evaluate_interface
from constrict.physics.opensystem import check_voltages

SYSTEMS = ["Li-Nb-O-P-S", "Li-O-P-S-Zr", "Al-Li-O-P-S", "F-Li-P-S", "Cl-Li-P-S-Y"]
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def subset(snapshot_frame):
    frame = restrict_to_chemical_systems(snapshot_frame, SYSTEMS)
    coatings = frame[(frame["band_gap_ev"] > 0) & (frame["e_above_hull_ev"] <= 1e-6) & (frame["nelements"] >= 2)]
    return EntrySet.from_frame(frame), sorted(coatings["entry_id"])


@SETTINGS
@given(data=st.data(), voltage_v=st.floats(min_value=0.0, max_value=10.0))
def test_physics_invariants_hold_for_any_coating_and_voltage(subset, data, voltage_v):
    entry_set, coatings = subset
    coating = data.draw(st.sampled_from(coatings))
    electrolyte = data.draw(st.sampled_from(["Li7P3S11", "Li3PS4"]))
    (row,) = evaluate_interface(entry_set, electrolyte, coating, voltages_v=[voltage_v], working_ion="Li")
    assert row["e_rxn_ev_per_atom"] <= 0 and row["e_rxn_mutual_ev_per_atom"] <= 0
    if not row["reacts"]:
        assert math.isnan(row["x_m"]) and math.isnan(row["kcrit_gpa"])
        return
    assert 0 <= row["x_m"] <= 1 and row["dg_ev_per_atom"] <= 0
    assert row["kcrit_sc_gpa"] >= row["kcrit_gpa"] >= 0
    if row["dg_ev_per_atom"] == 0:
        assert row["kcrit_gpa"] == 0


@SETTINGS
@given(voltage_v=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5)))
def test_voltages_are_refused_outside_the_range_with_one_error(voltage_v):
    try:
        volts = check_voltages([voltage_v])
    except ConstrictError as err:
        assert "\n" not in str(err)
        return
    assert 0 <= volts[0] <= 10 and np.isfinite(volts[0])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(formula=st.text(alphabet="LiNbOPSXxz0123456789.()-_ ", min_size=1, max_size=12))
def test_any_formula_gives_an_answer_or_one_line(formula, capsys, monkeypatch):
    from helpers import tiny_table

    monkeypatch.setattr(cli, "load_entry_set", lambda *args, **kwargs: EntrySet.from_frame(tiny_table()))
    code = cli.main(["interface", "--voltage", "2", "--json", "--", "Li", formula])  # "--": a formula, never an option
    err = capsys.readouterr().err
    assert code in (0, 2)
    if code == 2:
        assert err.startswith("constrict: error: ") and err.count("\n") == 1

"""Interface reaction on hand-checkable Li-S cases (helpers.LI_S_ROWS)."""

import json

import numpy as np
import pytest

from constrict.physics.evaluate import RESULT_COLUMNS, evaluate_interface, resolve_reactant
from constrict.physics.interface import interface_reaction


def test_li_plus_s_makes_li2s(lis):
    # c(x) = (1-x) Li + x S; E_hull = -3x up to x = 1/3, so x_m = 1/3, E_rxn = -1
    (row,) = evaluate_interface(lis, "Li", "S", voltages_v=[1.0], working_ion="Li")
    assert row["reacts"] and row["mutual"]
    assert row["x_m"] == pytest.approx(1 / 3, abs=1e-9)
    assert row["e_rxn_ev_per_atom"] == pytest.approx(-1.0, abs=1e-9)
    assert row["e_rxn_mutual_ev_per_atom"] == pytest.approx(-1.0, abs=1e-9)
    assert json.loads(row["sei_products"]) == {"Li2S": 1.0}
    assert json.loads(row["sei_composition"]) == pytest.approx({"Li": 2 / 3, "S": 1 / 3})
    assert set(row) == set(RESULT_COLUMNS) - {"electrolyte_label"}


def test_metastable_electrolyte_decays_alone(lis):
    # LiS is 0.05 eV/atom above Li2S--S: E_rxn(x) = -0.05 + 0.05 x, minimum at x = 0
    rxn = interface_reaction(lis, resolve_reactant(lis, "LiS")[0], resolve_reactant(lis, "S")[0])
    assert rxn.reacts and not rxn.mutual
    assert rxn.x_m == 0.0
    assert rxn.e_rxn_ev_per_atom == pytest.approx(-0.05, abs=1e-9)
    assert rxn.e_rxn_mutual_ev_per_atom == pytest.approx(0.0, abs=1e-9)
    assert {lis.reduced_formula(r): v for r, v in rxn.sei_phases.items()} == pytest.approx({"Li2S": 0.75, "S": 0.25})


def test_no_reaction_rows_are_nan(lis):
    rows = evaluate_interface(lis, "Li2S", "S", voltages_v=[1.0, 2.0], working_ion="Li")
    for row in rows:
        assert not row["reacts"] and not row["mutual"]
        assert np.isnan(row["x_m"]) and np.isnan(row["kcrit_gpa"]) and np.isnan(row["dg_ev_per_atom"])
        assert row["status"] == "ok" and row["products"] == "{}"
    assert [r["voltage_v"] for r in rows] == [1.0, 2.0]


def test_bad_options(lis):
    from constrict.core.errors import ConfigError, UnknownFormulaError

    with pytest.raises(ConfigError):
        evaluate_interface(lis, "Li", "S", voltages_v=[-1.0], working_ion="Li")
    with pytest.raises(ConfigError):
        evaluate_interface(lis, "Li", "S", voltages_v=[1.0], working_ion="Li", convention="vacuum")
    with pytest.raises(UnknownFormulaError):
        evaluate_interface(lis, "Li3S", "S", voltages_v=[1.0], working_ion="Li")

"""Grand-potential products and windows on the hand-checkable Li-S table."""

import json

import pytest

from constrict.physics.electrochem import window
from constrict.physics.evaluate import evaluate_interface
from constrict.physics.opensystem import open_system


def test_products_per_atom_of_reactant(lis):
    # SEI of Li + S is Li2S; at 2 V it gives S and releases 2/3 Li per atom
    row_1v, row_2v = evaluate_interface(lis, "Li", "S", voltages_v=[1.0, 2.0], working_ion="Li")
    assert json.loads(row_1v["products"]) == {"Li2S": 1.0}
    assert row_1v["dg_ev_per_atom"] == 0.0 and row_1v["ion_released_per_atom"] == 0.0
    assert json.loads(row_2v["products"]) == pytest.approx({"S": 1 / 3})
    assert row_2v["ion_released_per_atom"] == pytest.approx(2 / 3)
    assert row_2v["v_r_a3_per_atom"] == pytest.approx(15.0)


def test_windows(lis):
    li2s, s = lis.comp[lis.find("Li2S")], lis.comp[lis.find("S")]
    assert window(open_system(lis, li2s, "Li"), li2s) == pytest.approx((0.0, 1.5))
    # S has no Li: never oxidised by Li removal; reduced to Li2S below 1.5 V
    assert window(open_system(lis, s, "Li"), s) == pytest.approx((1.5, float("inf")))


def test_window_of_a_degenerate_glass_composition(snapshot_frame):
    # Just off the Li3PS4-LiI tie line (6-digit fractions): the supporting face is
    # a point, which the plain simplex called infeasible; presolve settles it.
    from constrict.data.entries import EntrySet
    from constrict.data.sources import restrict_to_chemical_systems
    from constrict.physics.evaluate import composition_reactant

    entry_set = EntrySet.from_frame(restrict_to_chemical_systems(snapshot_frame, ["I-Li-P-S"]))
    glass = composition_reactant(entry_set, "Li0.397059P0.102941S0.411765I0.088235")
    lo, hi = window(open_system(entry_set, glass.comp, "Li"), glass.comp)
    assert lo == pytest.approx(2.13854118, abs=1e-6) and hi == pytest.approx(lo, abs=1e-6)

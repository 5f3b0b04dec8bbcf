"""Kcrit on a hand-checkable Li-S system, and its invariants on real data.

Li (0 eV, 20 Å³), S (0 eV, 25 Å³), Li2S (-1 eV/atom, 15 Å³) on the hull;
LiS 0.05 eV/atom above it (-0.7 eV/atom) but dense (14 Å³).
At 2 V, R = Li2S (per atom: 2/3 Li, 1/3 S):
  Phi_R = -1 + 2 * 2/3 = 1/3; stable products: 1/3 S + 2/3 Li released, dG = -1/3,
  ion_metal V_P' = 25/3 + 2/3 * 20 = 65/3, eps = (65/3 - 15)/15 = 4/9,
  Kcrit = (1/3) / (4/9 * 15) eV/Å³ = 0.05 eV/Å³ = 8.0109 GPa; reservoir eps < 0 -> inf.
Self-consistent: 2/3 LiS (1/3 Li released): Phi = 2/3 * (-0.7 + 1) = 0.2,
  V_P' = 2/3 * 14 + 1/3 * 20 = 16, dV = 1 -> K = (1/3 - 0.2) / 1 = 2/15 eV/Å³ = 21.362 GPa.
"""


import numpy as np
import pytest
from helpers import tiny_table

from constrict import EV_PER_A3_TO_GPA
from constrict.electrochem import ground_state, window
from constrict.errors import MissingElementError, MissingVolumeError
from constrict.evaluate import evaluate_interface
from constrict.hull import EntrySet
from constrict.kcrit import KcritAt, constrained_window, kcrit_at, kcrit_linear_gpa
from constrict.opensystem import ion_metal_volume, open_system


def _li2s(es, convention="ion_metal"):
    comp = es.comp[es.find("Li2S")]
    return ground_state(es, comp), open_system(es, comp, "Li", convention)


def test_linear_and_self_consistent_by_hand(lis):
    r, system = _li2s(lis)
    assert system.v_metal_a3 == 20.0
    at = kcrit_at(system, r, 2.0)
    assert isinstance(at, KcritAt)
    dec, k_lin, k_sc = at.decomposition, at.kcrit_gpa, at.kcrit_sc_gpa
    assert dec.dg_ev_per_atom == pytest.approx(-1 / 3, abs=1e-10)
    assert dec.ion_released_per_atom == pytest.approx(2 / 3, abs=1e-10)
    assert dec.eps_ion_metal == pytest.approx(4 / 9, abs=1e-10)
    assert dec.eps_reservoir == pytest.approx((25 / 3 - 15) / 15, abs=1e-10)
    assert k_lin == pytest.approx(0.05 * EV_PER_A3_TO_GPA, rel=1e-9)
    assert k_sc == pytest.approx(2 / 15 * EV_PER_A3_TO_GPA, rel=1e-9)
    reservoir = kcrit_at(_li2s(lis, "reservoir")[1], r, 2.0)
    assert reservoir.kcrit_gpa == np.inf and reservoir.kcrit_sc_gpa == np.inf


def test_stable_inside_window(lis):
    r, system = _li2s(lis)
    assert window(system, r.comp) == pytest.approx((0.0, 1.5), abs=1e-9)
    at = kcrit_at(system, r, 1.0)
    assert (at.decomposition.dg_ev_per_atom, at.kcrit_gpa, at.kcrit_sc_gpa) == (0.0, 0.0, 0.0)
    # Kcrit(V) = -dG/(eps V_R) rises above 1.5 V; 8.0109 GPa at 2 V
    lo, hi = constrained_window(system, r.comp, 0.05 * EV_PER_A3_TO_GPA)
    assert lo == 0.0 and hi == pytest.approx(2.0, abs=2e-4)


def test_linear_formula_edge_cases():
    assert kcrit_linear_gpa(0.0, 0.1, 10.0) == 0.0
    assert kcrit_linear_gpa(-1e-12, -0.1, 10.0) == 0.0
    assert kcrit_linear_gpa(-0.1, -0.1, 10.0) == np.inf
    assert kcrit_linear_gpa(-0.1, 0.0, 10.0) == np.inf
    assert kcrit_linear_gpa(-0.1, 0.1, 10.0) == pytest.approx(0.1 * EV_PER_A3_TO_GPA)
    assert np.isnan(kcrit_linear_gpa(np.nan, 0.1, 10.0))


def test_missing_metal_and_volume():
    es = EntrySet.from_frame(tiny_table((("S", 0.0, 25.0), ("Li2S", -1.0, 15.0))))
    with pytest.raises(MissingElementError):
        ion_metal_volume(es, "Li")
    es = EntrySet.from_frame(tiny_table((("Li", 0.0, np.nan), ("S", 0.0, 25.0), ("Li2S", -1.0, 15.0))))
    with pytest.raises(MissingVolumeError):
        evaluate_interface(es, "Li2S", "S", voltages_v=[3.0], working_ion="Li")


def test_sc_at_least_linear_on_real_pairs(snapshot_set):
    frame = snapshot_set.frame
    ok = (frame["band_gap_ev"] > 0) & (frame["e_above_hull_ev"] <= 1e-6) & (frame["nelements"] <= 3)
    coatings = np.random.default_rng(7).choice(sorted(frame.loc[ok, "entry_id"]), 40, replace=False)
    n_finite = 0
    for coating in coatings:
        for row in evaluate_interface(snapshot_set, "Li7P3S11", coating, voltages_v=[2.0, 3.0, 4.0], working_ion="Li"):
            if not row["reacts"]:
                assert np.isnan(row["kcrit_gpa"]) and np.isnan(row["x_m"])
                continue
            assert row["kcrit_sc_gpa"] >= row["kcrit_gpa"] >= 0
            assert row["dg_ev_per_atom"] <= 0
            n_finite += np.isfinite(row["kcrit_gpa"]) and row["kcrit_gpa"] > 0
            if 0 < row["kcrit_gpa"] < np.inf:
                eps = row["eps_ion_metal"]
                k = -row["dg_ev_per_atom"] / (eps * row["v_r_a3_per_atom"]) * EV_PER_A3_TO_GPA
                assert row["kcrit_gpa"] == pytest.approx(k)
    assert n_finite > 10


def test_lgps_constrained_window_is_wider(snapshot_set):
    comp = snapshot_set.comp[snapshot_set.find("Li10GeP2S12")]
    system = open_system(snapshot_set, comp, "Li")
    lo, hi = window(system, comp)
    c_lo, c_hi = constrained_window(system, comp, 15.0)
    assert c_lo <= lo + 1e-9 and c_hi >= hi - 1e-9

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


import json

import numpy as np
import pytest
from helpers import tiny_table

from constrict import EV_PER_A3_TO_GPA
from constrict.core.errors import MissingElementError, MissingVolumeError
from constrict.data.entries import EntrySet
from constrict.physics.electrochem import ground_state, window
from constrict.physics.evaluate import evaluate_interface
from constrict.physics.kcrit import KcritAt, constrained_window, kcrit_at, kcrit_linear_gpa
from constrict.physics.opensystem import ion_metal_volume, open_system


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
                eps = row[f"eps_{row['convention']}"]
                k = -row["dg_ev_per_atom"] / (eps * row["v_r_a3_per_atom"]) * EV_PER_A3_TO_GPA
                assert row["kcrit_gpa"] == pytest.approx(k)
    assert n_finite > 10


def test_unverified_self_consistent_search_is_refused(lis, monkeypatch):
    """The Li-S search needs two steps (8.01 -> 21.36 GPa); stopped after one it must not return a value."""
    import constrict.physics.kcrit as kcrit

    r, system = _li2s(lis)
    monkeypatch.setattr(kcrit, "MAX_DINKELBACH_STEPS", 1)
    with pytest.raises(kcrit.DinkelbachError, match="unverified"):
        kcrit.kcrit_self_consistent_gpa(system, r, 2.0, 0.05 * EV_PER_A3_TO_GPA)
    at = kcrit_at(system, r, 2.0)
    assert np.isnan(at.kcrit_sc_gpa) and at.kcrit_gpa == pytest.approx(0.05 * EV_PER_A3_TO_GPA, rel=1e-9)


def test_released_metal_by_hand(lis):
    """S lithiated at 1 V: R = S (25 Å³) -> 3 atoms of Li2S per atom of S (45 Å³), 2 Li taken up.

    released_metal and reservoir: eps = (45 - 25)/25 = 0.8, dG = 3 (-1 + 2/3) = -1 eV,
    Kcrit = 1 / (0.8 * 25) eV/Å³ = 8.0109 GPa; ion_metal debits 2 * 20 Å³ -> eps < 0, inf.
    Under pressure 2 LiS (28 Å³, Phi = -0.4 eV) wins: Kcrit_sc = 0.4 / 3 eV/Å³ = 21.362 GPa.
    On the release side (Li2S at 2 V) released_metal equals ion_metal.
    """
    comp = lis.comp[lis.find("S")]
    r = ground_state(lis, comp)
    at = kcrit_at(open_system(lis, comp, "Li", "released_metal"), r, 1.0)
    assert at.decomposition.ion_released_per_atom == pytest.approx(-2.0, abs=1e-10)
    assert at.decomposition.eps_released_metal == pytest.approx(0.8, abs=1e-10)
    assert at.kcrit_gpa == pytest.approx(0.05 * EV_PER_A3_TO_GPA, rel=1e-9)
    assert at.kcrit_sc_gpa == pytest.approx(0.4 / 3 * EV_PER_A3_TO_GPA, rel=1e-9)
    assert kcrit_at(open_system(lis, comp, "Li", "ion_metal"), r, 1.0).kcrit_gpa == np.inf
    li2s, system = _li2s(lis, "released_metal")
    same = kcrit_at(system, li2s, 2.0)
    assert same.kcrit_gpa == pytest.approx(0.05 * EV_PER_A3_TO_GPA, rel=1e-9)
    assert same.kcrit_sc_gpa == pytest.approx(2 / 15 * EV_PER_A3_TO_GPA, rel=1e-9)


def test_conventions_literal_matches_the_light_tuple():
    from typing import get_args

    from constrict import STRAIN_CONVENTIONS
    from constrict.physics.opensystem import CONVENTIONS, Convention

    assert get_args(Convention) == STRAIN_CONVENTIONS == CONVENTIONS


@pytest.mark.parametrize("voltage_v", [0.5, 1.5, 2.5, 3.5])
def test_released_metal_lp_is_the_piecewise_minimum(snapshot_set, voltage_v):
    """The auxiliary column keeps min_P [Phi_P + K (V_P + max(released, 0) v_metal - V_R)] linear.

    Proof by cases: the true optimum is the smaller of two plain LPs (release side
    ``x_ion @ n <= c_ion`` with the metal counted, uptake side ``x_ion @ n >= c_ion``
    without it), solved independently with scipy. It must equal the auxiliary LP's
    optimum at every K, on a real SEI that can go either way.
    """
    from scipy.optimize import linprog

    from constrict.physics.kcrit import PressuredProducts

    row = evaluate_interface(snapshot_set, "Li10GeP2S12", "LiNbO3", voltages_v=[3.0], working_ion="Li")[0]
    comp = np.zeros(len(snapshot_set.elements))
    for el, frac in json.loads(row["sei_composition"]).items():
        comp[snapshot_set.element_columns([el])[0]] = frac
    r = ground_state(snapshot_set, comp)
    system = open_system(snapshot_set, comp, "Li", "released_metal")
    with PressuredProducts(system, r, voltage_v) as problem:
        gp = problem.gp
        n_ph = len(gp.rows)
        a_el, b_el = gp.a_eq[:-1, :n_ph], problem.rhs[:-1]
        phi, vol, x_ion = problem.phi[:n_ph], gp.volume, gp.x_ion
        c_ion, v_metal = comp[system.ion_col], system.v_metal_a3
        known = np.isfinite(vol)
        bounds = [(0, None) if k else (0, 0) for k in known]
        vol = np.where(known, vol, 0.0)
        for k_gpa in (0.0, 2.0, 10.0, 40.0, 200.0):
            k = k_gpa / EV_PER_A3_TO_GPA
            n, phi_p, dv = problem.solve(k)
            ours = phi_p + k * dv
            release = linprog(phi + k * (vol - x_ion * v_metal), A_eq=a_el, b_eq=b_el,
                              A_ub=x_ion[None, :], b_ub=[c_ion], bounds=bounds, method="highs")
            uptake = linprog(phi + k * vol, A_eq=a_el, b_eq=b_el,
                             A_ub=-x_ion[None, :], b_ub=[-c_ion], bounds=bounds, method="highs")
            best = min(release.fun + k * (c_ion * v_metal - r.volume_a3) if release.status == 0 else np.inf,
                       uptake.fun - k * r.volume_a3 if uptake.status == 0 else np.inf)
            assert ours == pytest.approx(best, abs=1e-7), (voltage_v, k_gpa)
            # and the auxiliary column holds exactly the released part
            released = c_ion - float(x_ion @ gp.phases(n))
            assert n[n_ph] == pytest.approx(max(released, 0.0), abs=1e-8)

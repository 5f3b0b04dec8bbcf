"""constrict's LPs against the plain pymatgen route on real offline MP data.

Pairs: electrolytes Li10GeP2S12, Li10SiP2S12, Li7P3S11 with coatings drawn
with a fixed seed among the snapshot's insulators on the hull (band gap > 0,
e_above_hull <= 1e-6 eV/atom) with at most 3 elements, so that pymatgen's
phase diagrams (up to 7 elements) keep the test to a few minutes.
"""


import numpy as np
import pytest
from pymatgen.analysis.interface_reactions import InterfacialReactivity
from pymatgen.analysis.phase_diagram import (
    GrandPotentialPhaseDiagram,
    PDEntry,
    PhaseDiagram,
)
from pymatgen.core import Composition, Element

from constrict.physics.electrochem import window
from constrict.physics.evaluate import evaluate_interface
from constrict.physics.opensystem import open_system

ELECTROLYTES = ("Li10GeP2S12", "Li10SiP2S12", "Li7P3S11")
VOLTAGES_V = (2.0, 3.0, 4.0)
N_PER_ELECTROLYTE = 17  # 51 pairs
SEED = 20240611


@pytest.fixture
def frame(snapshot_frame):
    return snapshot_frame


@pytest.fixture
def entry_set(snapshot_set):
    return snapshot_set


def draw_pairs(frame, n_per_electrolyte=N_PER_ELECTROLYTE, seed=SEED, max_elements=3):
    """(electrolyte, coating reduced formula) pairs drawn with a fixed seed."""
    ok = (frame["band_gap_ev"] > 0) & (frame["e_above_hull_ev"] <= 1e-6) & (frame["nelements"] <= max_elements)
    ok &= frame["nelements"] >= 2
    coatings = sorted(frame.loc[ok, "reduced_formula"])
    rng = np.random.default_rng(seed)
    return [(e, c) for e in ELECTROLYTES for c in rng.choice(coatings, n_per_electrolyte, replace=False)]


def phase_diagram(frame, elements):
    """pymatgen PhaseDiagram of the entries within ``elements`` (formation energies)."""
    sub = frame[[set(e) <= set(elements) for e in frame["elements"]]]
    entries = [
        PDEntry(Composition(f), e * Composition(f).num_atoms, name=f)
        for f, e in zip(sub["reduced_formula"], sub["energy_per_atom_ev"], strict=True)
    ]
    return entries, PhaseDiagram(entries)


def reference(frame, electrolyte, coating, voltages_v=VOLTAGES_V, ion="Li"):
    """The plain pymatgen route: InterfacialReactivity minimum, GP decompositions."""
    c1, c2 = Composition(electrolyte), Composition(coating)
    elements = {el.symbol for el in (c1 + c2).elements} | {ion}
    entries, pdg = phase_diagram(frame, elements)
    ir = InterfacialReactivity(c1, c2, pdg, norm=True, use_hull_energy=False)
    # pymatgen mixes x * c1 + (1 - x) * c2; docs/science.md's x is the coating's fraction
    kinks = [(1.0 - k[1], k[2]) for k in ir.get_kinks()]
    x_m, e_min = min(kinks, key=lambda t: t[1])
    tied = [x for x, e in kinks if e <= e_min + 1e-9]
    mutual = InterfacialReactivity(c1, c2, pdg, norm=True, use_hull_energy=True).minimum[1]
    out = {"x_m": x_m, "x_tied": tied, "e_rxn": e_min, "e_mutual": mutual, "products": {}}
    sei = c1.fractional_composition * (1 - x_m) + c2.fractional_composition * x_m
    for v in voltages_v:
        gppd = GrandPotentialPhaseDiagram(entries, {Element(ion): -v})
        non_ion = Composition({el: amt for el, amt in sei.items() if el.symbol != ion})
        dec = gppd.get_decomposition(non_ion)
        prods = {}
        for entry, amount in dec.items():
            name = entry.original_entry.composition.reduced_formula
            prods[name] = prods.get(name, 0.0) + amount
        out["products"][v] = prods
    return out


def products_per_non_ion_atom(row, ion="Li"):
    """Our products (atoms per atom of R) renormalised like pymatgen's GP decomposition."""
    import json

    prods = json.loads(row["products"])
    sei = json.loads(row["sei_composition"])
    non_ion_r = 1.0 - sei.get(ion, 0.0)
    out = {}
    for name, amount in prods.items():
        frac = Composition(name).fractional_composition
        out[name] = amount * (1.0 - frac[Element(ion)]) / non_ion_r
    return out


def compare_rows(rows, ref):
    """Assert our rows of one interface equal the pymatgen reference."""
    first = rows[0]
    assert first["e_rxn_mutual_ev_per_atom"] == pytest.approx(min(ref["e_mutual"], 0.0), abs=1e-6)
    if not first["reacts"]:
        assert ref["e_rxn"] > -1e-6
        return
    assert first["e_rxn_ev_per_atom"] == pytest.approx(ref["e_rxn"], abs=1e-6)
    assert any(abs(first["x_m"] - x) < 1e-6 for x in ref["x_tied"]), (first["x_m"], ref["x_tied"])
    for row in rows:
        if row["dg_ev_per_atom"] == 0.0:
            # stable at V: pymatgen gives the SEI phases themselves
            ours = products_per_non_ion_atom({**row, "products": row["sei_products"]})
        else:
            ours = products_per_non_ion_atom(row)
        theirs = ref["products"][row["voltage_v"]]
        assert set(ours) == set(theirs), (row["voltage_v"], ours, theirs)
        for name in ours:
            assert ours[name] == pytest.approx(theirs[name], abs=1e-6)


def compare(frame, entry_set, electrolyte, coating):
    ref = reference(frame, electrolyte, coating)
    rows = evaluate_interface(entry_set, electrolyte, coating, voltages_v=VOLTAGES_V, working_ion="Li")
    compare_rows(rows, ref)


@pytest.mark.slow
def test_interfaces_match_pymatgen(frame, entry_set):
    pairs = draw_pairs(frame)
    assert len(pairs) >= 50
    for electrolyte, coating in pairs:
        compare(frame, entry_set, electrolyte, coating)


def element_profile_window(frame, formula, ion="Li"):
    """Voltage window from pymatgen's element profile (evolution == 0 segment)."""
    comp = Composition(formula)
    _, pdg = phase_diagram(frame, {el.symbol for el in comp.elements} | {ion})
    prof = pdg.get_element_profile(Element(ion), comp)
    for i, step in enumerate(prof):
        if abs(step["evolution"]) < 1e-8:
            upper = -prof[i + 1]["chempot"] if i + 1 < len(prof) else np.inf
            return -step["chempot"], upper
    raise AssertionError(f"no stable segment for {formula}")


@pytest.mark.parametrize("formula", ["Li10GeP2S12", "Li3PS4", "Li7P3S11"])
def test_windows_match_element_profile(frame, entry_set, formula):
    comp = entry_set.comp[entry_set.find(formula)]
    ours = window(open_system(entry_set, comp, "Li"), comp)
    np.testing.assert_allclose(ours, element_profile_window(frame, formula), atol=1e-6)


def released_metal_kcrit_by_hand(frame, sei_fractions, voltage_v, ion="Li"):
    """Kcrit (GPa) under released_metal from pymatgen's objects, volumes added by hand.

    R: PhaseDiagram's decomposition at the SEI composition (hull energy);
    products: GrandPotentialPhaseDiagram's decomposition of R's non-ion part.
    Everything per atom of R; V_P' = V_P + max(released, 0) * v_metal.
    """
    volume = dict(zip(frame["reduced_formula"], frame["volume_per_atom_a3"], strict=True))
    sei = Composition(sei_fractions)
    entries, pdg = phase_diagram(frame, {el.symbol for el in sei.elements} | {ion})
    c_ion = sei.get_atomic_fraction(Element(ion))
    e_r = pdg.get_hull_energy_per_atom(sei)
    v_r = sum(amt * volume[e.name] for e, amt in pdg.get_decomposition(sei).items())
    gppd = GrandPotentialPhaseDiagram(entries, {Element(ion): -voltage_v})
    non_ion = Composition({el: amt for el, amt in sei.items() if el.symbol != ion})
    phi_p = v_p = held_ion = 0.0
    for entry, amount in gppd.get_decomposition(non_ion).items():
        orig = entry.original_entry
        x_ion = orig.composition.get_atomic_fraction(Element(ion))
        atoms = amount * (1.0 - c_ion) / (1.0 - x_ion)  # atoms of this phase per atom of R
        phi_p += atoms * (orig.energy_per_atom + voltage_v * x_ion)
        v_p += atoms * volume[orig.name]
        held_ion += atoms * x_ion
    dg = phi_p - (e_r + voltage_v * c_ion)
    released = c_ion - held_ion
    v_metal = volume[ion]
    dv = v_p + max(released, 0.0) * v_metal - v_r
    if dg > -1e-8:
        return 0.0
    return np.inf if dv <= 0 else -dg / dv * 160.21766208


@pytest.mark.slow
def test_released_metal_kcrit_matches_pymatgen(frame, entry_set):
    """The third convention's linear Kcrit equals the plain pymatgen route on real pairs,
    on both sides: lithiation (1 V, uptake not debited) and oxidation (3, 4 V, release counted)."""
    import json

    pairs = draw_pairs(frame, n_per_electrolyte=5, seed=SEED + 1)
    finite = 0
    for electrolyte, coating in pairs:
        rows = evaluate_interface(entry_set, electrolyte, coating, voltages_v=(1.0, 3.0, 4.0),
                                  working_ion="Li", convention="released_metal")
        if not rows[0]["reacts"]:
            continue
        for row in rows:
            ref = released_metal_kcrit_by_hand(frame, json.loads(row["sei_composition"]), row["voltage_v"])
            if np.isfinite(ref) and ref > 0:
                finite += 1
                assert row["kcrit_gpa"] == pytest.approx(ref, rel=1e-6), (electrolyte, coating, row["voltage_v"])
            else:
                assert row["kcrit_gpa"] == ref, (electrolyte, coating, row["voltage_v"])
    assert finite >= 10


@pytest.mark.slow
def test_constrained_window_edges_match_pymatgen(frame, entry_set):
    """LGPS at 15 GPa (released_metal): pymatgen's Kcrit is <= Keff on a grid inside the
    constrained window and > Keff just outside each edge that is not a scan limit."""
    from constrict.physics.kcrit import constrained_window

    keff, step = 15.0, 0.02
    comp = entry_set.comp[entry_set.find("Li10GeP2S12")]
    lo, hi = constrained_window(open_system(entry_set, comp, "Li", "released_metal"), comp, keff)
    fractions = Composition("Li10GeP2S12").fractional_composition.as_dict()
    assert 0.3 < lo < 0.7 and 3.0 < hi < 4.5, (lo, hi)
    for v in np.linspace(lo + 1e-3, hi - 1e-3, 25):
        assert released_metal_kcrit_by_hand(frame, fractions, v) <= keff + 1e-6, v
    for v in (lo - step, hi + step):
        assert released_metal_kcrit_by_hand(frame, fractions, v) > keff, v

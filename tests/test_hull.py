"""Exact hulls: a hand-checkable binary and pymatgen on real chemical systems."""


import numpy as np
import pytest
from helpers import entry_table
from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
from pymatgen.core import Composition

from constrict.core.errors import MissingElementError, SchemaError, UnknownFormulaError
from constrict.data.entries import EntrySet, e_above_hull


@pytest.fixture(scope="module")
def binary():
    # Li2S (x_S = 1/3) lies between Li (0 eV) and LiS (-1 eV at x_S = 1/2):
    # hull there = 1/3 * 0 + 2/3 * (-1) = -2/3, so Li2S at -0.6 is 1/15 above
    return entry_table([("Li", 0.0, 20.0), ("S", 0.0, 25.0), ("LiS", -1.0, 15.0), ("Li2S", -0.6, 16.0)])


def test_binary_by_hand(binary):
    e = e_above_hull(binary)
    np.testing.assert_allclose(e, [0, 0, 0, -0.6 + 2 / 3], atol=1e-12)
    es = EntrySet.from_frame(binary)
    energy, phases = es.decompose(es.composition_vector(Composition("Li2S")))
    assert energy == pytest.approx(-2 / 3, abs=1e-12)
    assert {es.reduced_formula(r): a for r, a in phases.items()} == pytest.approx({"Li": 1 / 3, "LiS": 2 / 3})


def test_lookup_errors(binary):
    es = EntrySet.from_frame(binary)
    assert es.reduced_formula(es.find("Li2S")) == "Li2S"
    assert es.reduced_formula(es.find("t:LiS")) == "LiS"
    assert es.reduced_formula(es.find(Composition("Li4S4"))) == "LiS"
    with pytest.raises(UnknownFormulaError):
        es.find("Li3S")
    with pytest.raises(UnknownFormulaError):
        es.find("Li((S")
    with pytest.raises(MissingElementError):
        es.find("NaS")
    with pytest.raises(SchemaError):
        EntrySet.from_frame(binary.drop(columns="energy_per_atom_ev"))


@pytest.mark.parametrize("chemsys", ["Li-P-S", "Li-Nb-O", "Ge-Li-P-S", "Na-P-S", "Al-Li-O"])
def test_e_above_hull_matches_pymatgen(snapshot_frame, chemsys):
    els = set(chemsys.split("-"))
    sub = snapshot_frame[[set(e) <= els for e in snapshot_frame["elements"]]].reset_index(drop=True)
    entries = [
        PDEntry(Composition(f), e * Composition(f).num_atoms)
        for f, e in zip(sub["reduced_formula"], sub["energy_per_atom_ev"], strict=True)
    ]
    ref = np.array([PhaseDiagram(entries).get_e_above_hull(x) for x in entries])
    np.testing.assert_allclose(e_above_hull(sub), ref, atol=1e-9)


def test_snapshot_column_is_exact(snapshot_frame):
    # the committed e_above_hull_ev must be the hull of the table itself
    sub = snapshot_frame[snapshot_frame["nelements"] <= 2].reset_index(drop=True)
    np.testing.assert_allclose(e_above_hull(sub), sub["e_above_hull_ev"], atol=1e-8)


def test_pickles_without_lp_caches(binary):
    import pickle

    es = EntrySet.from_frame(binary)
    es.decompose(es.composition_vector(Composition("Li2S")))  # fills an LP cache
    clone = pickle.loads(pickle.dumps(es))
    assert clone.hull_energy(clone.composition_vector(Composition("Li2S"))) == pytest.approx(-2 / 3)

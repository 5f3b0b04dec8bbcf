"""Any composition as a reactant at its hull energy (docs/science.md section 6), checked against pymatgen."""

import json

import numpy as np
import pytest
from helpers import entry_table
from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
from pymatgen.core import Composition

from constrict import cli
from constrict.campaign.screen import entries_within
from constrict.core.errors import MissingElementError, MissingVolumeError, UnknownFormulaError
from constrict.data.entries import EntrySet
from constrict.physics.electrochem import ground_state
from constrict.physics.evaluate import HULL_PREFIX, composition_reactant, evaluate_interface, resolve_reactant

SYSTEMS = ["Co-I-Li-O-P-S"]
"""A charged cathode (Li-Co-O) and a designed glass (Li-P-S-I, with O) live here."""

COMPOSITIONS = [
    "Li0.5CoO2",  # charged LiCoO2 (Zhu, He & Mo 2016)
    "Li0.364P0.110S0.388I0.138",  # the paper's first glass
    "Li0.30P0.12S0.40I0.10O0.08",  # a designed child with O entering
    "Li0.75CoO2",
    "Li3PS4",  # an entry on the hull: its own energy
    "Li7P3S11",  # a metastable entry: the hull lies below it
]


@pytest.fixture(scope="module")
def entries(snapshot_frame):
    return entries_within(snapshot_frame, SYSTEMS).reset_index(drop=True)


@pytest.fixture(scope="module")
def entry_set(entries):
    return EntrySet.from_frame(entries)


@pytest.fixture(scope="module")
def phase_diagram(entries):
    pd_entries = [
        PDEntry(Composition(f), e * Composition(f).num_atoms)
        for f, e in zip(entries["reduced_formula"], entries["energy_per_atom_ev"], strict=True)
    ]
    return PhaseDiagram(pd_entries)


@pytest.mark.parametrize("formula", COMPOSITIONS)
def test_hull_energy_equals_pymatgen(entry_set, phase_diagram, formula):
    reactant = composition_reactant(entry_set, formula)
    assert reactant.row is None
    assert reactant.formula == formula
    assert reactant.energy_per_atom_ev == pytest.approx(phase_diagram.get_hull_energy_per_atom(Composition(formula)),
                                                        abs=1e-8)
    decomposition = phase_diagram.get_decomposition(Composition(formula))
    ours = ground_state(entry_set, reactant.comp)
    assert {entry_set.reduced_formula(r) for r in ours.phases} == {e.composition.reduced_formula for e in decomposition}
    assert sum(ours.phases.values()) == pytest.approx(1.0)


def test_hull_energy_not_entry_energy(entry_set):
    """A metastable entry: as a table formula at its own energy, as a composition at the hull below it."""
    table, table_id = resolve_reactant(entry_set, "Li7P3S11")
    hull, hull_id = resolve_reactant(entry_set, "hull:Li7P3S11")
    row = entry_set.find("Li7P3S11")
    assert table_id == entry_set.entry_ids[row] and hull_id == "hull:Li7P3S11"
    assert table.energy_per_atom_ev - hull.energy_per_atom_ev == pytest.approx(entry_set.e_above_hull_ev[row], abs=1e-9)
    assert hull.energy_per_atom_ev < table.energy_per_atom_ev
    np.testing.assert_allclose(table.comp, hull.comp)


def test_the_id_resolves_again(entry_set):
    reactant, ident = resolve_reactant(entry_set, composition_reactant(entry_set, "Li0.5CoO2"))
    assert ident == f"{HULL_PREFIX}Li0.5CoO2"
    again, same = resolve_reactant(entry_set, ident)
    assert same == ident and again.energy_per_atom_ev == reactant.energy_per_atom_ev
    assert resolve_reactant(entry_set, " hull: Li0.5 Co O2 ")[1] == "hull:Li0.5CoO2"


def test_interface_with_a_composition(entry_set):
    """An on-hull entry given as a composition gives the same numbers as the entry; a charged cathode reacts more."""
    as_entry = evaluate_interface(entry_set, "Li3PS4", "LiCoO2", voltages_v=[4.2], working_ion="Li")
    as_comp = evaluate_interface(entry_set, "Li3PS4", "hull:LiCoO2", voltages_v=[4.2], working_ion="Li")
    assert as_comp[0]["coating_id"] == "hull:LiCoO2"
    for key in ("x_m", "e_rxn_ev_per_atom", "e_rxn_mutual_ev_per_atom", "kcrit_gpa"):
        assert as_comp[0][key] == pytest.approx(as_entry[0][key], rel=1e-9, abs=1e-12), key
    for key in ("sei_products", "products"):
        assert json.loads(as_comp[0][key]).keys() == json.loads(as_entry[0][key]).keys(), key
    charged = evaluate_interface(entry_set, "Li3PS4", composition_reactant(entry_set, "Li0.5CoO2"), voltages_v=[4.2],
                                 working_ion="Li")
    assert charged[0]["reacts"] and charged[0]["e_rxn_ev_per_atom"] < as_entry[0]["e_rxn_ev_per_atom"] < 0


def test_a_typo_is_not_a_composition(entry_set):
    """A plain formula must be an entry: the error names the hull: form instead of guessing."""
    with pytest.raises(UnknownFormulaError, match="write hull:Li3PS5"):
        resolve_reactant(entry_set, "Li3PS5")
    with pytest.raises(UnknownFormulaError, match="cannot parse"):
        resolve_reactant(entry_set, "Li3PQ4x")


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("hull:Li2Se", MissingElementError, "element Se is not in the entry data"),
        ("hull:Li3Qq", UnknownFormulaError, "non-element"),
        ("hull:", UnknownFormulaError, "cannot parse"),
    ],
)
def test_bad_compositions_are_one_line(entry_set, text, error, message):
    with pytest.raises(error, match=message) as info:
        resolve_reactant(entry_set, text)
    assert "\n" not in str(info.value)


def test_no_hull_and_no_volume():
    """No phase spans the composition -> no hull; a hull phase without volume -> refused."""
    tiny = EntrySet.from_frame(entry_table([("Li", 0.0, 20.0), ("S", 0.0, 27.0), ("Li3PS4", -1.3, 20.0),
                                            ("Li2S", -1.5, float("nan"))]))
    with pytest.raises(UnknownFormulaError, match="no hull in P"):
        composition_reactant(tiny, "P")
    with pytest.raises(MissingVolumeError, match="Li2S"):
        composition_reactant(tiny, "Li0.6S0.4")


def test_cli_takes_compositions(capsys, monkeypatch, entry_set):
    monkeypatch.setattr(cli, "load_entry_set", lambda source="mp_offline", custom=None, data_dir=None: entry_set)
    assert cli.main(["interface", "Li3PS4", "hull:Li0.5CoO2", "--voltage", "4.2", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["coating_id"] == "hull:Li0.5CoO2" and row["reacts"]
    assert cli.main(["window", "hull:Li0.364P0.110S0.388I0.138", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["phase"] == "Li0.364P0.110S0.388I0.138" and out["working_ion"] == "Li"
    for argv in (["interface", "Li3PS4", "Li3PS5"], ["window", "hull:Li2Se"], ["interface", "Li3PS4", "hull:Qq"]):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("constrict: error: ") and err.count("\n") == 1

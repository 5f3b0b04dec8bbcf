"""The --plot figures: their sidecars hold the engine's own numbers; paths are checked; files are written atomically.

All on a real subset of the offline MP snapshot (the chemical systems of
Li7P3S11 | LiNbO3, LGPS | LiNbO3 and LiCoO2 | LiNbO3); the kinks of the
reaction curve are checked against pymatgen's InterfacialReactivity.
"""

import json

import numpy as np
import pytest
from pymatgen.analysis.interface_reactions import InterfacialReactivity
from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
from pymatgen.core import Composition

from constrict import cli
from constrict.cathode.physics import evaluate_stack
from constrict.core.errors import ConfigError
from constrict.data.entries import EntrySet
from constrict.data.sources import restrict_to_chemical_systems
from constrict.figures import read_sidecar
from constrict.figures.output import check_figure_path, save_figure
from constrict.physics.electrochem import ground_state, window
from constrict.physics.evaluate import evaluate_interface, resolve_reactant
from constrict.physics.interface import interface_reaction
from constrict.physics.kcrit import constrained_window, kcrit_at
from constrict.physics.kinks import reaction_curve
from constrict.physics.opensystem import open_system

SYSTEMS = ["Li-Nb-O-P-S", "Ge-Li-Nb-O-P-S", "Co-Li-Nb-O", "Li-O-P-S"]


@pytest.fixture(scope="module")
def frame(snapshot_frame):
    return restrict_to_chemical_systems(snapshot_frame, SYSTEMS)


@pytest.fixture(scope="module")
def entry_set(frame):
    return EntrySet.from_frame(frame)


@pytest.fixture
def subset_cli(entry_set, monkeypatch, tmp_path):
    """The CLI on the subset, run from an empty folder (figures go to relative paths)."""
    monkeypatch.setattr(cli, "load_entry_set", lambda *args, **kwargs: entry_set)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def pymatgen_kinks(frame, electrolyte, coating):
    """(x, E_rxn) of InterfacialReactivity.get_kinks, x the coating's atom fraction, ascending."""
    c1, c2 = Composition(electrolyte), Composition(coating)
    elements = {el.symbol for el in (c1 + c2).elements}
    sub = frame[[set(e) <= elements for e in frame["elements"]]]
    entries = [PDEntry(Composition(f), e * Composition(f).num_atoms)
               for f, e in zip(sub["reduced_formula"], sub["energy_per_atom_ev"], strict=True)]
    ir = InterfacialReactivity(c1, c2, PhaseDiagram(entries), norm=True, use_hull_energy=False)
    return np.array(sorted((1.0 - k[1], k[2]) for k in ir.get_kinks()))


@pytest.mark.parametrize(("electrolyte", "coating"), [("Li7P3S11", "LiNbO3"), ("Li10GeP2S12", "LiNbO3"),
                                                      ("Li3PS4", "Li2O"), ("Li7P3S11", "O2")])
def test_reaction_curve_has_pymatgens_kinks(frame, entry_set, electrolyte, coating):
    a, _ = resolve_reactant(entry_set, electrolyte)
    b, _ = resolve_reactant(entry_set, coating)
    curve = reaction_curve(entry_set, a, b)
    ref = pymatgen_kinks(frame, electrolyte, coating)
    assert len(curve.x) == len(ref) >= 3
    np.testing.assert_allclose(curve.x, ref[:, 0], atol=1e-9)
    np.testing.assert_allclose(curve.e_rxn_ev_per_atom, ref[:, 1], atol=1e-9)
    rxn = interface_reaction(entry_set, a, b)
    assert curve.x_min == pytest.approx(rxn.x_m, abs=1e-9)
    assert curve.e_rxn_ev_per_atom.min() == pytest.approx(rxn.e_rxn_ev_per_atom, abs=1e-9)
    # every kink's products are a ground state of c(x): their atoms add up to one per atom of mixture
    assert all(sum(p.values()) == pytest.approx(1.0, abs=1e-9) for p in curve.products)


def test_interface_plot_sidecar_equals_evaluate_interface(subset_cli, entry_set, capsys):
    argv = ["interface", "Li7P3S11", "LiNbO3", "--voltage", "2", "4", "--plot", "li7p3s11.png",
            "--voltage-range", "1", "4.5", "--keff", "10", "20"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "figure li7p3s11.png; its numbers in li7p3s11.json" in out
    png = subset_cli / "li7p3s11.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in subset_cli.iterdir()) == ["li7p3s11.json", "li7p3s11.png"]  # no temp files left
    data = read_sidecar(png)
    scan_v = np.asarray(data["scan"]["voltage_v"])
    assert scan_v[0] == 1.0 and scan_v[-1] == 4.5 and np.allclose(np.diff(scan_v), 0.02)
    rows = evaluate_interface(entry_set, "Li7P3S11", "LiNbO3", voltages_v=scan_v, working_ion="Li")
    for name in ("dg_ev_per_atom", "eps_ion_metal", "eps_reservoir", "kcrit_gpa", "kcrit_sc_gpa",
                 "ion_released_per_atom"):
        np.testing.assert_allclose(data["scan"][name], [r[name] for r in rows], rtol=1e-7, atol=1e-9, err_msg=name)
    table = evaluate_interface(entry_set, "Li7P3S11", "LiNbO3", voltages_v=[2, 4], working_ion="Li")
    np.testing.assert_allclose(data["table"]["kcrit_gpa"], [r["kcrit_gpa"] for r in table], rtol=1e-9)
    assert data["keff_gpa"] == [10.0, 20.0]
    reaction = data["reaction"]
    assert reaction["x_m"] == pytest.approx(rows[0]["x_m"], abs=1e-12)
    assert reaction["e_rxn_m_ev_per_atom"] == pytest.approx(rows[0]["e_rxn_ev_per_atom"], abs=1e-12)
    assert reaction["sei_products"] == pytest.approx(json.loads(rows[0]["sei_products"]), abs=1e-9)
    a, _ = resolve_reactant(entry_set, "Li7P3S11")
    b, _ = resolve_reactant(entry_set, "LiNbO3")
    curve = reaction_curve(entry_set, a, b)
    np.testing.assert_allclose(reaction["x"], curve.x, atol=1e-12)
    np.testing.assert_allclose(reaction["e_rxn_ev_per_atom"], curve.e_rxn_ev_per_atom, atol=1e-12)
    assert min(reaction["e_rxn_ev_per_atom"]) == pytest.approx(reaction["e_rxn_m_ev_per_atom"], abs=1e-9)


def test_window_plot_sidecar_equals_window_functions(subset_cli, entry_set, capsys):
    assert cli.main(["window", "Li10GeP2S12", "--keff", "5", "15", "--plot", "lgps.svg", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)  # --json: stdout holds the JSON alone
    assert (subset_cli / "lgps.svg").read_text().lstrip().startswith("<?xml")
    data = read_sidecar(subset_cli / "lgps.svg")
    comp = entry_set.comp[entry_set.find("Li10GeP2S12")]
    system = open_system(entry_set, comp, "Li")
    assert data["window_v"] == pytest.approx(window(system, comp), abs=1e-9)
    assert printed["window_v"] == data["window_v"]
    for edge, keff in zip(data["constrained"], (5.0, 15.0), strict=True):
        assert edge["keff_gpa"] == keff
        assert edge["window_v"] == pytest.approx(constrained_window(system, comp, keff), abs=1e-9)
        assert edge["high_at_scan_limit"] is False
    reactant = ground_state(entry_set, comp)
    scan_v = data["scan"]["voltage_v"]
    assert scan_v[0] == 0.0 and scan_v[-1] == data["scan_limit_v"] == 6.0
    expected = [kcrit_at(system, reactant, v, self_consistent=False).kcrit_gpa for v in scan_v]
    np.testing.assert_allclose(data["scan"]["kcrit_gpa"], expected, rtol=1e-7, atol=1e-9)
    # the figure's windows are where Kcrit(V) <= Keff on the scan
    v, k = np.asarray(scan_v), np.asarray(data["scan"]["kcrit_gpa"])
    for edge in data["constrained"]:
        lo, hi = edge["window_v"]
        inside = (v > lo + 0.01) & (v < hi - 0.01)
        assert (k[inside] <= edge["keff_gpa"]).all()


def test_stack_plot_sidecar_equals_evaluate_stack(subset_cli, entry_set):
    assert cli.main(["stack", "LiCoO2", "LiNbO3", "Li10GeP2S12", "--keff", "12", "--plot", "stack.png"]) == 0
    data = read_sidecar(subset_cli / "stack.png")
    stack = evaluate_stack(entry_set, "LiCoO2", "LiNbO3", "Li10GeP2S12", voltage_v=4.2)
    assert data["keff_required_gpa"] == pytest.approx(stack.keff_required_gpa, rel=1e-9)
    assert data["limiting"] == stack.limiting
    assert data["keff_gpa"] == 12.0 and data["voltage_v"] == 4.2
    sides = data["sides"]
    assert sides["coating"]["kcrit_gpa"] == pytest.approx(stack.coating["kcrit_gpa"], rel=1e-9)
    assert sides["electrolyte"]["kcrit_gpa"] == pytest.approx(stack.electrolyte["kcrit_gpa"], rel=1e-9)
    assert sides["cathode"]["reacts"] == stack.cathode["reacts"]
    assert max(s["kcrit_gpa"] for s in sides.values()) == data["keff_required_gpa"]
    keff = np.asarray(data["scan"]["keff_gpa"])
    for side, s in sides.items():
        dg = np.asarray(data["scan"][f"dg_{side}_ev_per_atom"])
        assert (dg[keff >= s["kcrit_gpa"] + 1e-9] == 0).all()  # stopped from Kcrit on
        assert (dg[keff < s["kcrit_gpa"] - 1e-9] < 0).all()  # still decomposing below it
        assert dg[0] == pytest.approx(s["dg_ev_per_atom"])


@pytest.mark.parametrize("name", ["missing/fig.png", "fig.pdf", "fig.json", "fig", "."])
def test_bad_plot_path_is_one_line_before_any_work(name, subset_cli, capsys, monkeypatch):
    def no_work(*args, **kwargs):
        raise AssertionError("the entry data were loaded before the path was checked")

    monkeypatch.setattr(cli, "load_entry_set", no_work)
    for argv in (["interface", "Li7P3S11", "LiNbO3"], ["window", "Li3PS4"],
                 ["stack", "LiCoO2", "LiNbO3", "Li10GeP2S12"]):
        assert cli.main([*argv, "--plot", name]) == 2
        err = capsys.readouterr().err
        assert err.startswith("constrict: error: cannot write a figure to ") and err.count("\n") == 1
    assert list(subset_cli.iterdir()) == []


def test_suffix_any_case_and_folder_checked(tmp_path):
    assert check_figure_path(tmp_path / "a.PNG").name == "a.PNG"
    assert check_figure_path(tmp_path / "a.Svg").suffix == ".Svg"
    with pytest.raises(ConfigError, match="does not exist"):
        check_figure_path(tmp_path / "no" / "a.png")


class FailingFigure:
    """Writes half a file, then fails, like a savefig killed midway."""

    def savefig(self, path, **kwargs):
        with open(path, "wb") as fh:
            fh.write(b"\x89PNG half")
        raise OSError("disk full")


def test_a_failed_write_keeps_the_old_figure_and_leaves_no_temp(tmp_path):
    target = tmp_path / "fig.png"
    target.write_bytes(b"old image")
    (tmp_path / "fig.json").write_text("{}")
    with pytest.raises(OSError, match="disk full"):
        save_figure(FailingFigure(), {"x": [1.0]}, target)
    assert target.read_bytes() == b"old image" and (tmp_path / "fig.json").read_text() == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.json", "fig.png"]


def test_sidecar_json_has_no_nan_or_infinity(subset_cli):
    # S takes up Li below its window: under ion_metal Kcrit is inf there, and the window reaches the scan limit
    assert cli.main(["window", "S", "--keff", "5", "--convention", "ion_metal", "--plot", "s.png"]) == 0
    text = (subset_cli / "s.json").read_text()
    assert "NaN" not in text and "Infinity" not in text and '"inf"' in text
    data = read_sidecar(subset_cli / "s.png")
    assert np.isinf(data["scan"]["kcrit_gpa"]).any() and np.isinf(data["window_v"][1])
    assert data["constrained"][0]["high_at_scan_limit"] is True

"""constrict.api: thin wrappers that give the engine's own numbers, with the working ion chosen as the CLI does."""

import math

import numpy as np
import pandas as pd
import pytest

from constrict import api
from constrict.core.errors import IonOnlyError
from constrict.data.entries import EntrySet
from constrict.data.sources import restrict_to_chemical_systems
from constrict.data.tables import RESULT_COLUMNS
from constrict.physics.electrochem import ground_state, window
from constrict.physics.evaluate import evaluate_interface
from constrict.physics.kcrit import constrained_window, kcrit_at
from constrict.physics.opensystem import open_system


@pytest.fixture(scope="module")
def entries(snapshot_frame):
    return EntrySet.from_frame(restrict_to_chemical_systems(
        snapshot_frame, ["Li-Nb-O-P-S", "Ge-Li-P-S", "Li-O-P-S-Ta", "Na-Nb-O-P-S", "I-Li-P-S"]))


def test_interface_and_default_ion(entries):
    rows = api.evaluate_interface(entries, "Li7P3S11", "LiNbO3", voltages_v=[4])
    assert rows[0]["working_ion"] == "Li"
    assert rows[0]["kcrit_gpa"] == pytest.approx(
        evaluate_interface(entries, "Li7P3S11", "LiNbO3", voltages_v=[4], working_ion="Li")[0]["kcrit_gpa"])
    # a sodium electrolyte opens the system to Na, as the CLI does
    assert api.evaluate_interface(entries, "Na3PS4", "Nb2O5", voltages_v=[3])[0]["working_ion"] == "Na"


def test_window_and_kcrit_at_equal_the_engine(entries):
    comp = entries.comp[entries.find("Li10GeP2S12")]
    system = open_system(entries, comp, "Li")
    lgps = api.window(entries, "Li10GeP2S12", keff_gpa=[15])
    assert (lgps.v_low_v, lgps.v_high_v) == pytest.approx(window(system, comp), abs=1e-9)
    [edge] = lgps.constrained
    assert (edge.v_low_v, edge.v_high_v) == pytest.approx(constrained_window(system, comp, 15.0), abs=1e-9)
    assert not edge.high_at_scan_limit
    at = api.kcrit_at(entries, "Li10GeP2S12", 4.0)
    assert at.kcrit_gpa == pytest.approx(kcrit_at(system, ground_state(entries, comp), 4.0).kcrit_gpa, rel=1e-9)
    glass = api.kcrit_at(entries, "hull:Li0.364P0.110S0.388I0.138", 4.0, self_consistent=False)
    assert glass.kcrit_gpa > 0 and math.isnan(glass.kcrit_sc_gpa)
    with pytest.raises(IonOnlyError):
        api.window(entries, "Li")


def test_screen_writes_the_campaign_table(entries, tmp_path):
    path = tmp_path / "screen.parquet"
    table = api.screen(entries, "Li7P3S11", ["LiNbO3", "Li3PO4", "Xx2O"], voltages_v=[2, 4], path=path)
    assert list(table.columns) == list(RESULT_COLUMNS) and len(table) == 6
    back = api.read_screen(path)
    pd.testing.assert_frame_equal(back, pd.read_parquet(path))
    ok = back[back["status"] == "ok"]
    assert set(ok["coating_formula"]) == {"LiNbO3", "Li3PO4"}
    bad = back[back["status"] == "error"]
    assert len(bad) == 2 and bad["error"].str.contains("Xx").all()
    direct = evaluate_interface(entries, "Li7P3S11", "LiNbO3", voltages_v=[2, 4], working_ion="Li")
    np.testing.assert_allclose(ok[ok["coating_formula"] == "LiNbO3"]["kcrit_gpa"], [r["kcrit_gpa"] for r in direct])


def test_design_physics_checks_parent_and_child(entries):
    out = api.design_physics(entries, "Li0.364P0.110S0.388I0.138", electrolyte="Li7P3S11", evaluations=12,
                             starts=1, line_points=3, zoom_levels=1, entering=())
    assert out["parent"] == "Li0.364P0.11S0.388I0.138" and out["n_evaluations"] <= 12
    parent, child = out["parent_check"], out["child_check"]
    assert child["design_kcrit_gpa"] <= parent["design_kcrit_gpa"]

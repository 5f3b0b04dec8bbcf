"""Report tables: provenance counts and versions, electrolyte windows."""

import numpy as np
import pandas as pd
import pytest
import yaml

from constrict.campaign.plots import electrolyte_windows_figure
from constrict.campaign.provenance import data_counts, software_versions, write_provenance
from constrict.core.config import load_config
from constrict.data.coatings import select_coatings
from constrict.data.entries import EntrySet
from constrict.data.sources import restrict_to_chemical_systems
from constrict.physics.electrochem import window
from constrict.physics.kcrit import constrained_window
from constrict.physics.opensystem import open_system
from constrict.physics.windows import WINDOW_COLUMNS, electrolyte_windows


@pytest.fixture(scope="module")
def lgps_entries(snapshot_frame):
    return restrict_to_chemical_systems(snapshot_frame, ["Ge-Li-P-S", "Na-P-S"])


def test_counts_are_read_from_the_tables(tmp_path, snapshot_frame):
    config = load_config("config/quick.yaml")
    coatings = select_coatings(snapshot_frame).head(50)
    skipped = pd.DataFrame([{"electrolyte": "Na7P3S11", "electrolyte_label": "Na7P3S11", "working_ion": "Na",
                             "reason": "not in the data"}])
    counts = data_counts(snapshot_frame, coatings, skipped, config["selection"])
    by = counts.set_index(["section", "item"])["count"]
    assert by["entries", "all"] == len(snapshot_frame)
    assert counts.loc[counts["section"] == "entries by volume_rule", "count"].sum() == len(snapshot_frame)
    assert by["coating selection", "one per composition"] == len(select_coatings(snapshot_frame))
    assert by["coating selection", "screened"] == 50
    assert counts.loc[counts["section"] == "electrolytes skipped", "note"].tolist() == ["not in the data"]

    entries_path, coatings_path, skipped_path = tmp_path / "e.parquet", tmp_path / "c.parquet", tmp_path / "s.tsv"
    snapshot_frame.head(200).to_parquet(entries_path)
    coatings.to_parquet(coatings_path)
    skipped.to_csv(skipped_path, sep="\t", index=False)
    written = write_provenance(entries_path, coatings_path, skipped_path, config, tmp_path / "out")
    inputs = pd.read_csv(written["inputs"], sep="\t")
    assert inputs["rows"].tolist() == [200, 50] and inputs["sha256"].str.len().eq(64).all()
    assert yaml.safe_load(written["config"].read_text())["selection"] == config["selection"]
    versions = software_versions().set_index("package")["version"]
    assert versions["python"].startswith("3.11") and versions["pymatgen"] != "not installed"


def test_windows_equal_the_engine(lgps_entries, tmp_path):
    entry_set = EntrySet.from_frame(lgps_entries)
    electrolytes = [{"formula": "Li10GeP2S12", "working_ion": "Li"}, {"formula": "Li7P3S11", "working_ion": "Li"},
                    {"formula": "Na3PS4", "working_ion": "Na", "stand_in_for": "Na7P3S11"},
                    {"formula": "Li10SiP2S12", "working_ion": "Li"}]  # no Si in these entries: left out
    windows = electrolyte_windows(entry_set, electrolytes, [15.0])
    assert windows.columns.tolist() == WINDOW_COLUMNS
    assert windows["electrolyte"].unique().tolist() == ["Li10GeP2S12", "Li7P3S11", "Na3PS4"]
    comp = entry_set.comp[entry_set.find("Li10GeP2S12")]
    system = open_system(entry_set, comp, "Li")
    lgps = windows[windows["electrolyte"] == "Li10GeP2S12"]
    assert tuple(lgps.loc[lgps["keff_gpa"].isna(), ["v_low_v", "v_high_v"]].iloc[0]) == window(system, comp)
    assert tuple(lgps.loc[lgps["keff_gpa"] == 15.0, ["v_low_v", "v_high_v"]].iloc[0]) == constrained_window(
        system, comp, 15.0)
    assert np.all(windows["v_low_v"] <= windows["v_high_v"])
    png = electrolyte_windows_figure(windows, tmp_path / "w.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_kcrit_sc_example_explains_the_screen_numbers(snapshot_frame, tmp_path):
    from constrict.campaign.plots import kcrit_sc_figure
    from constrict.physics.evaluate import evaluate_interface
    from constrict.physics.sc_example import kcrit_sc_example

    entry_set = EntrySet.from_frame(restrict_to_chemical_systems(snapshot_frame, ["Li-Nb-O-P-S"]))
    example = kcrit_sc_example(entry_set, "Li7P3S11", "LiNbO3", voltage_v=4.0)
    (row,) = evaluate_interface(EntrySet.from_frame(restrict_to_chemical_systems(snapshot_frame, ["Li-Nb-O-P-S"])),
                                "Li7P3S11", "LiNbO3", voltages_v=[4.0], working_ion="Li")
    s = example.summary
    assert s["kcrit_gpa"] == pytest.approx(row["kcrit_gpa"]) and s["kcrit_sc_gpa"] == row["kcrit_sc_gpa"] == np.inf
    # the last step's products win at every larger K: they do not expand
    assert example.steps["dv_a3_per_atom"].iloc[-1] <= 0 and s["defeating_dv_a3_per_atom"] <= 0
    env = example.envelope
    assert env["g_ev_per_atom"].iloc[0] == pytest.approx(s["dg_ev_per_atom"], abs=1e-8)
    assert np.all(env["g_ev_per_atom"] <= env["linear_ev_per_atom"] + 1e-9)
    assert np.all(env["g_ev_per_atom"] < 0)  # never stopped on this grid
    # even a pressure that only pushes: a mix with no expansion still lowers Phi
    assert s["push_only_dv_a3_per_atom"] <= 1e-9 and s["push_only_dphi_ev_per_atom"] < 0 and s["push_only_infinite"]
    assert kcrit_sc_figure(s, env, tmp_path / "sc.png").stat().st_size > 10_000

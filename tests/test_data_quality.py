"""Entry data you can trust: the volume plausibility check, energy flags and unknown volumes in the engine."""

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest

from constrict import cli
from constrict.core.errors import MissingVolumeError
from constrict.data.entries import EntrySet
from constrict.data.quality_report import measured_evidence, quality_counts
from constrict.data.sources import load_entries, restrict_to_chemical_systems, validate_entries
from constrict.data.sources.custom import merge_custom_entries, read_custom_entries
from constrict.data.sources.offline import MP_FILES, read_csv
from constrict.data.sources.quality import (
    ELEMENTAL_RATIO_BAND,
    ENERGY_DIFFERENCE_MAX_EV,
    OQMD_RATIO_MAX,
    check_volumes,
    elemental_estimate,
    elemental_volumes,
    implausible_reasons,
)
from constrict.data.sources.schema import write_entries
from constrict.physics.evaluate import evaluate_interface

LGPS = "Li10Ge(PS6)2"
HEAVY_ALKALI = {"K", "Rb", "Cs"}
NAIVE_CUT_A3 = 50.0
"""A naive check: any volume above 50 Å³/atom is a vacuum cell."""


@pytest.fixture(scope="module")
def mp():
    return load_entries("mp_offline")


@pytest.fixture(scope="module")
def lgps_system(mp):
    """Every entry of Ge-Li-P-S, as the snapshot has it (a real, complete chemical system)."""
    return restrict_to_chemical_systems(mp, ["Ge-Li-P-S"])


def unchecked(df):
    """The rows as the formula matching gave them, before any check."""
    return df.assign(volume_per_atom_a3=df["volume_matched_a3"]).drop(
        columns=["volume_flag", "volume_reason", "volume_elemental_a3", "volume_oqmd_a3"])


def test_lis4_is_plausible_after_the_build(mp):
    lis4 = mp.set_index("reduced_formula").loc["LiS4"]
    assert lis4["volume_matched_a3"] == pytest.approx(201.36, abs=0.01)  # both MP structures: a molecule in vacuum
    assert lis4["volume_flag"] == "implausible" and lis4["volume_reason"] == "elemental_ratio"
    assert lis4["volume_rule"] == "neighbour_estimate" and pd.isna(lis4["material_id"])
    lo, hi = ELEMENTAL_RATIO_BAND
    assert lo < lis4["volume_per_atom_a3"] / lis4["volume_elemental_a3"] < hi
    # Zen's law over its hull neighbours Li2S + S: 1/10 (3 V(Li2S) + 7 V(S))
    by = mp.set_index("reduced_formula")["volume_per_atom_a3"]
    assert lis4["volume_per_atom_a3"] == pytest.approx((3 * by["Li2S"] + 7 * by["S"]) / 10, rel=1e-9)


def test_no_hull_phase_keeps_an_implausible_volume(mp):
    compounds = mp[mp["nelements"] > 1]
    reasons = implausible_reasons(compounds["volume_per_atom_a3"], compounds["volume_elemental_a3"],
                                  compounds["volume_oqmd_a3"])
    assert not any(r is not None for r in reasons)  # no entry at all, on the hull or above it
    assert mp["volume_per_atom_a3"].notna().all()  # and none unknown in the MP snapshot
    replaced = compounds["volume_flag"] == "implausible"
    assert (compounds.loc[replaced, "volume_per_atom_a3"] != compounds.loc[replaced, "volume_matched_a3"]).all()
    kept = ~replaced
    np.testing.assert_array_equal(compounds.loc[kept, "volume_per_atom_a3"], compounds.loc[kept, "volume_matched_a3"])


def test_elemental_estimate_is_the_composition_weighted_volume(mp):
    elemental = elemental_volumes(mp)
    [estimate] = elemental_estimate(["Li2S"], elemental)
    assert estimate == pytest.approx((2 * elemental["Li"] + elemental["S"]) / 3)
    np.testing.assert_allclose(elemental_estimate(mp["reduced_formula"][:500], elemental),
                               mp["volume_elemental_a3"][:500], rtol=1e-12)


@pytest.mark.parametrize("formula", ["Li3PS4", LGPS, "Li2S"])
def test_a_real_volume_times_eight_is_caught(lgps_system, formula):
    rows = unchecked(lgps_system)
    i = rows.index[rows["reduced_formula"] == formula][0]
    truth = rows.at[i, "volume_per_atom_a3"]
    rows.loc[i, "volume_per_atom_a3"] *= 8
    oqmd = lgps_system.set_index("reduced_formula")["volume_oqmd_a3"].dropna()
    out = check_volumes(rows, oqmd_volumes=oqmd)
    row = out.loc[i]
    assert row["volume_flag"] == "implausible" and "elemental_ratio" in row["volume_reason"]
    assert row["volume_matched_a3"] == pytest.approx(8 * truth)
    if formula in oqmd:  # OQMD's volume, labelled as such
        assert row["volume_reason"] == "elemental_ratio+oqmd_ratio" and row["volume_rule"] == "oqmd_formula"
        assert row["volume_per_atom_a3"] == oqmd[formula]
    else:  # LGPS: not in OQMD; its neighbours Li3PS4 + Li4GeS4 give it within 1 %
        assert row["volume_rule"] == "neighbour_estimate"
        assert row["volume_per_atom_a3"] == pytest.approx(truth, rel=0.01)
    assert (out.drop(index=i)["volume_flag"] == lgps_system.drop(index=i)["volume_flag"]).all()


def test_plausible_polymorphs_are_taken_first(lgps_system):
    structures = read_csv("data/raw/" + MP_FILES["volumes"])
    li3ps4 = structures[structures["formula_structural"] == "Li3PS4"]
    polymorphs = pd.DataFrame({"reduced_formula": "Li3PS4", "material_id": li3ps4["material_id"],
                               "volume_per_atom_a3": li3ps4["volume_per_atom"]})
    vacuum = pd.DataFrame({"reduced_formula": ["Li3PS4"] * 2, "material_id": ["mp-vacuum", "mp-vacuum-2"],
                           "volume_per_atom_a3": [160.0, 170.0]})
    rows = unchecked(lgps_system)
    i = rows.index[rows["reduced_formula"] == "Li3PS4"][0]
    # a single structure in vacuum: the densest plausible polymorph
    rows.loc[i, ["volume_per_atom_a3", "volume_rule"]] = [160.0, "cell_formula"]
    row = check_volumes(rows, polymorphs=pd.concat([polymorphs, vacuum])).loc[i]
    densest = polymorphs.sort_values("volume_per_atom_a3").iloc[0]
    assert row["volume_rule"] == "densest_plausible_polymorph" and row["material_id"] == densest["material_id"]
    assert row["volume_per_atom_a3"] == densest["volume_per_atom_a3"]
    assert row["n_polymorphs"] == len(polymorphs)  # the vacuum cells are not among them
    # a median that the vacuum cells pulled (plausible in itself): the median without them
    with_vacuum = pd.concat([polymorphs, vacuum])
    rows.loc[i, ["volume_per_atom_a3", "volume_rule"]] = [with_vacuum["volume_per_atom_a3"].median(),
                                                          "reduced_formula_median"]
    assert rows.at[i, "volume_per_atom_a3"] < 2 * lgps_system.set_index("reduced_formula").at[
        "Li3PS4", "volume_elemental_a3"]
    row = check_volumes(rows, polymorphs=with_vacuum).loc[i]
    assert row["volume_reason"] == "implausible_polymorph" and row["volume_rule"] == "plausible_polymorph_median"
    assert row["volume_per_atom_a3"] == polymorphs["volume_per_atom_a3"].median() and pd.isna(row["material_id"])


def test_heavy_alkali_phases_are_left_alone(mp):
    by = mp.set_index("reduced_formula")
    for formula in ("Cs", "CsI", "K3Bi"):
        assert by.at[formula, "volume_flag"] == "plausible"
        assert by.at[formula, "volume_per_atom_a3"] == by.at[formula, "volume_matched_a3"]
    compounds = mp[mp["nelements"] > 1]
    heavy = compounds["elements"].map(lambda els: bool(HEAVY_ALKALI & set(els)))
    real = (compounds["volume_matched_a3"] / compounds["volume_oqmd_a3"] - 1).abs() <= 0.1  # OQMD confirms
    naive = compounds["volume_matched_a3"] > NAIVE_CUT_A3
    ours = compounds["volume_reason"].fillna("").str.contains("ratio")  # the thresholds on the phase's own volume
    assert (heavy & real & naive).sum() > 100  # 118 real heavy-alkali phases a naive cut would flag
    assert not (heavy & real & ours).any()  # ours flags none of the 3,543 OQMD confirms


def test_energy_flags_follow_the_threshold(mp):
    diff = (mp["energy_per_atom_ev"] - mp["energy_oqmd_ev"]).abs()
    assert ((mp["energy_flag"] == "differs") == (diff > ENERGY_DIFFERENCE_MAX_EV)).all()
    assert ((mp["energy_flag"] == "agrees") == (diff <= ENERGY_DIFFERENCE_MAX_EV)).all()
    assert mp.loc[mp["energy_oqmd_ev"].isna(), "energy_flag"].isna().all()
    evidence = measured_evidence(mp)
    # the threshold is five robust standard deviations of the difference, rounded
    assert 5 * evidence["E - E_OQMD, robust standard deviation (eV/atom)"] == pytest.approx(
        ENERGY_DIFFERENCE_MAX_EV, abs=0.05)
    lo, hi = ELEMENTAL_RATIO_BAND
    assert lo < evidence["trusted: volume / elemental volume, min"]
    assert evidence["trusted: volume / elemental volume, max"] < hi
    assert evidence["volume / OQMD volume, 95th percentile"] < OQMD_RATIO_MAX


def test_quality_counts_add_up(mp):
    counts = quality_counts(mp)
    for check, group in counts.groupby("check"):
        assert group["n_entries"].sum() == len(mp), check
    flags = counts[counts["check"] == "volume_flag"].set_index("value")
    assert flags.at["implausible", "n_entries"] == (mp["volume_flag"] == "implausible").sum()
    on_hull = mp["e_above_hull_ev"] <= 1e-6
    assert flags.at["implausible", "n_on_hull"] == ((mp["volume_flag"] == "implausible") & on_hull).sum()


# --- the engine and an unknown volume ----------------------------------------------------------------


@pytest.fixture(scope="module")
def lis4_unknown(lgps_system):
    """The Ge-Li-P-S system with LiS4's volume unknown (as the check leaves a phase with no evidence)."""
    rows = lgps_system.copy()
    i = rows.index[rows["reduced_formula"] == "LiS4"][0]
    rows.loc[i, ["volume_per_atom_a3", "volume_rule"]] = [np.nan, "unknown"]
    return validate_entries(rows)


def test_an_unknown_volume_never_changes_the_hull(lgps_system, lis4_unknown):
    known = EntrySet.from_frame(lgps_system, recompute_hull=True)
    unknown = EntrySet.from_frame(lis4_unknown, recompute_hull=True)
    np.testing.assert_array_equal(known.e_above_hull_ev, unknown.e_above_hull_ev)
    np.testing.assert_array_equal(known.stable, unknown.stable)
    rng = np.random.default_rng(0)
    for comp in rng.dirichlet(np.ones(len(known.elements)), size=50):
        assert known.decompose(comp) == unknown.decompose(comp)


def test_a_strain_that_needs_an_unknown_volume_is_refused(lgps_system, lis4_unknown):
    unknown = EntrySet.from_frame(lis4_unknown)
    with pytest.raises(MissingVolumeError, match="LiS4") as err:
        evaluate_interface(unknown, LGPS, LGPS, voltages_v=[3.0], working_ion="Li")
    assert "\n" not in str(err.value)
    # where LiS4 is no product (inside LGPS's window), the same interface is computed as before
    [row] = evaluate_interface(unknown, LGPS, LGPS, voltages_v=[2.0], working_ion="Li")
    [ref] = evaluate_interface(EntrySet.from_frame(lgps_system), LGPS, LGPS, voltages_v=[2.0], working_ion="Li")
    assert "LiS4" not in json.loads(row["products"])
    assert row.keys() == ref.keys()
    for key, value in ref.items():  # the same up to rounding (the LPs' tie-breaks see LiS4's volume as 0)
        assert row[key] == (pytest.approx(value, rel=1e-12) if isinstance(value, float) else value), key


def test_the_cli_refuses_in_one_line(lis4_unknown, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CONSTRICT_CACHE_DIR", str(tmp_path / "cache"))
    write_entries(lis4_unknown, tmp_path / "mp_offline.parquet")
    argv = ["interface", "Li10GeP2S12", "Li10GeP2S12", "--voltage", "3", "--data-dir", str(tmp_path)]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("constrict: error: ") and err.count("\n") == 1 and "LiS4" in err


def test_lgps_at_3v_decomposes_with_a_plausible_strain(mp):
    entry_set = EntrySet.from_frame(restrict_to_chemical_systems(mp, ["Ge-Li-P-S"]))
    [row] = evaluate_interface(entry_set, LGPS, LGPS, voltages_v=[3.0], working_ion="Li", convention="ion_metal")
    assert "LiS4" in json.loads(row["products"])
    assert abs(row["eps_ion_metal"]) < 0.5  # +157 % with LiS4's vacuum cell


# --- the other entry paths ---------------------------------------------------------------------------


def test_custom_entries_warn_in_one_line(mp, tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("formula,energy_per_atom_ev,volume_per_atom_a3\nLi3PS4,-1.2,160.0\nLi5PS5,-1.0,20.0\n")
    lips = restrict_to_chemical_systems(mp, ["Li-P-S"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        merged = merge_custom_entries(lips, read_custom_entries(path))
    [warning] = [w for w in caught if "implausible volumes" in str(w.message)]
    assert "\n" not in str(warning.message) and "Li3PS4 (160" in str(warning.message)
    assert "Li5PS5" not in str(warning.message)
    by = merged.set_index("reduced_formula")
    assert by.at["Li3PS4", "volume_per_atom_a3"] == 160.0  # kept as given
    assert by.at["Li3PS4", "volume_flag"] == "implausible"
    assert by.at["Li3PS4", "volume_reason"] == "elemental_ratio+oqmd_ratio"
    assert by.at["Li5PS5", "volume_flag"] == "plausible" and by.at["Li5PS5", "volume_rule"] == "custom"
    assert math.isnan(by.at["Li5PS5", "volume_oqmd_a3"])


# --- the campaign's data-quality tables -------------------------------------------------------------


def test_quality_tables_count_the_interfaces_each_change_reaches(lgps_system, tmp_path):
    from constrict.data.quality_report import CHANGE_COLUMNS, ENERGY_COLUMNS, write_quality_tables

    entries = tmp_path / "entries.parquet"
    write_entries(lgps_system, entries)
    rows = evaluate_interface(EntrySet.from_frame(lgps_system), LGPS, "Li3PS4", voltages_v=[2.0, 3.0, 4.0],
                              working_ion="Li")
    screen = tmp_path / "screen.parquet"
    pd.DataFrame(rows)[["sei_products", "products"]].to_parquet(screen)
    written = write_quality_tables(entries, screen, tmp_path / "data")
    changes = pd.read_csv(written["quality_changes"], sep="\t")
    assert changes.columns.tolist() == CHANGE_COLUMNS
    assert len(changes) == (lgps_system["volume_flag"] == "implausible").sum()
    lis4 = changes.set_index("reduced_formula").loc["LiS4"]
    expected = sum("LiS4" in json.loads(r["products"]) for r in rows)
    assert expected >= 1 and lis4["n_in_products"] == expected == changes["n_interface_voltages"].max()
    assert lis4["volume_old_a3"] == pytest.approx(201.36, abs=0.01) and lis4["on_hull"]
    energies = pd.read_csv(written["quality_energies"], sep="\t")
    assert energies.columns.tolist() == ENERGY_COLUMNS
    assert len(energies) == (lgps_system["energy_flag"] == "differs").sum()
    counts = pd.read_csv(written["quality_counts"], sep="\t")
    assert counts.equals(quality_counts(lgps_system))

"""Coating selection on a small real subset of the offline MP snapshot."""

import pytest

from constrict.core.errors import ConfigError
from constrict.data.coatings import EXCLUDED_ELEMENTS, select_coatings
from constrict.data.sources import load_entries


@pytest.fixture(scope="module")
def subset():
    return load_entries("mp_offline", chemical_systems=["Li-P-S", "Ge-Li-S", "Na-P-S", "Xe-F", "Th-O"])


def test_default_selection(subset):
    coatings = select_coatings(subset)
    names = set(coatings["reduced_formula"])
    assert len(coatings) == 26
    assert {"Li2S", "Li3PS4", "Li4GeS4", "Na3PS4", "P2S5", "GeS2"} <= names
    assert "Li7P3S11" not in names  # 0.020 eV/atom above the hull
    assert not any(c["nelements"] == 1 for _, c in coatings.iterrows())
    assert (coatings["band_gap_ev"] > 0).all() and (coatings["e_above_hull_ev"] <= 1e-6).all()
    # every row left out breaks at least one rule
    rest = subset[~subset["entry_id"].isin(coatings["entry_id"])]
    excluded = rest["elements"].map(lambda els: bool(set(els) & set(EXCLUDED_ELEMENTS)))
    broken = ~(rest["band_gap_ev"] > 0) | (rest["e_above_hull_ev"] > 1e-6) | (rest["nelements"] < 2) | excluded
    assert broken.all()


def test_options(subset):
    assert {"S", "P"} <= set(select_coatings(subset, min_nelements=1)["reduced_formula"])
    with_th = select_coatings(subset, exclude_elements=())
    assert "ThO2" in set(with_th["reduced_formula"])
    assert "ThO2" not in set(select_coatings(subset)["reduced_formula"])
    loose = select_coatings(subset, max_e_above_hull_ev=0.025)
    assert "Li7P3S11" in set(loose["reduced_formula"])
    binaries = select_coatings(subset, max_nelements=2)
    assert set(binaries["nelements"]) == {2}
    wide = select_coatings(subset, min_band_gap_ev=2.5)
    assert (wide["band_gap_ev"] > 2.5).all() and "Li2S" in set(wide["reduced_formula"])


def test_bad_options(subset):
    with pytest.raises(ConfigError):
        select_coatings(subset, min_nelements=3, max_nelements=2)
    with pytest.raises(ConfigError, match="non-elements"):
        select_coatings(subset, exclude_elements=("Li", "Qq"))


def test_selection_counts_follow_the_selection(snapshot_frame):
    from constrict.data.coatings import select_coatings, selection_counts

    counts = selection_counts(snapshot_frame)
    assert counts["step"].iloc[0] == "entries" and counts["n_kept"].iloc[0] == len(snapshot_frame)
    assert counts["n_kept"].is_monotonic_decreasing
    assert counts["n_kept"].iloc[-1] == len(select_coatings(snapshot_frame))
    loose = selection_counts(snapshot_frame, exclude_elements=[], max_e_above_hull_ev=0.01)
    assert loose["n_kept"].iloc[-1] > counts["n_kept"].iloc[-1]

"""Custom entries: file formats, merging and one-line errors with row numbers."""

import warnings

import pytest

from constrict.core.errors import SchemaError
from constrict.data.sources import load_entries
from constrict.data.sources.custom import merge_custom_entries, read_custom_entries

# OQMD's Li3PS4 (data/raw/oqmd), used as a custom phase on the MP scale
OQMD_LI3PS4 = {"formula": "Li3PS4", "energy_per_atom_ev": -1.11195, "volume_per_atom_a3": 19.9848, "band_gap_ev": 2.805}


@pytest.fixture(scope="module")
def lips():
    return load_entries("mp_offline", chemical_systems=["Li-P-S"])


def test_csv_and_yaml_read_the_same(tmp_path):
    csv = tmp_path / "extra.csv"
    csv.write_text(
        "formula,energy_per_atom_ev,volume_per_atom_a3,band_gap_ev,note\n"
        "Li3PS4,-1.11195,19.9848,2.805,OQMD\n"
        "NaN,1.13604,12.401,,OQMD sodium nitride\n"
    )
    yml = tmp_path / "extra.yaml"
    yml.write_text(
        "entries:\n"
        "  - {formula: Li3PS4, energy_per_atom_ev: -1.11195, volume_per_atom_a3: 19.9848, band_gap_ev: 2.805}\n"
        "  - {formula: NaN, energy_per_atom_ev: 1.13604, volume_per_atom_a3: 12.401, note: OQMD}\n"
    )
    a, b = read_custom_entries(csv), read_custom_entries(yml)
    assert list(a["reduced_formula"]) == ["Li3PS4", "NaN"]
    assert a[["reduced_formula", "energy_per_atom_ev", "volume_per_atom_a3"]].equals(
        b[["reduced_formula", "energy_per_atom_ev", "volume_per_atom_a3"]]
    )
    assert a["band_gap_ev"].isna().tolist() == [False, True]
    assert set(a["source"]) == {"custom"} and a["entry_id"].tolist() == ["custom:Li3PS4", "custom:NaN"]


def test_custom_row_replaces_and_moves_the_hull(tmp_path, lips):
    path = tmp_path / "li3ps4.csv"
    path.write_text("formula,energy_per_atom_ev,volume_per_atom_a3\nLi3PS4,-1.11195,19.9848\n")
    with pytest.warns(UserWarning, match="replace the source rows of Li3PS4"):
        merged = load_entries("mp_offline", chemical_systems=["Li-P-S"], custom=path)
    assert len(merged) == len(lips)
    row = merged.set_index("reduced_formula").loc["Li3PS4"]
    assert row["source"] == "custom" and row["volume_per_atom_a3"] == 19.9848
    # MP's Li3PS4 (-1.2657) was on the hull; the OQMD energy is far above it
    assert row["e_above_hull_ev"] > 0.1
    # Li7P3S11 = Li3PS4-rich side: with MP's Li3PS4 gone its hull distance can only fall
    before = lips.set_index("reduced_formula").loc["Li7P3S11", "e_above_hull_ev"]
    after = merged.set_index("reduced_formula").loc["Li7P3S11", "e_above_hull_ev"]
    assert after < before


def test_custom_row_added(lips):
    extra = read_custom_entries_from_dicts([{**OQMD_LI3PS4, "formula": "Li5PS5"}])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        merged = merge_custom_entries(lips, extra)
    assert len(merged) == len(lips) + 1
    assert merged.set_index("reduced_formula").loc["Li5PS5", "e_above_hull_ev"] >= 0


def read_custom_entries_from_dicts(rows, tmp=None):
    import tempfile
    from pathlib import Path

    import yaml

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "rows.yaml"
        path.write_text(yaml.safe_dump(rows))
        return read_custom_entries(path)


def test_bad_rows_each_named_on_one_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "formula,energy_per_atom_ev,volume_per_atom_a3\n"
        "Li3PS4,-1.1,19.98\n"
        "Xx2Q,-1.0,10\n"
        "Li2S,-1.5,-3\n"
        "Li2O,about -2,12\n"
        "P2S5,-0.6,\n"
        "S,0.1,28\n"
        "PS4Li3,-1.0,20\n"
    )
    with pytest.raises(SchemaError) as err:
        read_custom_entries(path)
    msg = str(err.value)
    assert "\n" not in msg
    assert "row 2: cannot parse formula 'Xx2Q'" in msg
    assert "row 3: volume_per_atom_a3 must be > 0" in msg
    assert "row 4: energy_per_atom_ev 'about -2' is not a number" in msg
    assert "row 5: volume_per_atom_a3 is missing" in msg
    assert "row 6: elemental row S must have energy 0" in msg
    assert "row 7: composition Li3PS4 repeats row 1" in msg
    assert "row 1:" not in msg


def test_file_level_errors(tmp_path, lips):
    with pytest.raises(SchemaError, match="does not exist"):
        read_custom_entries(tmp_path / "none.csv")
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("formula,energy\nLi2S,-1\n")
    with pytest.raises(SchemaError, match="missing columns"):
        read_custom_entries(wrong)
    txt = tmp_path / "x.txt"
    txt.write_text("formula\n")
    with pytest.raises(SchemaError, match=r"\.csv, \.yaml"):
        read_custom_entries(txt)
    lif = {"formula": "LiF", "energy_per_atom_ev": -3.0, "volume_per_atom_a3": 8.0}
    foreign = read_custom_entries_from_dicts([lif])
    with pytest.raises(SchemaError, match=r"elements \['F'\] absent"):
        merge_custom_entries(lips, foreign)

"""mp-api source: conversion of recorded-shape responses, caching, missing key."""

import json
from pathlib import Path

import pandas as pd
import pytest
from pymatgen.entries.computed_entries import ComputedEntry, ComputedStructureEntry

from constrict.errors import MissingAPIKeyError, UnknownFormulaError
from constrict.sources import load_entries, validate_entries
from constrict.sources.mp_api import THERMO_TYPE, entries_to_frame, normalize_chemical_system

FIXTURES = Path(__file__).parent / "fixtures" / "mp_api"


def fixture_entries():
    out = []
    for d in json.loads((FIXTURES / "Li-P-S_entries.json").read_text()):
        cls = ComputedStructureEntry if "structure" in d else ComputedEntry
        out.append(cls.from_dict(d))
    return out


def fixture_docs():
    return json.loads((FIXTURES / "Li-P-S_summary.json").read_text())


class FakeRester:
    """Stands in for mp_api.client.MPRester, answering from the fixtures."""

    calls: list = []

    def __init__(self, api_key):
        self.api_key = api_key
        self.materials = self
        self.summary = self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def get_entries_in_chemsys(self, elements, additional_criteria=None):
        FakeRester.calls.append(("entries", sorted(elements), additional_criteria))
        inside = set(elements)
        return [e for e in fixture_entries() if {el.symbol for el in e.composition.elements} <= inside]

    def search(self, material_ids=None, fields=None):
        FakeRester.calls.append(("summary", len(material_ids), fields))
        return [d for d in fixture_docs() if d["material_id"] in set(material_ids)]


@pytest.fixture(autouse=True)
def _reset_calls():
    FakeRester.calls = []


def test_conversion_recovers_formation_energies():
    df = entries_to_frame(fixture_entries(), fixture_docs())
    expected = pd.read_csv(FIXTURES / "Li-P-S_expected.csv")
    by_id = df.set_index("material_id")
    # ground state per composition: the lower of two polymorphs wins
    assert by_id.loc["mp-38200", "reduced_formula"] == "Li2PS3"
    assert "mp-1222635" not in by_id.index
    assert by_id.loc["mp-29014", "reduced_formula"] == "P2S3" and "mp-1147708" not in by_id.index
    kept = expected[expected["material_id"].isin(by_id.index)]
    assert len(kept) == len(df) - 3
    for mpid, e_form in zip(kept["material_id"], kept["e_form_ev_per_atom"]):
        assert by_id.loc[mpid, "energy_per_atom_ev"] == pytest.approx(e_form, abs=1e-9)
    elements = df[df["nelements"] == 1]
    assert sorted(elements["reduced_formula"]) == ["Li", "P", "S"]
    assert (elements["energy_per_atom_ev"] == 0.0).all()


def test_volumes_from_structure_or_summary():
    df = entries_to_frame(fixture_entries(), fixture_docs()).set_index("material_id")
    assert df.loc["mp-1153", "volume_rule"] == "structure"
    assert df.loc["mp-1153", "volume_per_atom_a3"] == pytest.approx(15.193053, abs=1e-5)
    assert df.loc["mp-641703", "volume_rule"] == "summary"
    assert df.loc["mp-641703", "volume_per_atom_a3"] == pytest.approx(876.767265 / 42)
    assert df.loc["mp-1018134", "volume_per_atom_a3"] == pytest.approx(20.4019, abs=1e-4)
    assert df.loc["mp-1153", "band_gap_ev"] == pytest.approx(3.3862)


def test_load_fetches_once_then_uses_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MP_API_KEY", "fixture-key")
    df = load_entries("mp_api", chemical_systems=["S-P-Li"], cache_dir=tmp_path, rester_factory=FakeRester)
    validate_entries(df)
    assert (tmp_path / "Li-P-S.parquet").is_file()
    assert FakeRester.calls[0] == ("entries", ["Li", "P", "S"], {"thermo_types": [THERMO_TYPE]})
    assert set(df["source"]) == {"mp_api"}
    li2s = df.set_index("reduced_formula").loc["Li2S"]
    assert li2s["entry_id"] == "mp-1153" and li2s["e_above_hull_ev"] == pytest.approx(0.0, abs=1e-9)
    # second load: from the cache, no key needed, no call
    monkeypatch.delenv("MP_API_KEY")
    n_calls = len(FakeRester.calls)
    again = load_entries("mp_api", chemical_systems=["Li-P-S"], cache_dir=tmp_path, rester_factory=FakeRester)
    assert len(FakeRester.calls) == n_calls
    pd.testing.assert_frame_equal(again, df)


def test_two_systems_are_joined(tmp_path, monkeypatch):
    monkeypatch.setenv("MP_API_KEY", "fixture-key")
    df = load_entries("mp_api", chemical_systems=["Li-S", "Li-P-S"], cache_dir=tmp_path, rester_factory=FakeRester)
    assert df["reduced_formula"].is_unique
    assert {"Li2S", "Li7P3S11"} <= set(df["reduced_formula"])


def test_missing_key_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("MP_API_KEY", raising=False)
    with pytest.raises(MissingAPIKeyError) as err:
        load_entries("mp_api", chemical_systems=["Li-P-S"], cache_dir=tmp_path, rester_factory=FakeRester)
    msg = str(err.value)
    assert "MP_API_KEY" in msg and "mp_offline" in msg and "\n" not in msg
    assert FakeRester.calls == []


def test_chemical_system_names():
    assert normalize_chemical_system("S-Li-P") == "Li-P-S"
    assert normalize_chemical_system(["P", "Li"]) == "Li-P"
    with pytest.raises(UnknownFormulaError, match="not an element"):
        normalize_chemical_system("Li-Xx")

"""mp-api source: conversion of recorded-shape responses, caching, missing key."""

import inspect
import json
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from emmet.core.summary import SummaryDoc
from emmet.core.thermo import ThermoDoc
from mp_api.client.core.schemas import _convert_to_model
from mp_api.client.routes.materials.summary import SummaryRester
from mp_api.client.routes.materials.thermo import ThermoRester
from pymatgen.core import Composition
from pymatgen.entries.computed_entries import ComputedEntry, ComputedStructureEntry

from constrict.errors import MissingAPIKeyError, UnknownFormulaError
from constrict.sources import load_entries, validate_entries
from constrict.sources.mp_api import (
    NELEMENTS_SLICES,
    SUMMARY_FIELDS,
    THERMO_FIELDS,
    THERMO_TYPE,
    entries_to_frame,
    fetch_all_materials,
    legacy_material_id,
    load_mp_api_entries,
    normalize_chemical_system,
)

FIXTURES = Path(__file__).parent / "fixtures" / "mp_api"


def fixture_entries():
    out = []
    for d in json.loads((FIXTURES / "Li-P-S_entries.json").read_text()):
        cls = ComputedStructureEntry if "structure" in d else ComputedEntry
        out.append(cls.from_dict(d))
    return out


def fixture_docs():
    return json.loads((FIXTURES / "Li-P-S_summary.json").read_text())


def fixture_thermo():
    return json.loads((FIXTURES / "Li-P-S_thermo.json").read_text())


def as_client_docs(dicts, document_model, fields):
    """Documents as mp-api 0.46.5 returns them for a `fields=` query (dynamic pydantic models)."""
    return _convert_to_model(list(dicts), document_model, requested_fields=fields)


def in_range(doc, num_elements):
    return num_elements is None or num_elements[0] <= len(doc["composition"]) <= num_elements[1]


class _Summary:
    deprecated_ids: set = set()  # stands in for deprecated materials: no summary document

    def search(self, **kwargs):
        inspect.signature(SummaryRester.search).bind(self, **kwargs)  # arguments the real client takes
        FakeRester.calls.append(("summary", {k: v for k, v in kwargs.items() if k != "material_ids"}))
        fields = kwargs["fields"]
        assert set(fields) <= set(SummaryDoc.model_fields)
        comps = {d["material_id"]: d["composition"] for d in fixture_thermo()}
        docs = [d for d in fixture_docs() if d["material_id"] not in self.deprecated_ids]
        if kwargs.get("material_ids") is not None:
            docs = [d for d in docs if d["material_id"] in set(kwargs["material_ids"])]
        docs = [d for d in docs if in_range({"composition": comps[d["material_id"]]}, kwargs.get("num_elements"))]
        return as_client_docs(docs, SummaryDoc, fields)


class _Thermo:
    def search(self, **kwargs):
        inspect.signature(ThermoRester.search).bind(self, **kwargs)
        FakeRester.calls.append(("thermo", kwargs))
        fields = kwargs["fields"]
        assert set(fields) <= set(ThermoDoc.model_fields)
        assert kwargs["thermo_types"] == [THERMO_TYPE]
        docs = [d for d in fixture_thermo() if in_range(d, kwargs.get("num_elements"))]
        return as_client_docs(docs, ThermoDoc, fields)


class FakeRester:
    """Stands in for mp_api.client.MPRester, answering from the fixtures."""

    calls: list = []

    def __init__(self, api_key):
        self.api_key = api_key
        self.materials = SimpleNamespace(summary=_Summary(), thermo=_Thermo())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def get_entries_in_chemsys(self, elements, additional_criteria=None):
        FakeRester.calls.append(("entries", sorted(elements), additional_criteria))
        inside = set(elements)
        return [e for e in fixture_entries() if {el.symbol for el in e.composition.elements} <= inside]


@pytest.fixture(autouse=True)
def _reset_calls():
    FakeRester.calls = []
    _Summary.deprecated_ids = set()


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


def test_client_documents_keep_legacy_ids():
    # emmet serializes ids as "mp-aaaaaaft"; the table keeps MP's "mp-149" spelling
    docs = as_client_docs(fixture_docs(), SummaryDoc, SUMMARY_FIELDS)
    assert docs[0].model_dump()["material_id"] != fixture_docs()[0]["material_id"]
    assert legacy_material_id("mp-aaaaaaft") == "mp-149" == legacy_material_id("mp-149")
    df = entries_to_frame(fixture_entries(), docs).set_index("material_id")
    assert df.loc["mp-1153", "band_gap_ev"] == pytest.approx(3.3862)
    assert df.loc["mp-641703", "volume_rule"] == "summary"


def test_bulk_conversion_gives_the_schema():
    df = fetch_all_materials(FakeRester("fixture-key"))
    assert [c[0] for c in FakeRester.calls] == ["summary", "thermo"] * len(NELEMENTS_SLICES)
    summary_call, thermo_call = FakeRester.calls[0][1], FakeRester.calls[1][1]
    assert summary_call == {"num_elements": (1, 1), "deprecated": False, "fields": SUMMARY_FIELDS}
    assert thermo_call == {"num_elements": (1, 1), "thermo_types": [THERMO_TYPE], "fields": THERMO_FIELDS}
    assert set(df["source"]) == {"mp_api"} and df["reduced_formula"].is_unique
    # elements at exactly 0, from the reference, never from a higher polymorph
    elements = df[df["nelements"] == 1].set_index("reduced_formula")
    assert (elements["energy_per_atom_ev"] == 0.0).all()
    assert elements["material_id"].to_dict() == {"Li": "mp-1018134", "P": "mp-1198724", "S": "mp-96"}
    assert not {"mp-1103107", "mp-12883", "mp-7"} & set(df["material_id"])
    # ground state per composition; formation energies as MP's (matbench) ones
    by_id = df.set_index("material_id")
    assert by_id.loc["mp-38200", "reduced_formula"] == "Li2PS3" and "mp-1222635" not in by_id.index
    assert by_id.loc["mp-29014", "reduced_formula"] == "P2S3" and "mp-1147708" not in by_id.index
    table = pd.read_csv(FIXTURES / "Li-P-S_expected.csv")
    expected = table.set_index("material_id")["e_form_ev_per_atom"]
    compounds = by_id[by_id["nelements"] > 1]
    lowest = table.assign(r=table["formula"].map(lambda f: Composition(f).reduced_formula)).groupby("r")
    assert sorted(compounds.index) == sorted(table.loc[lowest["e_form_ev_per_atom"].idxmin(), "material_id"])
    for mpid, e_form in compounds["energy_per_atom_ev"].items():
        assert e_form == pytest.approx(expected[mpid], abs=1e-9)
    # volume and gap from the summary documents
    assert by_id.loc["mp-1153", "volume_rule"] == "summary"
    assert by_id.loc["mp-1153", "volume_per_atom_a3"] == pytest.approx(45.57916017 / 3)
    assert by_id.loc["mp-1153", "band_gap_ev"] == pytest.approx(3.3862)
    # the same numbers as the per-system path
    per_system = entries_to_frame(fixture_entries(), fixture_docs()).set_index("material_id")
    pd.testing.assert_series_equal(
        by_id["energy_per_atom_ev"].sort_index(), per_system["energy_per_atom_ev"].sort_index(), atol=1e-9, rtol=0
    )


def test_bulk_leaves_out_materials_without_summary():
    _Summary.deprecated_ids = {"mp-38200"}  # the Li2PS3 ground state
    df = fetch_all_materials(FakeRester("fixture-key")).set_index("material_id")
    assert "mp-38200" not in df.index
    assert df.loc["mp-1222635", "reduced_formula"] == "Li2PS3"  # the other polymorph takes its place


def test_load_all_fetches_once_then_uses_cache(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MP_API_KEY", "fixture-key")
    df = load_mp_api_entries(None, cache_dir=tmp_path, rester_factory=FakeRester)
    validate_entries(df)
    assert (tmp_path / "all.parquet").is_file()
    assert "summary and" in capsys.readouterr().out  # progress: documents fetched
    on_hull = df.set_index("reduced_formula")["e_above_hull_ev"]
    assert on_hull["Li2S"] == pytest.approx(0.0, abs=1e-9) and on_hull["Li"] == 0.0
    assert (df["e_above_hull_ev"] >= 0).all() and (df["e_above_hull_ev"] > 1e-6).any()
    # hull distances exactly as the per-system path gives them for the same system
    system = load_mp_api_entries(["Li-P-S"], cache_dir=tmp_path, rester_factory=FakeRester)
    pd.testing.assert_frame_equal(
        df.drop(columns=["volume_per_atom_a3", "volume_rule"]),
        system.drop(columns=["volume_per_atom_a3", "volume_rule"]),
        atol=1e-9,
    )
    # second load: from the cache, no key needed, no call
    monkeypatch.delenv("MP_API_KEY")
    n_calls = len(FakeRester.calls)
    again = load_mp_api_entries(None, cache_dir=tmp_path, rester_factory=FakeRester)
    assert len(FakeRester.calls) == n_calls
    pd.testing.assert_frame_equal(again, df)


def test_load_all_without_key_or_cache_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("MP_API_KEY", raising=False)
    with pytest.raises(MissingAPIKeyError) as err:
        load_mp_api_entries(None, cache_dir=tmp_path, rester_factory=FakeRester)
    msg = str(err.value)
    assert "MP_API_KEY" in msg and "mp_offline" in msg and "\n" not in msg
    assert FakeRester.calls == [] and not (tmp_path / "all.parquet").exists()

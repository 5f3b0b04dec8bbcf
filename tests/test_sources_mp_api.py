"""mp-api source: conversion of recorded-shape responses, one energy scale per path, caches, errors."""

import inspect
import json
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pyarrow.parquet as pq
import pymatgen.core
import pytest
import requests
from emmet.core.summary import SummaryDoc
from emmet.core.thermo import ThermoDoc
from mp_api.client import MPRester
from mp_api.client.core.exceptions import MPRestError
from mp_api.client.core.schemas import _convert_to_model
from mp_api.client.core.utils import validate_api_key
from mp_api.client.routes.materials.summary import SummaryRester
from mp_api.client.routes.materials.thermo import ThermoRester
from pymatgen.core import Composition
from pymatgen.entries.computed_entries import ComputedEntry, ComputedStructureEntry

from constrict.core.errors import EnergyScaleError, MissingAPIKeyError, MPAPIError, UnknownFormulaError
from constrict.data.sources import load_entries, validate_entries
from constrict.data.sources.mp_api import (
    BULK_THERMO_TYPE,
    META_DATABASE_VERSION,
    META_THERMO_TYPE,
    NELEMENTS_SLICES,
    SLICE_DIR,
    SUMMARY_FIELDS,
    SYSTEM_THERMO_TYPE,
    THERMO_FIELDS,
    entries_to_frame,
    fetch_all_materials,
    formation_energies_per_atom,
    legacy_material_id,
    load_mp_api_entries,
    normalize_chemical_system,
    thermo_docs_to_entries,
)
from constrict.data.sources.schema import write_entries

FIXTURES = Path(__file__).parent / "fixtures" / "mp_api"
KEY = "0123456789abcdef0123456789abcdef"  # the real client accepts 32 characters
THERMO_FILES = {BULK_THERMO_TYPE: "Li-P-S_thermo.json", SYSTEM_THERMO_TYPE: "Li-P-S_thermo_mixed.json"}
N_SLICES = 2 * len(NELEMENTS_SLICES)


def fixture_entries():
    return [ComputedStructureEntry.from_dict(d) for d in json.loads((FIXTURES / "Li-P-S_entries.json").read_text())]


def fixture_docs():
    return json.loads((FIXTURES / "Li-P-S_summary.json").read_text())


def fixture_thermo(thermo_type=BULK_THERMO_TYPE):
    return json.loads((FIXTURES / THERMO_FILES[thermo_type]).read_text())


def expected_formation_energies():
    return {d["material_id"]: d["formation_energy_per_atom"] for d in fixture_thermo(BULK_THERMO_TYPE)}


def as_client_docs(dicts, document_model, fields):
    """Documents as mp-api 0.46.5 returns them for a `fields=` query (dynamic pydantic models)."""
    return _convert_to_model(list(dicts), document_model, requested_fields=fields)


def in_range(doc, num_elements):
    return num_elements is None or num_elements[0] <= len(doc["composition"]) <= num_elements[1]


def network_down():
    """What requests raises for a search when the machine has no network."""
    return requests.exceptions.ConnectionError(
        "HTTPSConnectionPool(host='api.materialsproject.org', port=443): Max retries exceeded with url: "
        "/materials/thermo/ (Caused by NewConnectionError('Failed to establish a new connection: "
        "[Errno 101] Network is unreachable'))"
    )


class _Summary:
    deprecated_ids: set = set()  # stands in for deprecated materials: no summary document

    def search(self, **kwargs):
        inspect.signature(SummaryRester.search).bind(self, **kwargs)  # arguments the real client takes
        FakeRester.search_made(("summary", {k: v for k, v in kwargs.items() if k != "material_ids"}))
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
        FakeRester.search_made(("thermo", kwargs))
        fields = kwargs["fields"]
        assert set(fields) <= set(ThermoDoc.model_fields)
        (thermo_type,) = kwargs["thermo_types"]
        served = FakeRester.served_as.get(thermo_type, thermo_type)
        docs = [d for d in fixture_thermo(served) if in_range(d, kwargs.get("num_elements"))]
        return as_client_docs(docs, ThermoDoc, fields)


class FakeRester:
    """Stands in for mp_api.client.MPRester, answering from the fixtures.

    Arguments are bound to the installed client's signatures; the key goes
    through the client's own check (32 characters).
    """

    calls: list = []
    db_version = "fixture"
    searches_left: int | None = None  # the network drops after this many searches
    served_as: dict = {}  # thermo type asked for -> thermo type whose documents are served
    entries_error: Exception | None = None

    def __init__(self, api_key=None, **kwargs):
        inspect.signature(MPRester.__init__).bind(self, api_key=api_key, **kwargs)
        self.api_key = validate_api_key(api_key)
        self.materials = SimpleNamespace(summary=_Summary(), thermo=_Thermo())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    @classmethod
    def search_made(cls, call):
        if cls.searches_left is not None:
            if cls.searches_left <= 0:
                raise network_down()
            cls.searches_left -= 1
        cls.calls.append(call)

    def get_entries_in_chemsys(self, elements, use_gibbs=None, compatible_only=True, property_data=None,
                               conventional_unit_cell=False, additional_criteria=None, **kwargs):
        inspect.signature(MPRester.get_entries_in_chemsys).bind(
            self, elements, use_gibbs, compatible_only, property_data, conventional_unit_cell, additional_criteria,
            **kwargs)
        FakeRester.calls.append(("entries", sorted(elements), additional_criteria))
        if len(set(elements)) > 9:
            raise MPRestError("Please specify fewer elements to query by, or identify a subset of relevant "
                              "chemical systems to query first.")
        if FakeRester.entries_error is not None:
            raise FakeRester.entries_error
        inside = set(elements)
        return [e for e in fixture_entries() if {el.symbol for el in e.composition.elements} <= inside]


@pytest.fixture(autouse=True)
def _reset(monkeypatch):
    FakeRester.calls = []
    FakeRester.db_version = "fixture"
    FakeRester.searches_left = None
    FakeRester.served_as = {}
    FakeRester.entries_error = None
    _Summary.deprecated_ids = set()
    monkeypatch.delenv("MP_API_KEY", raising=False)
    monkeypatch.delitem(pymatgen.core.SETTINGS, "PMG_MAPI_KEY", raising=False)


def metadata(path):
    return {k.decode(): v.decode() for k, v in pq.read_schema(path).metadata.items()}


def warnings_in(out: str) -> list[str]:
    return [line for line in out.splitlines() if "again" in line]


# --- conversion -----------------------------------------------------------------------------------


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
    for mpid, e_form in zip(kept["material_id"], kept["e_form_ev_per_atom"], strict=True):
        assert by_id.loc[mpid, "energy_per_atom_ev"] == pytest.approx(e_form, abs=1e-9)
    elements = df[df["nelements"] == 1]
    assert sorted(elements["reduced_formula"]) == ["Li", "P", "S"]
    assert (elements["energy_per_atom_ev"] == 0.0).all()


def test_volumes_from_the_entries_structures_match_the_summary():
    df = entries_to_frame(fixture_entries(), fixture_docs()).set_index("material_id")
    assert set(df["volume_rule"]) == {"structure"}
    docs = {d["material_id"]: d for d in fixture_docs()}
    for mpid, volume in df["volume_per_atom_a3"].items():  # the same MP structures on both sides
        assert volume == pytest.approx(docs[mpid]["volume"] / docs[mpid]["nsites"], rel=1e-7)
    assert df.loc["mp-1153", "volume_per_atom_a3"] == pytest.approx(45.57916017 / 3)
    assert df.loc["mp-1153", "band_gap_ev"] == pytest.approx(3.3862)


def test_entries_without_structure_take_the_summary_volume():
    entries = [ComputedEntry(e.composition, e.uncorrected_energy, entry_id=e.entry_id, data=e.data)
               for e in fixture_entries()]
    df = entries_to_frame(entries, fixture_docs()).set_index("material_id")
    assert set(df["volume_rule"]) == {"summary"}
    assert df.loc["mp-641703", "volume_per_atom_a3"] == pytest.approx(876.767265 / 42)


def test_client_documents_keep_legacy_ids():
    # emmet serializes ids as "mp-aaaaaaft"; the table keeps MP's "mp-149" spelling
    docs = as_client_docs(fixture_docs(), SummaryDoc, SUMMARY_FIELDS)
    assert docs[0].model_dump()["material_id"] != fixture_docs()[0]["material_id"]
    assert legacy_material_id("mp-aaaaaaft") == "mp-149" == legacy_material_id("mp-149")
    df = entries_to_frame(fixture_entries(), docs).set_index("material_id")
    assert df.loc["mp-1153", "band_gap_ev"] == pytest.approx(3.3862)


def test_chemical_system_names():
    assert normalize_chemical_system("S-Li-P") == "Li-P-S"
    assert normalize_chemical_system(["P", "Li"]) == "Li-P"
    with pytest.raises(UnknownFormulaError, match="not an element"):
        normalize_chemical_system("Li-Xx")


# --- per chemical system: GGA_GGA+U_R2SCAN, one call, one scale -----------------------------------


def test_load_one_system_fetches_once_then_uses_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MP_API_KEY", KEY)
    df = load_entries("mp_api", chemical_systems=["S-P-Li"], cache_dir=tmp_path, rester_factory=FakeRester)
    validate_entries(df)
    path = tmp_path / "Li-P-S.parquet"
    assert metadata(path)[META_THERMO_TYPE] == SYSTEM_THERMO_TYPE and metadata(path)[META_DATABASE_VERSION] == "fixture"
    assert FakeRester.calls[0] == ("entries", ["Li", "P", "S"], {"thermo_types": [SYSTEM_THERMO_TYPE]})
    assert set(df["source"]) == {"mp_api"} and set(df["volume_rule"]) == {"structure"}
    li2s = df.set_index("reduced_formula").loc["Li2S"]
    assert li2s["entry_id"] == "mp-1153" and li2s["e_above_hull_ev"] == pytest.approx(0.0, abs=1e-9)
    # second load: from the cache, no key needed, no call
    monkeypatch.delenv("MP_API_KEY")
    n_calls = len(FakeRester.calls)
    again = load_entries("mp_api", chemical_systems=["Li-P-S"], cache_dir=tmp_path, rester_factory=FakeRester)
    assert len(FakeRester.calls) == n_calls
    pd.testing.assert_frame_equal(again, df)


def test_several_systems_are_one_call_for_their_union(tmp_path, monkeypatch):
    monkeypatch.setenv("MP_API_KEY", KEY)
    df = load_mp_api_entries(["Li-S", "P-S"], cache_dir=tmp_path, rester_factory=FakeRester)
    assert [c[:2] for c in FakeRester.calls if c[0] == "entries"] == [("entries", ["Li", "P", "S"])]
    assert sorted(p.name for p in tmp_path.glob("*.parquet")) == ["Li-P-S.parquet"]
    assert set(df["chemical_system"]) <= {"Li", "P", "S", "Li-S", "P-S"} and "Li2S" in set(df["reduced_formula"])
    # hull distances stay those of the union's one diagram
    union = load_mp_api_entries(["Li-P-S"], cache_dir=tmp_path, rester_factory=FakeRester).set_index("entry_id")
    pd.testing.assert_series_equal(df.set_index("entry_id")["e_above_hull_ev"],
                                   union.loc[df["entry_id"], "e_above_hull_ev"])
    assert df.attrs["parquet_metadata"][META_THERMO_TYPE] == SYSTEM_THERMO_TYPE


def test_a_cached_system_is_not_joined_with_a_new_one(tmp_path, monkeypatch):
    monkeypatch.setenv("MP_API_KEY", KEY)
    load_mp_api_entries(["Li-S"], cache_dir=tmp_path, rester_factory=FakeRester)
    load_mp_api_entries(["Li-S", "P-S"], cache_dir=tmp_path, rester_factory=FakeRester)
    assert [c[1] for c in FakeRester.calls if c[0] == "entries"] == [["Li", "S"], ["Li", "P", "S"]]


def test_systems_beyond_nine_elements_are_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("MP_API_KEY", KEY)
    with pytest.raises(EnergyScaleError, match="span 11 elements") as err:
        load_mp_api_entries(["Li-P-S", "Na-Ge-Si-Al-Mg-Ca-O-F"], cache_dir=tmp_path, rester_factory=FakeRester)
    assert "\n" not in str(err.value) and FakeRester.calls == []


# --- all of Materials Project: GGA_GGA+U, resumable -----------------------------------------------


def test_the_fixture_has_two_scales_under_the_mixed_type():
    pooled = formation_energies_per_atom(thermo_docs_to_entries(fixture_thermo(SYSTEM_THERMO_TYPE)))
    mp = [d["formation_energy_per_atom"] for d in fixture_thermo(SYSTEM_THERMO_TYPE)]
    assert max(abs(a - b) for a, b in zip(pooled, mp, strict=True)) > 0.5  # pooling across scales goes wrong


def test_bulk_formation_energies_are_mps_own_despite_two_scales(tmp_path):
    df = fetch_all_materials(FakeRester(KEY), tmp_path)
    expected = expected_formation_energies()
    by_id = df.set_index("material_id")["energy_per_atom_ev"]
    assert len(by_id) == 22  # 29 documents, 22 compositions
    for mpid, energy in by_id.items():
        assert energy == pytest.approx(expected[mpid], abs=1e-9), mpid
    thermo_calls = [c[1] for c in FakeRester.calls if c[0] == "thermo"]
    assert {tuple(c["thermo_types"]) for c in thermo_calls} == {(BULK_THERMO_TYPE,)}


def test_bulk_conversion_gives_the_schema(tmp_path):
    df = fetch_all_materials(FakeRester(KEY), tmp_path)
    assert [c[0] for c in FakeRester.calls] == ["summary", "thermo"] * len(NELEMENTS_SLICES)
    summary_call, thermo_call = FakeRester.calls[0][1], FakeRester.calls[1][1]
    assert summary_call == {"num_elements": (1, 1), "deprecated": False, "fields": SUMMARY_FIELDS}
    assert thermo_call == {"num_elements": (1, 1), "thermo_types": [BULK_THERMO_TYPE], "fields": THERMO_FIELDS}
    assert set(df["source"]) == {"mp_api"} and df["reduced_formula"].is_unique
    # elements at exactly 0, from the reference, never from a higher polymorph
    elements = df[df["nelements"] == 1].set_index("reduced_formula")
    assert (elements["energy_per_atom_ev"] == 0.0).all()
    assert elements["material_id"].to_dict() == {"Li": "mp-1018134", "P": "mp-1198724", "S": "mp-96"}
    assert not {"mp-1103107", "mp-12883", "mp-7"} & set(df["material_id"])
    # ground state per composition
    by_id = df.set_index("material_id")
    assert by_id.loc["mp-38200", "reduced_formula"] == "Li2PS3" and "mp-1222635" not in by_id.index
    assert by_id.loc["mp-29014", "reduced_formula"] == "P2S3" and "mp-1147708" not in by_id.index
    table = pd.read_csv(FIXTURES / "Li-P-S_expected.csv")
    lowest = table.assign(r=table["formula"].map(lambda f: Composition(f).reduced_formula)).groupby("r")
    compounds = by_id[by_id["nelements"] > 1]
    assert sorted(compounds.index) == sorted(table.loc[lowest["e_form_ev_per_atom"].idxmin(), "material_id"])
    # volume and gap from the summary documents
    assert set(df["volume_rule"]) == {"summary"}
    assert by_id.loc["mp-1153", "volume_per_atom_a3"] == pytest.approx(45.57916017 / 3)
    assert by_id.loc["mp-1153", "band_gap_ev"] == pytest.approx(3.3862)


def test_bulk_stops_when_documents_are_not_on_one_scale(tmp_path, monkeypatch):
    monkeypatch.setenv("MP_API_KEY", KEY)
    FakeRester.served_as = {BULK_THERMO_TYPE: SYSTEM_THERMO_TYPE}  # as if GGA_GGA+U documents mixed two scales
    with pytest.raises(EnergyScaleError, match="not on one energy scale") as err:
        load_mp_api_entries(None, cache_dir=tmp_path, rester_factory=FakeRester)
    assert "\n" not in str(err.value)
    assert not (tmp_path / "all.parquet").exists() and len(list((tmp_path / SLICE_DIR).glob("*.parquet"))) == N_SLICES


def test_bulk_leaves_out_materials_without_summary(tmp_path):
    _Summary.deprecated_ids = {"mp-38200"}  # the Li2PS3 ground state
    df = fetch_all_materials(FakeRester(KEY), tmp_path).set_index("material_id")
    assert "mp-38200" not in df.index
    assert df.loc["mp-1222635", "reduced_formula"] == "Li2PS3"  # the other polymorph takes its place


def test_load_all_fetches_once_then_uses_cache(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MP_API_KEY", KEY)
    df = load_mp_api_entries(None, cache_dir=tmp_path, rester_factory=FakeRester)
    validate_entries(df)
    assert metadata(tmp_path / "all.parquet")[META_THERMO_TYPE] == BULK_THERMO_TYPE
    out = capsys.readouterr().out
    assert "summary_1: 6 documents in" in out and f"{N_SLICES} of {N_SLICES} slices" in out and "/s)" in out
    on_hull = df.set_index("reduced_formula")["e_above_hull_ev"]
    assert on_hull["Li2S"] == pytest.approx(0.0, abs=1e-9) and on_hull["Li"] == 0.0
    assert (df["e_above_hull_ev"] >= 0).all() and (df["e_above_hull_ev"] > 1e-6).any()
    # second load: from the cache, no key needed, no call
    monkeypatch.delenv("MP_API_KEY")
    n_calls = len(FakeRester.calls)
    again = load_mp_api_entries(None, cache_dir=tmp_path, rester_factory=FakeRester)
    assert len(FakeRester.calls) == n_calls
    pd.testing.assert_frame_equal(again, df)


def test_interrupted_bulk_fetch_resumes_with_the_missing_slices_only(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MP_API_KEY", KEY)
    FakeRester.searches_left = 5
    with pytest.raises(MPAPIError, match="cannot reach the Materials Project") as err:
        load_mp_api_entries(None, cache_dir=tmp_path, rester_factory=FakeRester)
    assert "\n" not in str(err.value) and f"5 of {N_SLICES} slices are cached" in str(err.value)
    first = [(c[0], c[1]["num_elements"]) for c in FakeRester.calls]
    assert len(first) == 5 and len(list((tmp_path / SLICE_DIR).glob("*.parquet"))) == 5
    FakeRester.calls, FakeRester.searches_left = [], None
    capsys.readouterr()
    df = load_mp_api_entries(None, cache_dir=tmp_path, rester_factory=FakeRester)
    second = [(c[0], c[1]["num_elements"]) for c in FakeRester.calls]
    everything = [(kind, n) for n in NELEMENTS_SLICES for kind in ("summary", "thermo")]
    assert second == everything[5:] and first == everything[:5]
    assert f"resuming: 5 of {N_SLICES} slices" in capsys.readouterr().out
    FakeRester.calls = []
    fresh = load_mp_api_entries(None, cache_dir=tmp_path / "fresh", rester_factory=FakeRester)
    pd.testing.assert_frame_equal(df, fresh)


def test_slices_of_another_mp_release_are_fetched_again(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MP_API_KEY", KEY)
    fetch_all_materials(FakeRester(KEY), tmp_path)
    FakeRester.calls, FakeRester.db_version = [], "fixture-next"
    capsys.readouterr()
    fetch_all_materials(FakeRester(KEY), tmp_path)
    assert len(FakeRester.calls) == N_SLICES
    assert len(warnings_in(capsys.readouterr().out)) == N_SLICES  # one line per slice: its release differs
    assert {metadata(p)[META_DATABASE_VERSION] for p in tmp_path.glob("*.parquet")} == {"fixture-next"}


# --- caches: truncated, unlabelled, atomic ---------------------------------------------------------


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("systems", [["Li-P-S"], None])
def test_truncated_cache_gets_one_line_is_refetched_and_never_used(tmp_path, monkeypatch, capsys, systems):
    monkeypatch.setenv("MP_API_KEY", KEY)
    df = load_mp_api_entries(systems, cache_dir=tmp_path, rester_factory=FakeRester)
    path = tmp_path / ("Li-P-S.parquet" if systems else "all.parquet")
    truncate(path)
    if systems is None:  # a cut-off slice too: only it is fetched again
        truncate(tmp_path / SLICE_DIR / "thermo_2.parquet")
    FakeRester.calls = []
    capsys.readouterr()
    again = load_mp_api_entries(systems, cache_dir=tmp_path, rester_factory=FakeRester)
    lines = warnings_in(capsys.readouterr().out)
    assert len(lines) == (1 if systems else 2) and all("unreadable cache" in line for line in lines)
    assert str(path) in lines[0]
    got = [(c[0], c[1] if c[0] == "entries" else c[1].get("num_elements")) for c in FakeRester.calls]
    assert got == ([("entries", ["Li", "P", "S"]), ("summary", None)] if systems else [("thermo", (2, 2))])
    pd.testing.assert_frame_equal(again, df)
    pd.testing.assert_frame_equal(load_mp_api_entries(systems, cache_dir=tmp_path, rester_factory=FakeRester), df)


def test_unlabelled_cache_is_fetched_again(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MP_API_KEY", KEY)
    df = load_mp_api_entries(["Li-P-S"], cache_dir=tmp_path, rester_factory=FakeRester)
    write_entries(df, tmp_path / "Li-P-S.parquet")  # as written before caches carried their thermo type
    FakeRester.calls = []
    capsys.readouterr()
    load_mp_api_entries(["Li-P-S"], cache_dir=tmp_path, rester_factory=FakeRester)
    (line,) = warnings_in(capsys.readouterr().out)
    assert "no recorded thermo type" in line and len(FakeRester.calls) == 2  # entries, summary
    assert metadata(tmp_path / "Li-P-S.parquet")[META_THERMO_TYPE] == SYSTEM_THERMO_TYPE


def test_a_killed_write_leaves_the_previous_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MP_API_KEY", KEY)
    df = load_mp_api_entries(["Li-P-S"], cache_dir=tmp_path, rester_factory=FakeRester)
    path = tmp_path / "Li-P-S.parquet"
    before = path.read_bytes()

    def killed(table, where, **kwargs):
        Path(where).write_bytes(b"PAR1 half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr("constrict.data.tables.pq.write_table", killed)
    with pytest.raises(KeyboardInterrupt):
        write_entries(df, path)
    assert path.read_bytes() == before and list(tmp_path.glob(".*tmp")) == []


# --- errors: one line each ------------------------------------------------------------------------


def test_missing_key_is_one_clear_error(tmp_path):
    for systems in (["Li-P-S"], None):
        with pytest.raises(MissingAPIKeyError) as err:
            load_mp_api_entries(systems, cache_dir=tmp_path, rester_factory=FakeRester)
        msg = str(err.value)
        assert "MP_API_KEY" in msg and "PMG_MAPI_KEY" in msg and "mp_offline" in msg and "\n" not in msg
    assert FakeRester.calls == [] and not list(tmp_path.iterdir())


def test_pmg_mapi_key_from_pymatgen_settings(tmp_path, monkeypatch):
    monkeypatch.setitem(pymatgen.core.SETTINGS, "PMG_MAPI_KEY", KEY)  # ~/.pmgrc.yaml, as MPRester reads it
    keys = []
    load_mp_api_entries(["Li-S"], cache_dir=tmp_path, rester_factory=lambda key: keys.append(key) or FakeRester(key))
    assert keys == [KEY]


def test_malformed_key_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("MP_API_KEY", "not-a-key")
    with pytest.raises(MPAPIError, match="did not accept the API key") as err:
        load_mp_api_entries(["Li-S"], cache_dir=tmp_path, rester_factory=FakeRester)
    assert "\n" not in str(err.value) and "32 characters" in str(err.value)


def test_no_network_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("MP_API_KEY", KEY)

    def offline(key):  # MPRester asks the server for its heartbeat when it is built
        raise network_down()

    with pytest.raises(MPAPIError, match="cannot reach the Materials Project") as err:
        load_mp_api_entries(["Li-S"], cache_dir=tmp_path, rester_factory=offline)
    assert "\n" not in str(err.value) and "mp_offline" in str(err.value)


@pytest.mark.parametrize(
    "failure",
    [
        MPRestError("Failed to retrieve object due to: Generic S3 error: error sending request.\nIf this is a "
                    "timeout error, try increasing the 'timeout' parameter on MPRester (current value: 20s)."),
        OSError("Generic S3 error: Error after 3 retries in 6.1s, max_retries:3, retry_timeout:180s"),
    ],
)
def test_phase_diagram_download_failure_is_one_clear_error(tmp_path, monkeypatch, failure):
    monkeypatch.setenv("MP_API_KEY", KEY)
    FakeRester.entries_error = failure
    with pytest.raises(MPAPIError, match="phase diagram of Li-P-S") as err:
        load_mp_api_entries(["Li-P-S"], cache_dir=tmp_path, rester_factory=FakeRester)
    assert "\n" not in str(err.value) and not list(tmp_path.glob("*.parquet"))


def test_cli_prints_one_line_and_exits_2(tmp_path, monkeypatch, capsys):
    from constrict import cli
    from constrict.data.sources import mp_api

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MP_API_KEY", KEY)
    monkeypatch.setattr(mp_api, "_default_rester_factory", lambda key: (_ for _ in ()).throw(network_down()))
    assert cli.main(["window", "Li3PS4", "--source", "mp_api"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("constrict: error: mp-api: cannot reach the Materials Project")


@pytest.mark.parametrize(("formula", "rule"), [("Li7P3S11", "oqmd_formula"),
                                              ("Li2PS3", "densest_plausible_polymorph")])
def test_a_vacuum_cell_is_caught_on_the_mp_api_path(formula, rule):
    """A structure 8 times too large (as MP's 2D and molecular cells are) is replaced: its other
    polymorph where the fetch has one, else OQMD's volume from the embedded snapshot."""
    entries = fixture_entries()
    ground = entries_to_frame(entries, fixture_docs()).set_index("reduced_formula").loc[formula]
    [entry] = [e for e in entries if legacy_material_id(e.data.get("material_id")) == ground["material_id"]]
    entry.structure.scale_lattice(entry.structure.volume * 8)
    df = entries_to_frame(entries, fixture_docs()).set_index("reduced_formula")
    row = df.loc[formula]
    assert row["volume_flag"] == "implausible" and row["volume_reason"].startswith("elemental_ratio")
    assert row["volume_matched_a3"] == pytest.approx(8 * ground["volume_per_atom_a3"])
    assert row["volume_rule"] == rule
    assert row["volume_per_atom_a3"] == pytest.approx(ground["volume_per_atom_a3"], rel=0.1)
    assert (df.drop(index=formula)["volume_flag"] == "plausible").all()

"""The on-disk cache of built entry arrays: exact, keyed by content, robust to damage."""

import json
import logging
import os
import pickle
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from constrict.core import paths
from constrict.data import entry_cache
from constrict.data.entries import EntrySet
from constrict.data.sources import load_entries
from constrict.data.sources.schema import write_entries

SYSTEMS = ["Li-Nb-O-P-S", "Li-Ge-P-S"]


@pytest.fixture
def table() -> pd.DataFrame:
    return load_entries("mp_offline", chemical_systems=SYSTEMS)


@pytest.fixture
def data_dir(tmp_path, table, monkeypatch):
    """A data folder with a small mp_offline.parquet; cache in tmp_path/cache."""
    folder = tmp_path / "data"
    folder.mkdir()
    write_entries(table, folder / "mp_offline.parquet")
    monkeypatch.setenv(paths.CACHE_DIR_ENV, str(tmp_path / "cache"))
    return folder


def assert_same(a: EntrySet, b: EntrySet) -> None:
    assert a.elements == b.elements
    for name in ("comp", "energy_per_atom_ev", "volume_per_atom_a3", "e_above_hull_ev", "stable"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and x.shape == y.shape
        assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), name
    for name in ("entry_ids", "reduced_formulas"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype == object and x.tolist() == y.tolist()
        assert {type(v) for v in x} == {str}
    assert list(a._groups) == list(b._groups)
    assert all(np.array_equal(a._groups[k], b._groups[k]) for k in a._groups)


def no_rebuild(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("rebuilt although the cache holds the table")

    monkeypatch.setattr(EntrySet, "from_frame", fail)


def test_cache_hit_equals_fresh_build(tmp_path, table, monkeypatch):
    fresh = EntrySet.from_frame(table)
    first = entry_cache.entry_set_from_frame(table, folder=tmp_path)
    assert_same(first, fresh)
    assert len(list(tmp_path.glob("entries-*.npz"))) == 1
    no_rebuild(monkeypatch)
    hit = entry_cache.entry_set_from_frame(table, folder=tmp_path)
    assert_same(hit, fresh)
    pd.testing.assert_frame_equal(hit.frame, fresh.frame)


def test_snapshot_hit_reads_the_table_lazily(data_dir, table, monkeypatch):
    fresh = EntrySet.from_frame(table)
    assert_same(entry_cache.load_entry_set(data_dir=data_dir), fresh)
    no_rebuild(monkeypatch)
    hit = entry_cache.load_entry_set(data_dir=data_dir)
    assert_same(hit, fresh)
    assert hit._frame is None
    again = pickle.loads(pickle.dumps(hit))
    pd.testing.assert_frame_equal(again.frame, fresh.frame)
    pd.testing.assert_frame_equal(hit.frame, fresh.frame)


def test_changed_table_invalidates_the_cache(data_dir, table, tmp_path):
    before = entry_cache.load_entry_set(data_dir=data_dir)
    changed = table.copy()
    row = int(np.flatnonzero(changed["reduced_formula"] == "LiNbO3")[0])
    changed.loc[row, "volume_per_atom_a3"] += 1.0
    write_entries(changed, data_dir / "mp_offline.parquet")
    after = entry_cache.load_entry_set(data_dir=data_dir)
    assert after.volume_per_atom_a3[row] == before.volume_per_atom_a3[row] + 1.0
    assert len(list((tmp_path / "cache").glob("entries-*.npz"))) == 2
    assert entry_cache.frame_digest(changed) != entry_cache.frame_digest(table)
    assert entry_cache.frame_digest(table) != entry_cache.frame_digest(table, recompute_hull=True)


@pytest.mark.parametrize("damage", ["truncate", "flip", "wrong_digest"])
def test_damaged_cache_file_is_rebuilt_with_one_log_line(data_dir, table, caplog, damage):
    entry_cache.load_entry_set(data_dir=data_dir)
    digest = entry_cache.file_digest(data_dir / "mp_offline.parquet")
    path = entry_cache.cache_path(digest)
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        middle = len(data) // 2
        path.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :])
    else:
        with np.load(path) as arrays:
            content = dict(arrays)
        content["digest"] = np.array("0" * 64)
        np.savez(path, **content)
    with caplog.at_level(logging.WARNING, logger="constrict.data.entry_cache"):
        rebuilt = entry_cache.load_entry_set(data_dir=data_dir)
    assert_same(rebuilt, EntrySet.from_frame(table))
    records = [r for r in caplog.records if r.name == "constrict.data.entry_cache"]
    assert len(records) == 1 and "unreadable" in records[0].getMessage() and "rebuilding" in records[0].getMessage()
    assert "\n" not in records[0].getMessage()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="constrict.data.entry_cache"):
        entry_cache.load_entry_set(data_dir=data_dir)
    assert not caplog.records


def test_unwritable_cache_folder_still_gives_the_entry_set(tmp_path, table, caplog):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("")
    with caplog.at_level(logging.WARNING, logger="constrict.data.entry_cache"):
        entry_set = entry_cache.entry_set_from_frame(table, folder=blocker)
    assert len(entry_set.comp) == len(table)
    assert len(caplog.records) == 1 and "cannot write entry cache" in caplog.records[0].getMessage()


def test_subset_equals_a_fresh_build_of_its_rows(table):
    full = EntrySet.from_frame(table)
    rows = np.flatnonzero([set(e) <= {"Li", "P", "S"} for e in table["elements"]])
    assert_same(full.subset(rows), EntrySet.from_frame(table.iloc[rows]))
    lazy = EntrySet.from_arrays(
        elements=full.elements,
        comp=full.comp,
        energy_per_atom_ev=full.energy_per_atom_ev,
        volume_per_atom_a3=full.volume_per_atom_a3,
        e_above_hull_ev=full.e_above_hull_ev,
        entry_ids=full.entry_ids,
        reduced_formulas=full.reduced_formulas,
        frame=lambda: table,
    )
    pd.testing.assert_frame_equal(lazy.subset(rows).frame, table.iloc[rows].reset_index(drop=True))


def test_cli_warm_start_imports_no_pandas(data_dir, tmp_path):
    code = (
        "import sys, json; from constrict import cli; "
        f"code = cli.main(['interface', 'Li7P3S11', 'LiNbO3', '--data-dir', {str(data_dir)!r}, '--json']); "
        "heavy = [m for m in ('pandas', 'pyarrow', 'matplotlib', 'dask', 'mp_api', 'sklearn') if m in sys.modules]; "
        "print(json.dumps({'code': code, 'heavy': heavy}))"
    )
    env = {**os.environ, paths.CACHE_DIR_ENV: str(tmp_path / "cache")}
    for _ in range(2):  # first run builds the cache, the second reads it
        out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.splitlines()[-1])
    assert report == {"code": 0, "heavy": []}

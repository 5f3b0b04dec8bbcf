"""On-disk cache of built entry arrays, keyed by the entry table's content.

Building an :class:`~constrict.data.entries.EntrySet` parses every formula of the
table with pymatgen (seconds for the ~93k offline MP entries). The arrays
it yields depend only on the table, so they are stored once per table in
:func:`constrict.core.paths.cache_dir` as an uncompressed ``.npz`` named by a
SHA-256 of the table: the snapshot file's bytes, or for any other table
(custom entries merged in, mp-api) the columns the arrays are built from.
A changed table has another name and is built afresh.

Files are written atomically (temporary file, then ``os.replace``) and read
without pickle. A file that cannot be read, fails its zip CRC, or does not
match its name is reported in one log line and rebuilt, never used. The
folder may be deleted at any time.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from constrict.core.errors import SchemaError
from constrict.core.paths import DATA_DIR_ENV, cache_dir, snapshot_path
from constrict.data.entries import EntrySet

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

CACHE_FORMAT = 2
"""Version of the cache layout and of the build it stores; part of every key."""

_TABLE_COLUMNS = ("entry_id", "reduced_formula", "energy_per_atom_ev", "volume_per_atom_a3", "e_above_hull_ev")


def _hasher(kind: str):
    return hashlib.sha256(f"constrict-entry-arrays-v{CACHE_FORMAT}:{kind}\0".encode())


def file_digest(path: str | os.PathLike) -> str:
    """SHA-256 (hex) of a snapshot file's bytes and the cache format.

    Parameters
    ----------
    path : str or path-like
        Entry table file (Parquet).
    """
    digest = _hasher("file")
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def frame_digest(df: pd.DataFrame, *, recompute_hull: bool = False) -> str:
    """SHA-256 (hex) of the columns an entry set is built from.

    Parameters
    ----------
    df : pandas.DataFrame
        Entry table; only entry_id, reduced_formula, energy_per_atom_ev,
        volume_per_atom_a3 and e_above_hull_ev (if present) count, in row
        order.
    recompute_hull : bool
        As in :meth:`EntrySet.from_frame`; part of the key.
    """
    digest = _hasher(f"frame:recompute_hull={recompute_hull}:rows={len(df)}")
    for name in _TABLE_COLUMNS:
        if name not in df.columns:
            digest.update(f"\0no {name}\0".encode())
            continue
        digest.update(f"\0{name}\0".encode())
        column = df[name]
        if name in ("entry_id", "reduced_formula"):
            digest.update("\x1f".join(column.astype(str)).encode())
        else:
            digest.update(column.to_numpy(dtype=np.float64, na_value=np.nan).tobytes())
    return digest.hexdigest()


def cache_path(digest: str, folder: str | os.PathLike | None = None) -> Path:
    """The cache file of a table digest (it may not exist)."""
    return Path(folder if folder is not None else cache_dir()) / f"entries-{digest[:32]}.npz"


def _to_arrays(entry_set: EntrySet, digest: str) -> dict[str, np.ndarray]:
    rows, cols = np.nonzero(entry_set.comp)
    return {
        "format": np.array(CACHE_FORMAT),
        "digest": np.array(digest),
        "elements": np.array(entry_set.elements, dtype=str),
        "n_entries": np.array(len(entry_set.comp)),
        "comp_rows": rows.astype(np.int32),
        "comp_cols": cols.astype(np.int16),
        "comp_values": entry_set.comp[rows, cols],
        "energy_per_atom_ev": entry_set.energy_per_atom_ev,
        "volume_per_atom_a3": entry_set.volume_per_atom_a3,
        "e_above_hull_ev": entry_set.e_above_hull_ev,
        "entry_ids": _pack_strings(entry_set.entry_ids),
        "reduced_formulas": _pack_strings(entry_set.reduced_formulas),
    }


def _pack_strings(values: np.ndarray) -> np.ndarray:
    """NUL-separated UTF-8 of str values, as an ndarray of uint8 (faster to read back than a str array)."""
    return np.frombuffer("\0".join(values.tolist()).encode(), dtype=np.uint8)


def _unpack_strings(packed: np.ndarray, n: int) -> np.ndarray:
    out = np.empty(n, dtype=object)
    out[:] = packed.tobytes().decode().split("\0") if n else []
    return out


def _from_arrays(arrays, digest: str, frame) -> EntrySet:
    if int(arrays["format"]) != CACHE_FORMAT or str(arrays["digest"]) != digest:
        raise ValueError("format or digest does not match the file name")
    elements = arrays["elements"].tolist()
    n = int(arrays["n_entries"])
    comp = np.zeros((n, len(elements)))
    comp[arrays["comp_rows"], arrays["comp_cols"]] = arrays["comp_values"]
    return EntrySet.from_arrays(
        elements=elements,
        comp=comp,
        energy_per_atom_ev=arrays["energy_per_atom_ev"],
        volume_per_atom_a3=arrays["volume_per_atom_a3"],
        e_above_hull_ev=arrays["e_above_hull_ev"],
        entry_ids=_unpack_strings(arrays["entry_ids"], n),
        reduced_formulas=_unpack_strings(arrays["reduced_formulas"], n),
        frame=frame,
    )


def read_cached(digest: str, *, frame=None, folder: str | os.PathLike | None = None) -> EntrySet | None:
    """The cached entry set of a table digest, or None if there is none usable.

    Parameters
    ----------
    digest : str
        :func:`file_digest` or :func:`frame_digest` of the table.
    frame : pandas.DataFrame or callable, optional
        The table, or a loader of it, for :attr:`EntrySet.frame`.
    folder : str or path-like, optional
        Cache folder (default :func:`constrict.core.paths.cache_dir`).

    Returns
    -------
    EntrySet or None
        None if the file is absent, or unreadable (logged in one line).
    """
    path = cache_path(digest, folder)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as arrays:
            return _from_arrays(arrays, digest, frame)
    except Exception as err:  # any damage: zip, CRC, npy header, shapes
        reason = " ".join(f"{type(err).__name__}: {err}".split())
        log.warning("entry cache %s is unreadable (%s); rebuilding it", path, reason)
        return None


def write_cached(entry_set: EntrySet, digest: str, *, folder: str | os.PathLike | None = None) -> Path | None:
    """Store an entry set's arrays under a table digest, atomically.

    Returns
    -------
    Path or None
        The file written, or None if the folder is not writable (logged in
        one line; the caller goes on without a cache).
    """
    return _write_npz(cache_path(digest, folder), _to_arrays(entry_set, digest))


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> Path | None:
    """Write ``arrays`` to ``path`` atomically; None (logged in one line) if the folder is not writable."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.name + ".", suffix=".tmp", delete=False) as fh:
            tmp = fh.name
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as err:
        log.warning("cannot write entry cache %s (%s); continuing without it", path, " ".join(str(err).split()))
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        return None
    return path


def cached_arrays(key: str, build, *, folder: str | os.PathLike | None = None) -> dict[str, np.ndarray]:
    """Float arrays derived from a table, stored in the cache folder under ``key``.

    Parameters
    ----------
    key : str
        Names everything the arrays depend on (e.g. a :func:`file_digest` and
        the model that made them); hashed into the file name.
    build : callable
        Returns the dict of arrays when the cache has none (or an unreadable one).
    folder : str or path-like, optional
        Cache folder (default :func:`constrict.core.paths.cache_dir`).
    """
    name = hashlib.sha256(f"constrict-arrays-v{CACHE_FORMAT}:{key}".encode()).hexdigest()[:32]
    path = Path(folder if folder is not None else cache_dir()) / f"arrays-{name}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as stored:
                return {k: stored[k] for k in stored.files}
        except Exception as err:  # any damage: zip, CRC, npy header
            reason = " ".join(f"{type(err).__name__}: {err}".split())
            log.warning("cache %s is unreadable (%s); rebuilding it", path, reason)
    arrays = build()
    _write_npz(path, arrays)
    return arrays


def entry_set_from_frame(
    df: pd.DataFrame,
    *,
    recompute_hull: bool = False,
    use_cache: bool = True,
    folder: str | os.PathLike | None = None,
) -> EntrySet:
    """:meth:`EntrySet.from_frame`, with the built arrays cached on disk.

    Parameters
    ----------
    df : pandas.DataFrame
        Entry table (docs/schema.md).
    recompute_hull : bool
        As in :meth:`EntrySet.from_frame`.
    use_cache : bool
        False builds without reading or writing the cache.
    folder : str or path-like, optional
        Cache folder (default :func:`constrict.core.paths.cache_dir`).
    """
    if not use_cache:
        return EntrySet.from_frame(df, recompute_hull=recompute_hull)
    digest = frame_digest(df, recompute_hull=recompute_hull)
    return _cached(digest, lambda: EntrySet.from_frame(df, recompute_hull=recompute_hull), df, folder)


def _cached(digest: str, build, frame, folder) -> EntrySet:
    entry_set = read_cached(digest, frame=frame, folder=folder)
    if entry_set is None:
        entry_set = build()
        write_cached(entry_set, digest, folder=folder)
    return entry_set


def _snapshot_frame(source: str, path: str) -> pd.DataFrame:
    from constrict.data.sources import load_entries

    return load_entries(source, path=path).reset_index(drop=True)


def load_entry_set(
    source: str = "mp_offline",
    *,
    custom: str | os.PathLike | pd.DataFrame | None = None,
    data_dir: str | os.PathLike | None = None,
    use_cache: bool = True,
) -> EntrySet:
    """The entry set of a source, custom entries merged in, from the cache when it can.

    An offline snapshot without custom entries is keyed by its file bytes,
    so a cache hit reads neither the Parquet file nor pandas; its
    :attr:`EntrySet.frame` is read on first use.

    Parameters
    ----------
    source : {"mp_offline", "oqmd_offline", "mp_api"}
        Which data (:func:`constrict.data.sources.load_entries`).
    custom : str, path-like or DataFrame, optional
        Custom entries merged in.
    data_dir : str or path-like, optional
        Folder of the offline snapshots (:func:`constrict.core.paths.data_dir`).
    use_cache : bool
        False always builds (no cache read or written).

    Raises
    ------
    SchemaError
        The snapshot file is not in the data folder.
    ConfigError
        ``data_dir`` (or ``$CONSTRICT_DATA_DIR``) is not a folder.
    """
    if source == "mp_api":
        from constrict.data.sources import load_entries

        return entry_set_from_frame(load_entries(source, custom=custom), use_cache=use_cache)
    path = snapshot_path(source, data_dir)
    if not path.is_file():
        raise SchemaError(
            f"snapshot {path.name} not found in {path.parent}; pass --data-dir or set {DATA_DIR_ENV} "
            "to the folder holding it (or build it with 'make snapshot' in the repository)"
        )
    if custom is not None or not use_cache:
        from constrict.data.sources import load_entries

        return entry_set_from_frame(load_entries(source, path=path, custom=custom), use_cache=use_cache)
    loader = functools.partial(_snapshot_frame, source, str(path))
    return _cached(file_digest(path), lambda: EntrySet.from_frame(loader()), loader, None)

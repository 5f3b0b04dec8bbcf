"""Entry data: offline MP and OQMD snapshots, mp-api, custom entries.

Every source gives one entry table (docs/schema.md); see docs/data.md for
the rules that build each one.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path

import pandas as pd

from constrict.core.errors import SchemaError
from constrict.core.paths import SNAPSHOT_FILES, snapshot_path
from constrict.data.sources.schema import ENTRY_COLUMNS, SOURCES, read_entries, validate_entries

__all__ = ["ENTRY_COLUMNS", "SOURCES", "load_entries", "validate_entries"]

SNAPSHOTS = SNAPSHOT_FILES
"""Offline source -> snapshot file name, found by :func:`constrict.core.paths.snapshot_path`."""


@cache
def _read_snapshot(path: Path, mtime_ns: int) -> pd.DataFrame:
    return read_entries(path)


def load_entries(
    source: str = "mp_offline",
    *,
    path: str | Path | None = None,
    custom: str | Path | pd.DataFrame | None = None,
    chemical_systems: Iterable[str] | None = None,
    cache_dir: str | Path | None = None,
    rester_factory=None,
) -> pd.DataFrame:
    """Load an entry table from one source, optionally with custom entries.

    Parameters
    ----------
    source : {"mp_offline", "oqmd_offline", "mp_api"}
        Which data. Offline snapshots are read once per process (cached);
        callers get a copy.
    path : str or Path, optional
        Snapshot file for the offline sources (default: ``<source>.parquet``
        in :func:`constrict.core.paths.data_dir`, i.e. ``$CONSTRICT_DATA_DIR`` or
        the package's own data).
    custom : str, Path or DataFrame, optional
        Custom entries (CSV/YAML file or table) merged in; a custom row
        replaces the source's row of the same composition, with a warning.
    chemical_systems : iterable of str, optional
        Offline: keep only entries whose elements lie inside one of these
        systems (e.g. ``["Li-P-S"]`` keeps Li, P, S, Li2S, P2S5, Li3PS4...).
        mp_api: the systems to fetch, in one call for the union of their
        elements (at most 9, thermo type GGA_GGA+U_R2SCAN); None fetches all
        of Materials Project (thermo type GGA_GGA+U). docs/data.md says why.
    cache_dir : str or Path, optional
        mp_api cache directory (default ``cache/mp_api``).
    rester_factory : callable, optional
        mp_api only: builds the MPRester (tests inject a fake).

    Returns
    -------
    pandas.DataFrame
        Validated entry table, shape (n_entries, 16).
    """
    if source == "mp_api":
        from constrict.data.sources.mp_api import DEFAULT_CACHE_DIR, load_mp_api_entries

        df = load_mp_api_entries(
            chemical_systems,
            cache_dir=cache_dir or DEFAULT_CACHE_DIR,
            rester_factory=rester_factory,
        )
    elif source in SNAPSHOTS:
        snapshot = Path(path) if path is not None else snapshot_path(source)
        if not snapshot.is_file():
            raise SchemaError(
                f"snapshot {snapshot} not found; build it with "
                f"'python scripts/build_snapshot.py --source {source}' (or 'make snapshot')"
            )
        df = _read_snapshot(snapshot.resolve(), snapshot.stat().st_mtime_ns).copy()
        if chemical_systems is not None:
            df = restrict_to_chemical_systems(df, chemical_systems)
    else:
        raise SchemaError(f"unknown source {source!r}; use one of mp_offline, oqmd_offline, mp_api")
    if custom is not None:
        from constrict.data.sources.custom import merge_custom_entries

        df = merge_custom_entries(df, custom)
    return df


SUBSYSTEM_LIMIT = 12
"""Systems of at most this many elements have their subsystems listed (2**12 - 1 = 4,095)."""


def restrict_to_chemical_systems(df: pd.DataFrame, chemical_systems: Iterable[str]) -> pd.DataFrame:
    """Rows whose elements all lie inside at least one of the chemical systems.

    e_above_hull_ev is unchanged: a row's hull involves only its own
    subsystems, which the restriction keeps whole.

    Every subsystem of the (up to :data:`SUBSYSTEM_LIMIT`-element) systems
    is listed once and each row's system looked up, so hundreds of
    systems cost no more than one; larger systems are tested row by row.
    """
    from itertools import combinations

    from constrict.data.sources.mp_api import normalize_chemical_system

    systems = {normalize_chemical_system(c) for c in chemical_systems}
    allowed, large = set(), []
    for system in systems:
        parts = system.split("-")
        if len(parts) > SUBSYSTEM_LIMIT:
            large.append(set(parts))
            continue
        for k in range(1, len(parts) + 1):
            allowed.update("-".join(sub) for sub in combinations(parts, k))

    def inside(els) -> bool:
        return "-".join(sorted(els)) in allowed or any(set(els) <= s for s in large)

    keep = df["elements"].map(inside)
    return df[keep].reset_index(drop=True)

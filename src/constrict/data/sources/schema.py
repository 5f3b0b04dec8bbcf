"""The entry table: its columns, their validation and Parquet I/O.

docs/schema.md documents the columns. Every source (offline MP, offline
OQMD, mp-api, custom entries) produces this one table.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pymatgen.core import Composition, Element

from constrict.core.errors import SchemaError, UnknownFormulaError
from constrict.data.tables import write_table

SOURCES = ("mp_offline", "oqmd_offline", "mp_api", "custom")
"""Values allowed in the ``source`` column."""

VOLUME_FLAGS = ("plausible", "implausible")
"""Values of the ``volume_flag`` column (constrict.data.sources.quality): the verdict on the matched volume."""

ENTRY_COLUMNS: dict[str, str] = {
    "entry_id": "str",
    "material_id": "str?",
    "formula": "str",
    "reduced_formula": "str",
    "chemical_system": "str",
    "elements": "list",
    "nelements": "int",
    "energy_per_atom_ev": "float",
    "volume_per_atom_a3": "float?",
    "band_gap_ev": "float?",
    "band_gap_rule": "str?",
    "e_above_hull_ev": "float",
    "source": "str",
    "volume_rule": "str",
    "n_polymorphs": "int",
    "volume_spread": "float?",
    "volume_flag": "str",
    "volume_reason": "str?",
    "volume_matched_a3": "float?",
    "volume_elemental_a3": "float?",
    "volume_oqmd_a3": "float?",
    "energy_oqmd_ev": "float?",
    "energy_flag": "str?",
}
"""Column -> kind; a trailing ``?`` marks a nullable column."""

_ARROW_TYPES = {
    "str": pa.string(),
    "list": pa.list_(pa.string()),
    "int": pa.int64(),
    "float": pa.float64(),
}


def parse_formula(formula: str) -> Composition:
    """Parse a formula strictly (pymatgen Composition, no oxidation states).

    Raises
    ------
    UnknownFormulaError
        If pymatgen cannot parse it or it has no atoms.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            comp = Composition(str(formula).strip())
    except Exception as exc:  # pymatgen raises ValueError, KeyError, ...
        raise UnknownFormulaError(f"cannot parse formula {formula!r}: {exc}") from None
    unknown = [getattr(el, "symbol", str(el)) for el in comp.elements if not isinstance(el, Element)]
    if unknown:  # pymatgen reads unknown symbols as dummy species
        raise UnknownFormulaError(f"cannot parse formula {formula!r}: {unknown[0]} is not an element")
    if comp.num_atoms <= 0 or any(amt < 0 for amt in comp.values()):
        raise UnknownFormulaError(f"formula {formula!r} has no atoms or negative amounts")
    return comp


def composition_fields(comp: Composition) -> dict:
    """The composition columns of an entry row.

    Returns
    -------
    dict
        reduced_formula, chemical_system, elements (sorted list of str),
        nelements.
    """
    elements = sorted(el.symbol for el in comp.elements)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no-electronegativity warnings for noble gases
        reduced = comp.reduced_formula
    return {
        "reduced_formula": reduced,
        "chemical_system": "-".join(elements),
        "elements": elements,
        "nelements": len(elements),
    }


def cell_key(comp: Composition) -> str:
    """Canonical text of an unreduced composition, e.g. ``"Li2 S1"``.

    Elements sorted by symbol, amounts as ``%g``: two spellings of the same
    cell formula ("Li2S1", "S1 Li2") give the same key.
    """
    return " ".join(f"{el.symbol}{comp[el]:g}" for el in sorted(comp.elements, key=lambda e: e.symbol))


def finalize_entries(df: pd.DataFrame) -> pd.DataFrame:
    """Order columns, set dtypes and sort rows (by entry_id) of an entry table."""
    out = df.copy()
    for col, kind in ENTRY_COLUMNS.items():
        if col not in out.columns:
            if not kind.endswith("?"):
                raise SchemaError(f"entry table lacks column {col!r}; see docs/schema.md")
            out[col] = None
    out = out[list(ENTRY_COLUMNS)]
    for col, kind in ENTRY_COLUMNS.items():
        base = kind.rstrip("?")
        if base == "str":
            out[col] = out[col].astype("str")  # pandas' str dtype: missing values are NaN
        elif base == "int":
            out[col] = out[col].astype("int64")
        elif base == "float":
            out[col] = out[col].astype("float64")
        elif base == "list":
            out[col] = out[col].map(lambda v: [str(x) for x in v] if isinstance(v, (list, tuple, np.ndarray)) else v)
    return out.sort_values("entry_id", kind="stable").reset_index(drop=True)


def validate_entries(df: pd.DataFrame) -> pd.DataFrame:
    """Check an entry table against docs/schema.md.

    Checks the columns, their types, nulls (volume > 0, null only where
    volume_rule is ``unknown``, volume_flag one of ``VOLUME_FLAGS``),
    unique entry_id and unique reduced_formula (one row per composition),
    the allowed sources and that every element present has a row at
    energy 0 (formation energies).

    Parameters
    ----------
    df : pandas.DataFrame
        The entry table, shape (n_entries, len(ENTRY_COLUMNS)).

    Returns
    -------
    pandas.DataFrame
        ``df`` itself, unchanged.

    Raises
    ------
    SchemaError
        One line naming the first problem found.
    """
    if not isinstance(df, pd.DataFrame):
        raise SchemaError(f"entry table must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in ENTRY_COLUMNS if c not in df.columns]
    if missing:
        raise SchemaError(f"entry table lacks columns {missing}; see docs/schema.md")
    if df.empty:
        raise SchemaError("entry table has no rows")
    for col, kind in ENTRY_COLUMNS.items():
        _check_column(df, col, kind)
    _check_volumes(df)
    for col in ("entry_id", "reduced_formula"):
        dup = df[col].duplicated()
        if dup.any():
            raise SchemaError(f"{col} must be unique; {df.loc[dup, col].iloc[0]!r} appears twice")
    bad_source = ~df["source"].isin(SOURCES)
    if bad_source.any():
        raise SchemaError(f"source must be one of {SOURCES}; got {df.loc[bad_source, 'source'].iloc[0]!r}")
    _check_elements_at_zero(df)
    return df


def _check_column(df: pd.DataFrame, col: str, kind: str) -> None:
    series = df[col]
    nullable = kind.endswith("?")
    base = kind.rstrip("?")
    if not nullable and series.isna().any():
        raise SchemaError(f"column {col!r} has nulls (first at row {int(np.flatnonzero(series.isna())[0])})")
    if base == "float" and not pd.api.types.is_float_dtype(series):
        raise SchemaError(f"column {col!r} must be float, got {series.dtype}")
    if base == "int" and not pd.api.types.is_integer_dtype(series):
        raise SchemaError(f"column {col!r} must be integer, got {series.dtype}")
    if base == "str" and not (pd.api.types.is_string_dtype(series) or series.dtype == object):
        raise SchemaError(f"column {col!r} must be string, got {series.dtype}")
    if base == "str" and not series.dropna().map(lambda v: isinstance(v, str)).all():
        raise SchemaError(f"column {col!r} must hold strings only")
    if base == "list" and not series.map(lambda v: isinstance(v, (list, np.ndarray))).all():
        raise SchemaError(f"column {col!r} must hold lists of element symbols")
    if base == "float" and not nullable and not np.all(np.isfinite(series.to_numpy(dtype=float))):
        raise SchemaError(f"column {col!r} must be finite")


def _check_volumes(df: pd.DataFrame) -> None:
    vol = df["volume_per_atom_a3"].to_numpy(dtype=float, na_value=np.nan)
    unknown = (df["volume_rule"] == "unknown").to_numpy()
    bad = ~(vol > 0) & ~(unknown & np.isnan(vol))
    if bad.any():
        raise SchemaError(
            f"volume_per_atom_a3 must be > 0 (null only with volume_rule 'unknown'); "
            f"{df['reduced_formula'].iloc[np.flatnonzero(bad)[0]]!r} has {vol[bad][0]}"
        )
    if (unknown & ~np.isnan(vol)).any():
        raise SchemaError("volume_rule 'unknown' must come with a null volume_per_atom_a3")
    flags = ~df["volume_flag"].isin(VOLUME_FLAGS)
    if flags.any():
        raise SchemaError(f"volume_flag must be one of {VOLUME_FLAGS}; got {df.loc[flags, 'volume_flag'].iloc[0]!r}")


def _check_elements_at_zero(df: pd.DataFrame) -> None:
    unary = df[df["nelements"] == 1]
    present = {el for els in df["elements"] for el in els}
    zero = {els[0] for els, e in zip(unary["elements"], unary["energy_per_atom_ev"], strict=True) if e == 0.0}
    lacking = sorted(present - zero)
    if lacking:
        raise SchemaError(f"elements {lacking[:5]} have no elemental row at energy 0 (formation energies need them)")
    below = unary[unary["energy_per_atom_ev"] < 0]
    if not below.empty:
        raise SchemaError(f"elemental row {below['reduced_formula'].iloc[0]!r} lies below 0 eV/atom")


ENTRY_ROW_GROUP_SIZE = 1 << 20
"""Rows per row group of an entry table: pyarrow's default, so a snapshot is one
row group and ``make snapshot`` rebuilds the committed files byte for byte."""


def write_entries(df: pd.DataFrame, path: str | Path, metadata: dict[str, str] | None = None) -> Path:
    """Validate and write an entry table as Parquet (no index, fixed schema), atomically.

    Parameters
    ----------
    df : pandas.DataFrame
        The entry table; columns beyond ENTRY_COLUMNS are left out.
    path : str or Path
        Destination (``constrict.data.tables.write_table``: a temp file renamed over it).
    metadata : dict of str, optional
        Key-value metadata stored in the file (e.g. mp-api's thermo type and
        MP database version).
    """
    validate_entries(df)
    schema = pa.schema([(c, _ARROW_TYPES[k.rstrip("?")]) for c, k in ENTRY_COLUMNS.items()])
    write_table(df[list(ENTRY_COLUMNS)], path, schema=schema, metadata=metadata, row_group_size=ENTRY_ROW_GROUP_SIZE)
    return Path(path)


def read_entries(path: str | Path) -> pd.DataFrame:
    """Read and validate an entry table from Parquet.

    Raises
    ------
    SchemaError
        If the file is missing, not Parquet, or breaks the schema.
    """
    path = Path(path)
    if not path.is_file():
        raise SchemaError(f"entry file {path} does not exist")
    try:
        df = pq.read_table(path).to_pandas()
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ...
        reason = type(exc).__name__
        raise SchemaError(f"cannot read {path} as Parquet ({reason}); rebuild or replace the file") from None
    try:
        return validate_entries(finalize_entries(df))
    except (SchemaError, ValueError, TypeError) as exc:
        raise SchemaError(f"{path}: {str(exc).splitlines()[0]}") from None

"""Parquet tables of the campaign: the screen result schema, rows and I/O.

Every table is Parquet, written atomically (temp file, then rename) and
deterministically (fixed schema, sort order and row-group size, no pandas
metadata), so the same inputs give byte-identical files. This module needs
no physics: every workflow step may import it cheaply.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from constrict.core.errors import SchemaError

ROW_GROUP_SIZE = 65_536
"""Rows per Parquet row group (fixed, so files are byte-reproducible)."""

RESULT_SCHEMA = pa.schema(
    [
        ("electrolyte", pa.string()),
        ("electrolyte_label", pa.string()),
        ("working_ion", pa.string()),
        ("coating_id", pa.string()),
        ("coating_formula", pa.string()),
        ("chemical_system", pa.string()),
        ("convention", pa.string()),
        ("reacts", pa.bool_()),
        ("mutual", pa.bool_()),
        ("x_m", pa.float64()),
        ("e_rxn_ev_per_atom", pa.float64()),
        ("e_rxn_mutual_ev_per_atom", pa.float64()),
        ("sei_composition", pa.string()),
        ("sei_products", pa.string()),
        ("voltage_v", pa.float64()),
        ("products", pa.string()),
        ("ion_released_per_atom", pa.float64()),
        ("dg_ev_per_atom", pa.float64()),
        ("v_r_a3_per_atom", pa.float64()),
        ("v_p_a3_per_atom", pa.float64()),
        ("v_metal_a3_per_atom", pa.float64()),
        ("eps_ion_metal", pa.float64()),
        ("eps_reservoir", pa.float64()),
        ("eps_released_metal", pa.float64()),
        ("kcrit_gpa", pa.float64()),
        ("kcrit_sc_gpa", pa.float64()),
        ("kcrit_lo_gpa", pa.float64()),
        ("kcrit_hi_gpa", pa.float64()),
        ("kcrit_determined", pa.bool_()),
        ("eps_sigma", pa.float64()),
        ("dg_sigma_ev_per_atom", pa.float64()),
        ("status", pa.string()),
        ("error", pa.string()),
    ]
)
"""Screen result columns and types: one row per electrolyte x coating x voltage
(docs/campaign.md lists units; ``electrolyte_label`` is set by the campaign)."""

RESULT_COLUMNS = tuple(RESULT_SCHEMA.names)
"""Screen result column names, in order."""


RESULT_SORT = ["electrolyte", "coating_id", "voltage_v"]

_FLOAT_FIELDS = [f.name for f in RESULT_SCHEMA if pa.types.is_floating(f.type) and f.name != "voltage_v"]
_STRING_FIELDS = ["sei_composition", "sei_products", "products"]
_BOOL_FIELDS = [f.name for f in RESULT_SCHEMA if pa.types.is_boolean(f.type)]


def write_table(
    df: pd.DataFrame,
    path: str | Path,
    schema: pa.Schema | None = None,
    metadata: dict[str, str] | None = None,
    *,
    row_group_size: int = ROW_GROUP_SIZE,
) -> None:
    """Write ``df`` to Parquet atomically and byte-reproducibly.

    Parameters
    ----------
    df : DataFrame
        Must hold exactly the columns of ``schema`` (any order).
    path : str or Path
        Destination; a temp file beside it is renamed over it at the end, so a
        killed writer leaves no partial output.
    schema : pyarrow.Schema, optional
        Column names, order and types; None keeps the frame's own columns and
        the types Arrow infers.
    metadata : dict of str, optional
        Key-value metadata stored in the file's schema (in place of pandas'
        own, which is always dropped).
    row_group_size : int
        Rows per row group; fixed, so that the bytes are reproducible.
    """
    if schema is not None:
        missing = [n for n in schema.names if n not in df.columns]
        extra = [c for c in df.columns if c not in schema.names]
        if missing or extra:
            raise SchemaError(f"table for {Path(path).name}: missing columns {missing}, unexpected {extra}")
        df = df[schema.names]
    table = pa.Table.from_pandas(df, schema=schema, preserve_index=False)
    table = table.replace_schema_metadata(dict(sorted(metadata.items())) if metadata else None)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, tmp, row_group_size=row_group_size, compression="zstd")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_results(path: str | Path) -> pd.DataFrame:
    """Read a shard or the gathered screen, checking the result schema."""
    table = pq.read_table(path)
    if table.schema.names != RESULT_SCHEMA.names:
        raise SchemaError(f"{path}: columns {table.schema.names} do not match the screen result schema")
    return table.to_pandas()



def results_frame(rows: Iterable[dict] | pd.DataFrame) -> pd.DataFrame:
    """Result rows as a DataFrame with the contract columns, types and sort order."""
    df = rows.copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    if df.empty:
        return pd.DataFrame({f.name: pd.Series(dtype=f.type.to_pandas_dtype()) for f in RESULT_SCHEMA})
    missing = [n for n in RESULT_SCHEMA.names if n not in df.columns]
    extra = [c for c in df.columns if c not in RESULT_SCHEMA.names]
    if missing or extra:
        raise SchemaError(f"engine rows break the result contract: missing {missing}, unexpected {extra}")
    df = df[RESULT_SCHEMA.names]
    for name in _FLOAT_FIELDS + ["voltage_v"]:
        df[name] = df[name].astype("float64")
    for name in _BOOL_FIELDS:
        df[name] = df[name].astype(bool)
    return df.sort_values(RESULT_SORT, kind="mergesort").reset_index(drop=True)




def error_rows(pair: dict[str, Any], voltages_v: Sequence[float], convention: str, exc: Exception) -> list[dict]:
    """Result rows (one per voltage) for a pair that failed: ``status`` "error" and one line of text."""
    message = " ".join(str(exc).split()) or "no message"
    error = f"{type(exc).__name__}: {message}"[:500]
    base = {name: np.nan for name in _FLOAT_FIELDS}
    base.update({name: "{}" for name in _STRING_FIELDS})
    base.update(
        electrolyte=pair["electrolyte"], electrolyte_label=pair["electrolyte_label"],
        working_ion=pair["working_ion"], coating_id=pair["coating_id"],
        coating_formula=pair["coating_formula"], chemical_system=pair["chemical_system"],
        convention=convention, status="error", error=error, **dict.fromkeys(_BOOL_FIELDS, False),
    )
    return [{**base, "voltage_v": float(v)} for v in voltages_v]

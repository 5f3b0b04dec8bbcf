"""Custom entries: extra phases from a CSV or YAML file, merged into any source.

File format (docs/data.md): one phase per row with ``formula``,
``energy_per_atom_ev`` (formation energy per atom, elements at 0, on the
same energy scale as the source it is merged into), ``volume_per_atom_a3``,
and optionally ``band_gap_ev``, ``material_id``, ``note`` / ``source``
(free text, for the reader of the file; not stored).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from constrict.core.errors import ConstrictError, SchemaError
from constrict.data.sources.quality import elemental_estimate, elemental_volumes, implausible_reasons, warn_implausible
from constrict.data.sources.schema import VOLUME_FLAGS, composition_fields, finalize_entries, parse_formula

REQUIRED = ("formula", "energy_per_atom_ev", "volume_per_atom_a3")
OPTIONAL = ("band_gap_ev", "material_id", "note", "source")


def read_custom_entries(path: str | Path) -> pd.DataFrame:
    """Read and check a custom-entry file (.csv, .yaml or .yml).

    Returns
    -------
    pandas.DataFrame
        Entry table rows (docs/schema.md) with source "custom", entry_id
        ``custom:<reduced formula>``, volume_rule "custom" and
        e_above_hull_ev NaN (set when merged).

    Raises
    ------
    SchemaError
        One line listing every bad row as ``row N: reason`` (N counts data
        rows from 1; in a CSV, row N is line N + 1).
    """
    path = Path(path)
    records = _read_records(path)
    rows, problems, seen = [], [], {}
    for number, record in enumerate(records, start=1):
        try:
            row = _parse_record(record)
        except ConstrictError as exc:
            problems.append(f"row {number}: {exc}")
            continue
        first = seen.setdefault(row["reduced_formula"], number)
        if first != number:
            problems.append(f"row {number}: composition {row['reduced_formula']} repeats row {first}")
            continue
        rows.append(row)
    if problems:
        raise SchemaError(f"custom entries {path}: " + "; ".join(problems))
    if not rows:
        raise SchemaError(f"custom entries {path}: no rows")
    return finalize_entries(pd.DataFrame(rows))


def _read_records(path: Path) -> list[dict]:
    if not path.is_file():
        raise SchemaError(f"custom entries file {path} does not exist")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path, keep_default_na=False, dtype=str, skipinitialspace=True)
            records = frame.to_dict("records")
        elif suffix in (".yaml", ".yml"):
            loaded = yaml.safe_load(path.read_text())
            records = loaded.get("entries") if isinstance(loaded, dict) else loaded
        else:
            raise SchemaError(f"custom entries file {path} must end in .csv, .yaml or .yml")
    except (pd.errors.ParserError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SchemaError(f"cannot read custom entries {path}: {str(exc).splitlines()[0]}") from None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise SchemaError(f"custom entries {path}: expected a list of rows (YAML: a list, or 'entries:' with a list)")
    if records:
        missing = [c for c in REQUIRED if c not in set().union(*records)]
        unknown = sorted(set().union(*records) - set(REQUIRED) - set(OPTIONAL))
        if missing:
            raise SchemaError(f"custom entries {path}: missing columns {missing}; required are {list(REQUIRED)}")
        if unknown:
            allowed = list(REQUIRED + OPTIONAL)
            raise SchemaError(f"custom entries {path}: unknown columns {unknown}; allowed are {allowed}")
    return records


def _number(record: dict, key: str, *, required: bool) -> float:
    value = record.get(key)
    if value is None or (isinstance(value, str) and value.strip() == ""):
        if required:
            raise SchemaError(f"{key} is missing")
        return math.nan
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SchemaError(f"{key} {value!r} is not a number") from None
    if not math.isfinite(number):
        raise SchemaError(f"{key} {value!r} is not finite")
    return number


def _parse_record(record: dict) -> dict:
    formula = record.get("formula")
    if formula is None or str(formula).strip() == "":
        raise SchemaError("formula is missing")
    comp = parse_formula(str(formula))
    energy = _number(record, "energy_per_atom_ev", required=True)
    volume = _number(record, "volume_per_atom_a3", required=True)
    gap = _number(record, "band_gap_ev", required=False)
    if volume <= 0:
        raise SchemaError(f"volume_per_atom_a3 must be > 0, got {volume}")
    if gap < 0:
        raise SchemaError(f"band_gap_ev must be >= 0, got {gap}")
    fields = composition_fields(comp)
    if fields["nelements"] == 1 and energy != 0.0:
        raise SchemaError(f"elemental row {fields['reduced_formula']} must have energy 0 (the elemental reference)")
    material_id = record.get("material_id")
    return {
        "entry_id": f"custom:{fields['reduced_formula']}",
        "material_id": (str(material_id).strip() or None) if material_id is not None else None,
        "formula": str(formula).strip(),
        **fields,
        "energy_per_atom_ev": energy,
        "volume_per_atom_a3": volume,
        "band_gap_ev": gap,
        "band_gap_rule": None if math.isnan(gap) else "custom",
        "e_above_hull_ev": math.nan,
        "source": "custom",
        "volume_rule": "custom",
        "n_polymorphs": 1,
        "volume_spread": 0.0,
        "volume_flag": "plausible",  # checked against the source's elements when merged
        "volume_matched_a3": volume,
    }


def merge_custom_entries(entries: pd.DataFrame, custom: pd.DataFrame | str | Path) -> pd.DataFrame:
    """Add custom rows to an entry table; a custom row replaces the same composition.

    Each replacement is announced with a warning. e_above_hull_ev is
    recomputed for every row whose chemical system contains a custom
    row's chemical system (only those can change).

    Parameters
    ----------
    entries : pandas.DataFrame
        An entry table (docs/schema.md).
    custom : pandas.DataFrame or path
        Custom rows (from :func:`read_custom_entries`) or their file.

    Returns
    -------
    pandas.DataFrame
        The merged, validated entry table.
    """
    from constrict.data.sources.schema import validate_entries

    if not isinstance(custom, pd.DataFrame):
        custom = read_custom_entries(custom)
    present = {el for els in entries["elements"] for el in els}
    foreign = sorted({el for els in custom["elements"] for el in els} - present)
    if foreign:
        raise SchemaError(
            f"custom entries use elements {foreign} absent from the source; add their elemental rows with energy 0"
        )
    replaced = entries["reduced_formula"].isin(custom["reduced_formula"])
    if replaced.any():
        names = ", ".join(entries.loc[replaced, "reduced_formula"])
        warnings.warn(f"custom entries replace the source rows of {names}", stacklevel=2)
    custom = check_custom_volumes(custom, entries)
    merged = pd.concat([entries[~replaced], custom], ignore_index=True)
    merged = finalize_entries(merged)
    changed = merged["source"].eq("custom").to_numpy() & np.isin(merged["entry_id"], custom["entry_id"])
    merged = refresh_e_above_hull(merged, changed)
    return validate_entries(merged)


def check_custom_volumes(custom: pd.DataFrame, entries: pd.DataFrame) -> pd.DataFrame:
    """Judge custom volumes with the source's evidence; warn in one line, keep them as given.

    The evidence: the source's elemental volumes (custom elemental rows
    count too) and the source's OQMD volume for the same formula
    (``volume_oqmd_a3``), as in :mod:`constrict.data.sources.quality`.
    """
    out = custom.copy()
    elemental = elemental_volumes(pd.concat([entries, custom], ignore_index=True).drop_duplicates(
        "reduced_formula", keep="last"))
    oqmd = entries.set_index("reduced_formula")["volume_oqmd_a3"]
    out["volume_elemental_a3"] = elemental_estimate(out["reduced_formula"], elemental)
    out["volume_oqmd_a3"] = out["reduced_formula"].map(oqmd).astype(float)
    reasons = implausible_reasons(out["volume_per_atom_a3"], out["volume_elemental_a3"], out["volume_oqmd_a3"])
    bad = pd.Series(reasons, index=out.index).notna() & (out["nelements"] > 1)
    out["volume_flag"] = np.where(bad, VOLUME_FLAGS[1], VOLUME_FLAGS[0])
    out["volume_reason"] = np.where(bad, reasons, None)
    warn_implausible(out, "custom entries")
    return out


def _element_bits(elements: pd.Series) -> np.ndarray:
    """Element sets as bit masks, shape (n_rows, n_words) of uint64."""
    symbols = sorted({el for els in elements for el in els})
    index = {el: i for i, el in enumerate(symbols)}
    bits = np.zeros((len(elements), len(symbols) // 64 + 1), dtype=np.uint64)
    for row, els in enumerate(elements):
        for el in els:
            word, bit = divmod(index[el], 64)
            bits[row, word] |= np.uint64(1) << np.uint64(bit)
    return bits


def refresh_e_above_hull(df: pd.DataFrame, changed: np.ndarray) -> pd.DataFrame:
    """Recompute e_above_hull_ev where rows marked ``changed`` can move it.

    A row's hull distance depends only on entries whose chemical system is
    inside its own, so the rows whose system contains a changed row's
    system are recomputed over the sub-table of their subsystems.
    """
    from constrict.data.entries import e_above_hull

    bits = _element_bits(df["elements"])

    def subset_of(inner: np.ndarray, outer: np.ndarray) -> np.ndarray:
        return np.all((inner & ~outer) == 0, axis=-1)

    affected = np.zeros(len(df), dtype=bool)
    for row_bits in np.unique(bits[changed], axis=0):
        affected |= subset_of(row_bits[None, :], bits)
    needed = affected.copy()
    for row_bits in np.unique(bits[affected], axis=0):
        needed |= subset_of(bits, row_bits[None, :])
    out = df.copy()
    sub = out[needed]
    values = pd.Series(e_above_hull(sub), index=sub.index)
    out.loc[affected, "e_above_hull_ev"] = values.loc[out.index[affected]].to_numpy()
    return out

"""The data-quality tables: what the entry checks did, and which results they reach.

:mod:`constrict.data.sources.quality` checks every entry's volume and energy
when a table is built and records its verdict in the entry columns
(docs/schema.md). This module counts those verdicts for a campaign's entry
table (also in the snapshot build's log, with the distributions that
justify the thresholds) and lists every entry whose volume was replaced
or whose energy is flagged, with the number of interface-voltages of the screen whose SEI or
products hold it (docs/data.md, "The data-quality tables").
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from constrict.data.entries import STABLE_TOL_EV
from constrict.data.sources.quality import ENERGY_DIFFERENCE_MAX_EV, OQMD_RATIO_MAX

COUNT_COLUMNS = ["check", "value", "n_entries", "n_on_hull"]
"""Columns of ``quality_counts.tsv``."""

CHANGE_COLUMNS = [
    "entry_id", "reduced_formula", "volume_reason", "volume_rule", "volume_old_a3", "volume_new_a3",
    "volume_elemental_a3", "volume_oqmd_a3", "e_above_hull_ev", "on_hull", "n_interface_voltages", "n_in_products",
]
"""Columns of ``quality_changes.tsv``: one row per entry whose volume the check replaced."""

ENERGY_COLUMNS = [
    "entry_id", "reduced_formula", "energy_per_atom_ev", "energy_oqmd_ev", "energy_difference_ev",
    "e_above_hull_ev", "on_hull", "n_interface_voltages", "n_in_products",
]
"""Columns of ``quality_energies.tsv``: one row per entry whose energy differs from OQMD's (flagged only)."""


def quality_counts(df: pd.DataFrame, *, on_hull_ev: float = 1e-6) -> pd.DataFrame:
    """How many entries each check flagged and how each volume was chosen.

    Parameters
    ----------
    df : pandas.DataFrame
        A checked entry table (docs/schema.md).
    on_hull_ev : float
        e_above_hull_ev at or below this (eV/atom) counts as on the hull.

    Returns
    -------
    pandas.DataFrame
        Columns ``check`` (volume_flag, volume_reason, volume_rule or
        energy_flag), ``value``, ``n_entries`` and ``n_on_hull``; one row
        per value present (nulls as ``none``), in that order.
    """
    on_hull = df["e_above_hull_ev"].to_numpy(dtype=float) <= on_hull_ev
    rows = []
    for check in ("volume_flag", "volume_reason", "volume_rule", "energy_flag"):
        values = df[check].astype(object).where(df[check].notna(), "none")
        for value in sorted(set(values)):
            hit = (values == value).to_numpy()
            rows.append({"check": check, "value": value, "n_entries": int(hit.sum()),
                         "n_on_hull": int((hit & on_hull).sum())})
    return pd.DataFrame(rows, columns=["check", "value", "n_entries", "n_on_hull"])


def measured_evidence(df: pd.DataFrame) -> dict[str, float]:
    """The distributions that justify the thresholds, measured on a checked table.

    Returns
    -------
    dict of str to float
        Over compounds with an OQMD volume: their number, the median and
        95th percentile of matched volume / OQMD volume and how many lie
        above :data:`OQMD_RATIO_MAX`; over those within 10 % of OQMD
        (trusted), the min, 0.1 and 99.9 percentiles and max of matched
        volume / elemental volume; over compounds with an OQMD energy, the
        median and robust standard deviation (1.4826 x MAD) of E - E_OQMD
        (eV/atom) and how many differ by more than
        :data:`ENERGY_DIFFERENCE_MAX_EV`.
    """
    compounds = df[df["nelements"] > 1]
    ratio = (compounds["volume_matched_a3"] / compounds["volume_oqmd_a3"]).dropna()
    trusted = compounds.loc[ratio.index[(ratio - 1).abs() <= 0.1]]
    r_e = trusted["volume_matched_a3"] / trusted["volume_elemental_a3"]
    diff = (compounds["energy_per_atom_ev"] - compounds["energy_oqmd_ev"]).dropna()
    median = float(diff.median()) if len(diff) else np.nan
    return {
        "compounds with an OQMD volume": len(ratio),
        "volume / OQMD volume, median": float(ratio.median()),
        "volume / OQMD volume, 95th percentile": float(ratio.quantile(0.95)),
        f"volume / OQMD volume above {OQMD_RATIO_MAX:g}": int((ratio > OQMD_RATIO_MAX).sum()),
        "trusted compounds (volume within 10 % of OQMD)": len(trusted),
        "trusted: volume / elemental volume, min": float(r_e.min()),
        "trusted: volume / elemental volume, 0.1 percentile": float(r_e.quantile(0.001)),
        "trusted: volume / elemental volume, 99.9 percentile": float(r_e.quantile(0.999)),
        "trusted: volume / elemental volume, max": float(r_e.max()),
        "compounds with an OQMD energy": len(diff),
        "E - E_OQMD, median (eV/atom)": median,
        "E - E_OQMD, robust standard deviation (eV/atom)": float(1.4826 * (diff - median).abs().median()),
        f"|E - E_OQMD| above {ENERGY_DIFFERENCE_MAX_EV:g} eV/atom": int((diff.abs() > ENERGY_DIFFERENCE_MAX_EV).sum()),
    }


def touched_counts(screen_path: str | Path) -> tuple[Counter, Counter]:
    """How many interface-voltages of a screen hold each phase.

    Parameters
    ----------
    screen_path : str or Path
        The gathered screen (results/screen/screen.parquet).

    Returns
    -------
    (Counter, Counter)
        Reduced formula -> rows whose SEI (``sei_products``) or products at
        the voltage (``products``) hold it; and -> rows whose products at
        the voltage hold it.
    """
    table = pq.read_table(screen_path, columns=["sei_products", "products"]).to_pydict()
    either, products = Counter(), Counter()
    for sei, prod in zip(table["sei_products"], table["products"], strict=True):
        in_products = set(json.loads(prod)) if prod else set()
        products.update(in_products)
        either.update(in_products | (set(json.loads(sei)) if sei else set()))
    return either, products


def quality_changes(entries: pd.DataFrame, touched: tuple[Counter, Counter]) -> pd.DataFrame:
    """Every entry whose volume the check replaced, old and new volume, sorted by reach.

    Parameters
    ----------
    entries : pandas.DataFrame
        The campaign's entry table.
    touched : (Counter, Counter)
        :func:`touched_counts` of the campaign's screen.

    Returns
    -------
    pandas.DataFrame
        :data:`CHANGE_COLUMNS`; volumes in Å³/atom, e_above_hull_ev in
        eV/atom; sorted by n_interface_voltages (most first), then formula.
    """
    changed = entries[entries["volume_flag"] == "implausible"]
    out = pd.DataFrame({
        "entry_id": changed["entry_id"],
        "reduced_formula": changed["reduced_formula"],
        "volume_reason": changed["volume_reason"],
        "volume_rule": changed["volume_rule"],
        "volume_old_a3": changed["volume_matched_a3"],
        "volume_new_a3": changed["volume_per_atom_a3"],
        "volume_elemental_a3": changed["volume_elemental_a3"],
        "volume_oqmd_a3": changed["volume_oqmd_a3"],
        **_reach(changed, touched),
    })
    return _sorted(out, CHANGE_COLUMNS)


def energy_flags(entries: pd.DataFrame, touched: tuple[Counter, Counter]) -> pd.DataFrame:
    """Every entry whose formation energy differs from OQMD's beyond the threshold (not changed).

    Returns
    -------
    pandas.DataFrame
        :data:`ENERGY_COLUMNS`; energies in eV/atom; sorted like
        :func:`quality_changes`.
    """
    flagged = entries[entries["energy_flag"] == "differs"]
    out = pd.DataFrame({
        "entry_id": flagged["entry_id"],
        "reduced_formula": flagged["reduced_formula"],
        "energy_per_atom_ev": flagged["energy_per_atom_ev"],
        "energy_oqmd_ev": flagged["energy_oqmd_ev"],
        "energy_difference_ev": flagged["energy_per_atom_ev"] - flagged["energy_oqmd_ev"],
        **_reach(flagged, touched),
    })
    return _sorted(out, ENERGY_COLUMNS)


def _reach(rows: pd.DataFrame, touched: tuple[Counter, Counter]) -> dict[str, pd.Series]:
    either, products = touched
    return {
        "e_above_hull_ev": rows["e_above_hull_ev"],
        "on_hull": rows["e_above_hull_ev"] <= STABLE_TOL_EV,
        "n_interface_voltages": rows["reduced_formula"].map(lambda f: either.get(f, 0)).astype("int64"),
        "n_in_products": rows["reduced_formula"].map(lambda f: products.get(f, 0)).astype("int64"),
    }


def _sorted(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    df = df.sort_values(["n_interface_voltages", "reduced_formula"], ascending=[False, True], kind="stable")
    return df[columns].reset_index(drop=True)


def write_quality_tables(entries_path: str | Path, screen_path: str | Path, out_dir: str | Path) -> dict[str, Path]:
    """Write quality_counts.tsv, quality_changes.tsv and quality_energies.tsv into ``out_dir`` (atomically).

    Returns
    -------
    dict of str to Path
        Every file written, keyed by its stem.
    """
    entries = pd.read_parquet(entries_path)
    touched = touched_counts(screen_path)
    tables = {
        "quality_counts": quality_counts(entries, on_hull_ev=STABLE_TOL_EV)[COUNT_COLUMNS],
        "quality_changes": quality_changes(entries, touched),
        "quality_energies": energy_flags(entries, touched),
    }
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, table in tables.items():
        path = out_dir / f"{name}.tsv"
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            table.to_csv(tmp, sep="\t", index=False)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        written[name] = path
    return written

"""Entries from the Materials Project API (mp-api), cached per chemical system.

Energies are MP's mixed GGA/GGA+U/r2SCAN thermo energies with MP2020
corrections (``MPRester.get_entries_in_chemsys`` with thermo type
``GGA_GGA+U_R2SCAN``, which serves MP's own phase diagram of the system).
Formation energies subtract the lowest-energy elemental entry of the same
fetch. Volumes come from each entry's structure, or from its summary
document; band gaps from the summary documents.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from pymatgen.entries.computed_entries import ComputedEntry

from constrict.errors import MissingAPIKeyError, SchemaError, UnknownFormulaError
from constrict.sources.schema import composition_fields, finalize_entries, read_entries, write_entries

THERMO_TYPE = "GGA_GGA+U_R2SCAN"
SUMMARY_FIELDS = ["material_id", "formula_pretty", "nsites", "volume", "band_gap"]
DEFAULT_CACHE_DIR = Path("cache/mp_api")

_MATERIAL_ID = re.compile(r"^((?:mp|mvc)-\d+)")


def normalize_chemical_system(chemical_system: str | Iterable[str]) -> str:
    """``"S-Li-P"`` or ``["Li", "P", "S"]`` -> ``"Li-P-S"`` (sorted, checked)."""
    from pymatgen.core import Element

    parts = chemical_system.split("-") if isinstance(chemical_system, str) else list(chemical_system)
    parts = [p.strip() for p in parts if p.strip()]
    for symbol in parts:
        if not Element.is_valid_symbol(symbol):
            raise UnknownFormulaError(f"{symbol!r} in chemical system {chemical_system!r} is not an element")
    if not parts:
        raise UnknownFormulaError(f"empty chemical system {chemical_system!r}")
    return "-".join(sorted(set(parts)))


def _material_id(entry: ComputedEntry) -> str | None:
    mpid = (entry.data or {}).get("material_id")
    if mpid:
        return str(mpid)
    match = _MATERIAL_ID.match(str(entry.entry_id or ""))
    return match.group(1) if match else None


def _as_dict(doc) -> dict:
    return doc.model_dump() if hasattr(doc, "model_dump") else dict(doc)


def entries_to_frame(entries: Iterable[ComputedEntry], summary_docs: Iterable = ()) -> pd.DataFrame:
    """Convert MP entries (and summary documents) to an entry table.

    Parameters
    ----------
    entries : iterable of ComputedEntry or ComputedStructureEntry
        One chemical system's entries as MPRester returns them; energies
        include MP2020 corrections (``entry.energy``, eV).
    summary_docs : iterable of SummaryDoc or dict
        Summary documents with material_id, nsites, volume (Å³) and
        band_gap (eV), used for entries without a structure and for gaps.

    Returns
    -------
    pandas.DataFrame
        The entry table (docs/schema.md), one row per composition: its
        lowest formation energy per atom, elements at exactly 0.
    """
    entries = list(entries)
    docs = {str(d["material_id"]): d for d in map(_as_dict, summary_docs)}
    refs: dict[str, float] = {}
    for entry in entries:
        if len(entry.composition.elements) == 1:
            el = entry.composition.elements[0].symbol
            refs[el] = min(refs.get(el, np.inf), entry.energy_per_atom)
    rows, no_volume = [], 0
    for entry in entries:
        comp = entry.composition
        lacking = [el.symbol for el in comp.elements if el.symbol not in refs]
        if lacking:
            raise SchemaError(f"mp-api fetch has no elemental entry for {lacking}; fetch the full chemical system")
        if len(comp.elements) == 1:  # exactly 0 for the reference itself
            energy_per_atom = entry.energy_per_atom - refs[comp.elements[0].symbol]
        else:
            ref_energy = sum(amount * refs[el.symbol] for el, amount in comp.items())
            energy_per_atom = (entry.energy - ref_energy) / comp.num_atoms
        mpid = _material_id(entry)
        doc = docs.get(mpid, {})
        volume, rule = _volume_per_atom(entry, doc)
        if volume is None:
            no_volume += 1
            continue
        gap = doc.get("band_gap")
        rows.append(
            {
                "entry_id": mpid or str(entry.entry_id),
                "material_id": mpid,
                "formula": comp.formula.replace(" ", ""),
                **composition_fields(comp),
                "energy_per_atom_ev": energy_per_atom,
                "volume_per_atom_a3": volume,
                "band_gap_ev": np.nan if gap is None else float(gap),
                "band_gap_rule": None if gap is None else "mp_api_summary",
                "source": "mp_api",
                "volume_rule": rule,
                "n_polymorphs": 1,
                "volume_spread": 0.0,
            }
        )
    if not rows:
        raise SchemaError("mp-api returned no entries with volumes")
    df = pd.DataFrame(rows)
    df = df.sort_values(["energy_per_atom_ev", "entry_id"], kind="stable").drop_duplicates("reduced_formula")
    df.attrs["dropped_without_volume"] = no_volume
    return df


def _volume_per_atom(entry: ComputedEntry, doc: dict) -> tuple[float | None, str]:
    structure = getattr(entry, "structure", None)
    if structure is not None:
        return structure.volume / structure.num_sites, "structure"
    if doc.get("volume") and doc.get("nsites"):
        return float(doc["volume"]) / float(doc["nsites"]), "summary"
    return None, ""


def _default_rester_factory(api_key: str):
    from mp_api.client import MPRester

    return MPRester(api_key=api_key, mute_progress_bars=True)


def fetch_chemical_system(chemical_system: str, rester) -> pd.DataFrame:
    """Fetch one chemical system (and its subsystems) through an open MPRester."""
    elements = chemical_system.split("-")
    entries = rester.get_entries_in_chemsys(elements, additional_criteria={"thermo_types": [THERMO_TYPE]})
    material_ids = sorted({mpid for e in entries if (mpid := _material_id(e))})
    docs = rester.materials.summary.search(material_ids=material_ids, fields=SUMMARY_FIELDS) if material_ids else []
    return entries_to_frame(entries, docs)


def load_mp_api_entries(
    chemical_systems: Iterable[str],
    *,
    cache_dir: str | Path = DEFAULT_CACHE_DIR,
    api_key: str | None = None,
    rester_factory: Callable | None = None,
) -> pd.DataFrame:
    """Entries of the given chemical systems from mp-api, through a Parquet cache.

    Each system is cached as ``<cache_dir>/<chemical system>.parquet``;
    only systems not in the cache are fetched (needs MP_API_KEY). When
    several systems are asked for, their tables are joined; a composition
    fetched in more than one keeps the row of the first system listed, and
    e_above_hull_ev is recomputed over the joined table.

    Parameters
    ----------
    chemical_systems : iterable of str
        E.g. ``["Li-P-S", "Li-Ge-P-S"]``.
    cache_dir : str or Path
        Cache directory (created on demand).
    api_key : str, optional
        Defaults to the MP_API_KEY environment variable.
    rester_factory : callable, optional
        ``rester_factory(api_key)`` returns a context manager behaving like
        ``mp_api.client.MPRester`` (tests inject a fake one).

    Raises
    ------
    MissingAPIKeyError
        A system is not cached and no API key is set.
    """
    from constrict.hull import e_above_hull

    systems = list(dict.fromkeys(normalize_chemical_system(c) for c in chemical_systems))
    if not systems:
        raise SchemaError("source mp_api needs chemical_systems, e.g. ['Li-P-S']")
    cache_dir = Path(cache_dir)
    todo = [c for c in systems if not (cache_dir / f"{c}.parquet").is_file()]
    if todo:
        key = api_key or os.environ.get("MP_API_KEY", "")
        if not key:
            raise MissingAPIKeyError(
                "source mp_api needs MP_API_KEY (export MP_API_KEY=<your key> from "
                "materialsproject.org/api), or use the offline snapshot (source: mp_offline)"
            )
        factory = rester_factory or _default_rester_factory
        with factory(key) as rester:
            for chemsys in todo:
                df = fetch_chemical_system(chemsys, rester)
                df = finalize_entries(df.assign(e_above_hull_ev=0.0))
                df["e_above_hull_ev"] = e_above_hull(df)
                write_entries(df, cache_dir / f"{chemsys}.parquet")
    tables = [read_entries(cache_dir / f"{c}.parquet") for c in systems]
    if len(tables) == 1:
        return tables[0]
    joined = pd.concat(tables, ignore_index=True).drop_duplicates("reduced_formula", keep="first")
    joined = finalize_entries(joined)
    joined["e_above_hull_ev"] = e_above_hull(joined)
    return joined

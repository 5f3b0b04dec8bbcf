"""Entries from the Materials Project API (mp-api), cached as Parquet.

Two ways to fetch: per chemical system, or all of Materials Project at
once (``chemical_systems=None``). Energies are MP's mixed GGA/GGA+U/r2SCAN
thermo energies with MP2020 corrections (thermo type ``GGA_GGA+U_R2SCAN``):
per system from ``MPRester.get_entries_in_chemsys`` (MP's own phase diagram
of the system), in bulk from ``materials.thermo.search`` (each material's
thermo document). Both go through one conversion, ``entries_to_frame``:
formation energies subtract the lowest-energy elemental entry of the same
fetch. Volumes come from each entry's structure, or from its summary
document; band gaps from the summary documents.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from pymatgen.core import Composition
from pymatgen.entries.computed_entries import ComputedEntry

from constrict.errors import MissingAPIKeyError, SchemaError, UnknownFormulaError
from constrict.sources.schema import composition_fields, finalize_entries, read_entries, write_entries

THERMO_TYPE = "GGA_GGA+U_R2SCAN"
SUMMARY_FIELDS = ["material_id", "formula_pretty", "nsites", "volume", "band_gap"]
THERMO_FIELDS = ["material_id", "composition", "energy_per_atom", "formation_energy_per_atom"]
DEFAULT_CACHE_DIR = Path("cache/mp_api")
ALL_MP_CACHE = "all.parquet"
"""Cache file (inside the cache directory) of the all-of-MP fetch."""
NELEMENTS_SLICES = ((1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 20))
"""The all-of-MP fetch asks for materials by number of elements, one slice
at a time (progress is reported after each)."""

_MATERIAL_ID = re.compile(r"^((?:mp|mvc)-[0-9a-z]+)")

log = logging.getLogger(__name__)


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


def legacy_material_id(value) -> str | None:
    """A material id in MP's legacy spelling: ``"mp-149"``.

    emmet-core serializes ids (``model_dump``) in the newer alphabetic form
    (``"mp-aaaaaaft"``) while entries and the rest of the table use the
    numeric one; both (and ``MPID``/``AlphaID`` objects) map to ``"mp-149"``.
    """
    if value is None or value == "":
        return None
    text = str(value)
    try:
        from emmet.core.mpid import AlphaID

        return str(AlphaID(text).formatted)
    except Exception:  # not an MP id (or no emmet): keep it as given
        return text


def _material_id(entry: ComputedEntry) -> str | None:
    mpid = (entry.data or {}).get("material_id")
    if mpid:
        return legacy_material_id(mpid)
    match = _MATERIAL_ID.match(str(entry.entry_id or ""))
    return legacy_material_id(match.group(1)) if match else None


def _as_dict(doc) -> dict:
    out = doc.model_dump() if hasattr(doc, "model_dump") else dict(doc)
    if "material_id" in out:
        out["material_id"] = legacy_material_id(getattr(doc, "material_id", None) or out["material_id"])
    return out


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


def thermo_docs_to_entries(thermo_docs: Iterable) -> list[ComputedEntry]:
    """Entries from thermo documents, for ``entries_to_frame``.

    Parameters
    ----------
    thermo_docs : iterable of ThermoDoc or dict
        ``materials.thermo.search`` documents with material_id, composition
        (the cell) and energy_per_atom (eV/atom, corrected total energy of
        the thermo type asked for).

    Returns
    -------
    list of ComputedEntry
        One per document: energy = energy_per_atom x atoms of the cell,
        entry_id and ``data["material_id"]`` the material id.
    """
    entries = []
    for doc in map(_as_dict, thermo_docs):
        comp = Composition(doc["composition"])
        mpid = doc["material_id"]
        energy = float(doc["energy_per_atom"]) * comp.num_atoms
        entries.append(ComputedEntry(comp, energy, entry_id=mpid, data={"material_id": mpid}))
    return entries


def fetch_all_materials(rester, *, nelements_slices=NELEMENTS_SLICES) -> pd.DataFrame:
    """Fetch every Materials Project material through an open MPRester.

    Per slice of element counts: the non-deprecated summary documents
    (``materials.summary.search(num_elements=..., deprecated=False,
    fields=SUMMARY_FIELDS)``) and the thermo documents of thermo type
    GGA_GGA+U_R2SCAN (``materials.thermo.search(num_elements=...,
    thermo_types=[THERMO_TYPE], fields=THERMO_FIELDS)``). Materials with a
    thermo document but no summary document (deprecated) are left out.
    Conversion: ``entries_to_frame``, as for one chemical system: the
    formation energy is the thermo document's energy_per_atom minus the
    lowest elemental energies per atom of the whole fetch, weighted by the
    atom fractions. That is how MP defines a thermo document's
    formation_energy_per_atom, with the elemental references of its own
    chemical system; the two agree wherever those references are the
    global elemental ground states. The number of rows where they differ
    by more than 1e-6 eV/atom is reported.
    """
    summary, thermo = [], []
    for lo, hi in nelements_slices:
        found = rester.materials.summary.search(num_elements=(lo, hi), deprecated=False, fields=SUMMARY_FIELDS)
        summary.extend(_fields(d, SUMMARY_FIELDS) for d in found)
        docs = rester.materials.thermo.search(num_elements=(lo, hi), thermo_types=[THERMO_TYPE], fields=THERMO_FIELDS)
        thermo.extend(_fields(d, THERMO_FIELDS) for d in docs)
        elements = f"{lo}" if lo == hi else f"{lo}-{hi}"
        _report(f"{elements} elements: {len(found):,} summary and {len(docs):,} thermo documents "
                f"(so far {len(summary):,} and {len(thermo):,})")
    with_summary = {d["material_id"] for d in summary}
    kept = [d for d in thermo if d["material_id"] in with_summary]
    _report(f"{len(thermo) - len(kept):,} thermo documents without a (non-deprecated) summary document left out")
    df = entries_to_frame(thermo_docs_to_entries(kept), summary)
    # MP's own formation energies, beside ours (elemental references of the whole fetch)
    theirs = {d["material_id"]: d.get("formation_energy_per_atom") for d in kept}
    diff = (df["energy_per_atom_ev"] - df["material_id"].map(theirs).astype(float)).abs()
    _report(f"{len(df):,} compositions (ground states), {df.attrs['dropped_without_volume']:,} entries without a "
            f"volume dropped; formation energy vs MP's formation_energy_per_atom: {int((diff > 1e-6).sum()):,} "
            f"differ by more than 1e-6 eV/atom (max {diff.max():.3g})")
    return df


def _fields(doc, fields: list[str]) -> dict:
    out = _as_dict(doc)
    return {k: out.get(k) for k in fields}


def _report(message: str) -> None:
    print(f"mp_api: {message}")  # the console, and the log below (Snakemake)
    log.info("%s", message)


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
    chemical_systems: Iterable[str] | None,
    *,
    cache_dir: str | Path = DEFAULT_CACHE_DIR,
    api_key: str | None = None,
    rester_factory: Callable | None = None,
) -> pd.DataFrame:
    """Entries of the given chemical systems, or of all MP, from mp-api through a Parquet cache.

    ``chemical_systems=None`` fetches all of Materials Project
    (``fetch_all_materials``) into ``<cache_dir>/all.parquet``. Otherwise
    each system is cached as ``<cache_dir>/<chemical system>.parquet``.
    Only what is not in the cache is fetched (needs MP_API_KEY). When
    several systems are asked for, their tables are joined; a composition
    fetched in more than one keeps the row of the first system listed, and
    e_above_hull_ev is recomputed over the joined table.

    Parameters
    ----------
    chemical_systems : iterable of str, or None
        E.g. ``["Li-P-S", "Li-Ge-P-S"]``; None for all of Materials Project.
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
        What is asked for is not cached and no API key is set.
    """
    cache_dir = Path(cache_dir)
    factory = rester_factory or _default_rester_factory
    if chemical_systems is None:
        path = cache_dir / ALL_MP_CACHE
        if not path.is_file():
            with factory(_require_api_key(api_key)) as rester:
                df = fetch_all_materials(rester)
            _write_with_hull(df, path)
            _report(f"wrote {path}")
        return read_entries(path)

    systems = list(dict.fromkeys(normalize_chemical_system(c) for c in chemical_systems))
    if not systems:
        raise SchemaError("source mp_api needs chemical_systems, e.g. ['Li-P-S'] (None for all of Materials Project)")
    todo = [c for c in systems if not (cache_dir / f"{c}.parquet").is_file()]
    if todo:
        with factory(_require_api_key(api_key)) as rester:
            for chemsys in todo:
                _write_with_hull(fetch_chemical_system(chemsys, rester), cache_dir / f"{chemsys}.parquet")
    tables = [read_entries(cache_dir / f"{c}.parquet") for c in systems]
    if len(tables) == 1:
        return tables[0]
    from constrict.hull import e_above_hull

    joined = pd.concat(tables, ignore_index=True).drop_duplicates("reduced_formula", keep="first")
    joined = finalize_entries(joined)
    joined["e_above_hull_ev"] = e_above_hull(joined)
    return joined


def _require_api_key(api_key: str | None) -> str:
    key = api_key or os.environ.get("MP_API_KEY", "")
    if not key:
        raise MissingAPIKeyError(
            "source mp_api needs MP_API_KEY (export MP_API_KEY=<your key> from "
            "materialsproject.org/api), or use the offline snapshot (source: mp_offline)"
        )
    return key


def _write_with_hull(df: pd.DataFrame, path: Path) -> None:
    """Finalize a fetched table, set e_above_hull_ev exactly within it, and cache it."""
    from constrict.hull import e_above_hull

    df = finalize_entries(df.assign(e_above_hull_ev=0.0))
    df["e_above_hull_ev"] = e_above_hull(df)
    write_entries(df, path)

"""Entries from the Materials Project API (mp-api), cached as Parquet.

Two paths, each on one energy scale (docs/data.md says why):

- **Chemical systems**: one ``MPRester.get_entries_in_chemsys`` call for the
  union of the asked systems' elements (at most 9), thermo type
  ``GGA_GGA+U_R2SCAN``: MP's own phase diagram of that system, mixed
  GGA/GGA+U/r2SCAN energies on the one scale MP anchored for it. Cached as
  ``<cache>/<system>.parquet``. Separately fetched systems are never joined.
- **All of Materials Project** (``chemical_systems=None``): summary and thermo
  documents of thermo type ``GGA_GGA+U`` (MP2020 corrections: one scale for
  every system), fetched slice by slice (each slice cached as it arrives, so
  an interrupted fetch resumes), assembled into ``<cache>/all.parquet``. The
  formation energies are the documents' own; a recomputation from the global
  elemental references must agree within 1e-6 eV/atom.

Every cache records its thermo type and MP database version in its Parquet
metadata and is written atomically; an unreadable or unlabelled cache gets
one line and is fetched again, never used.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pymatgen.core import Composition
from pymatgen.entries.computed_entries import ComputedEntry

from constrict.core.errors import (
    EnergyScaleError,
    MissingAPIKeyError,
    MPAPIError,
    SchemaError,
    UnknownFormulaError,
)
from constrict.data.sources.quality import check_volumes, oqmd_reference_volumes
from constrict.data.sources.schema import composition_fields, finalize_entries, validate_entries, write_entries
from constrict.data.tables import write_table

SYSTEM_THERMO_TYPE = "GGA_GGA+U_R2SCAN"
"""Thermo type of the per-system path (MP's phase diagram of one system)."""
BULK_THERMO_TYPE = "GGA_GGA+U"
"""Thermo type of the all-of-MP path (MP2020: one scale across all systems)."""
MAX_SYSTEM_ELEMENTS = 9
"""Most elements one ``get_entries_in_chemsys`` call takes (mp-api's limit)."""
FORMATION_ENERGY_TOLERANCE_EV = 1e-6
"""Largest allowed difference (eV/atom) between a document's formation energy and ours."""

SUMMARY_FIELDS = ["material_id", "formula_pretty", "nsites", "volume", "band_gap"]
THERMO_FIELDS = ["material_id", "composition", "energy_per_atom", "formation_energy_per_atom"]
DEFAULT_CACHE_DIR = Path("cache/mp_api")
ALL_MP_CACHE = "all.parquet"
"""Cache file (inside the cache directory) of the all-of-MP fetch."""
SLICE_DIR = "all_slices"
"""Folder (inside the cache directory) of the all-of-MP fetch's slices."""
NELEMENTS_SLICES = ((1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 20))
"""The all-of-MP fetch asks for materials by number of elements: per range,
one summary and one thermo search, each cached as one slice."""

META_THERMO_TYPE = "mp_api.thermo_type"
META_DATABASE_VERSION = "mp_api.database_version"
META_CONTENT = "mp_api.content"
"""Parquet metadata keys: MP thermo type, MP database version, what the file holds."""

_SLICE_SCHEMAS = {
    "summary": pa.schema(
        [("material_id", pa.string()), ("formula_pretty", pa.string()), ("nsites", pa.int64()),
         ("volume", pa.float64()), ("band_gap", pa.float64())]
    ),
    "thermo": pa.schema(
        [("material_id", pa.string()), ("composition", pa.string()), ("energy_per_atom", pa.float64()),
         ("formation_energy_per_atom", pa.float64())]
    ),
}
_MATERIAL_ID = re.compile(r"^((?:mp|mvc)-[0-9a-z]+)")
_KEY_PROBLEM = re.compile(r"api key|status code 40[13]", re.IGNORECASE)

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())  # _report prints; no second copy on stderr when logging is unset


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


def formation_energies_per_atom(entries: list[ComputedEntry]) -> np.ndarray:
    """Formation energy per atom (eV/atom) of each entry against the lowest elemental entries among them.

    The lowest-energy entry of each element gets exactly 0.

    Raises
    ------
    SchemaError
        If an element of some entry has no elemental entry.
    """
    refs: dict[str, float] = {}
    for entry in entries:
        if len(entry.composition.elements) == 1:
            el = entry.composition.elements[0].symbol
            refs[el] = min(refs.get(el, np.inf), entry.energy_per_atom)
    out = np.empty(len(entries))
    for i, entry in enumerate(entries):
        comp = entry.composition
        lacking = [el.symbol for el in comp.elements if el.symbol not in refs]
        if lacking:
            raise SchemaError(f"mp-api fetch has no elemental entry for {lacking}; fetch the full chemical system")
        if len(comp.elements) == 1:  # exactly 0 for the reference itself
            out[i] = entry.energy_per_atom - refs[comp.elements[0].symbol]
        else:
            ref_energy = sum(amount * refs[el.symbol] for el, amount in comp.items())
            out[i] = (entry.energy - ref_energy) / comp.num_atoms
    return out


def entries_to_frame(
    entries: Iterable[ComputedEntry], summary_docs: Iterable = (), *, formation_energies: np.ndarray | None = None
) -> pd.DataFrame:
    """Convert MP entries (and summary documents) to an entry table.

    Parameters
    ----------
    entries : iterable of ComputedEntry or ComputedStructureEntry
        Entries on one energy scale (one MP phase diagram, or one thermo
        type whose energies share a scale); energies include MP's
        corrections (``entry.energy``, eV).
    summary_docs : iterable of SummaryDoc or dict
        Summary documents with material_id, nsites, volume (Å³) and
        band_gap (eV), used for entries without a structure and for gaps.
    formation_energies : ndarray of shape (n_entries,), optional
        Formation energy per atom (eV/atom) of each entry; default
        ``formation_energies_per_atom(entries)``.

    Returns
    -------
    pandas.DataFrame
        The entry table (docs/schema.md), one row per composition: its
        lowest formation energy per atom, elements at exactly 0.
    """
    entries = list(entries)
    if formation_energies is None:
        formation_energies = formation_energies_per_atom(entries)
    docs = {str(d["material_id"]): d for d in map(_as_dict, summary_docs)}
    rows, no_volume = [], 0
    for entry, energy_per_atom in zip(entries, formation_energies, strict=True):
        comp = entry.composition
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
                "energy_per_atom_ev": float(energy_per_atom),
                "volume_per_atom_a3": volume,
                "band_gap_ev": np.nan if gap is None or pd.isna(gap) else float(gap),
                "band_gap_rule": None if gap is None or pd.isna(gap) else "mp_api_summary",
                "source": "mp_api",
                "volume_rule": rule,
                "n_polymorphs": 1,
                "volume_spread": 0.0,
            }
        )
    if not rows:
        raise SchemaError("mp-api returned no entries with volumes")
    df = pd.DataFrame(rows)
    structures = df[["reduced_formula", "material_id", "volume_per_atom_a3"]]
    df = df.sort_values(["energy_per_atom_ev", "entry_id"], kind="stable").drop_duplicates("reduced_formula")
    # 2D and molecular entries are vacuum cells here too (docs/data.md, "Volume plausibility")
    df = check_volumes(df, polymorphs=structures, oqmd_volumes=oqmd_reference_volumes())
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
        (the cell: a Composition, a dict or its JSON text) and
        energy_per_atom (eV/atom, corrected total energy of the thermo type
        asked for).

    Returns
    -------
    list of ComputedEntry
        One per document: energy = energy_per_atom x atoms of the cell,
        entry_id and ``data["material_id"]`` the material id.
    """
    entries = []
    for doc in map(_as_dict, thermo_docs):
        cell = doc["composition"]
        comp = Composition(json.loads(cell) if isinstance(cell, str) else cell)
        mpid = doc["material_id"]
        energy = float(doc["energy_per_atom"]) * comp.num_atoms
        entries.append(ComputedEntry(comp, energy, entry_id=mpid, data={"material_id": mpid}))
    return entries


# --- all of Materials Project, slice by slice ---------------------------------------------------


def fetch_all_materials(rester, slice_dir: str | Path, *, nelements_slices=NELEMENTS_SLICES) -> pd.DataFrame:
    """Fetch every Materials Project material through an open MPRester, resuming from cached slices.

    Per range of element counts, two searches, each one slice:
    ``materials.summary.search(num_elements=..., deprecated=False,
    fields=SUMMARY_FIELDS)`` and ``materials.thermo.search(num_elements=...,
    thermo_types=["GGA_GGA+U"], fields=THERMO_FIELDS)``. Each slice is
    written to ``slice_dir`` as it arrives, labelled with the thermo type and
    MP database version; a later call reuses every slice of the same label
    and fetches only the others (an unreadable slice, or one of another MP
    release, gets one line and is fetched again). Progress (documents,
    seconds, documents per second) is printed after each slice.

    Parameters
    ----------
    rester : mp_api.client.MPRester
        Open client; its ``db_version`` labels the slices.
    slice_dir : str or Path
        Folder of the cached slices (created on demand).
    nelements_slices : sequence of (int, int)
        Inclusive ranges of element counts, one pair of searches each.

    Returns
    -------
    pandas.DataFrame
        The entry table before hull distances (``assemble_all_materials``).

    Raises
    ------
    MPAPIError
        A search failed (no network, key refused); the slices fetched so far stay cached.
    EnergyScaleError
        The documents' formation energies are not on one scale.
    """
    slice_dir = Path(slice_dir)
    version = _database_version(rester)
    plan = [(kind, lo, hi) for lo, hi in nelements_slices for kind in ("summary", "thermo")]
    frames: dict[str, pd.DataFrame] = {}
    for kind, lo, hi in plan:
        name = _slice_name(kind, lo, hi)
        path, schema = slice_dir / f"{name}.parquet", _SLICE_SCHEMAS[kind]
        cached = _read_labelled(path, BULK_THERMO_TYPE, version, slice_schema=schema)
        if cached is not None:
            frames[name] = cached
    if frames:
        _report(f"resuming: {len(frames)} of {len(plan)} slices already in {slice_dir} "
                f"({sum(map(len, frames.values())):,} documents)")
    start, fetched = time.perf_counter(), 0
    for kind, lo, hi in plan:
        name = _slice_name(kind, lo, hi)
        if name in frames:
            continue
        t0 = time.perf_counter()
        hint = f"; {len(frames)} of {len(plan)} slices are cached in {slice_dir}: rerun to resume"
        with _api_errors(f"fetching {name.replace('_', ' ')} elements (thermo type {BULK_THERMO_TYPE})", hint):
            docs = _search_slice(rester, kind, lo, hi)
        frame = _docs_frame(kind, docs)
        metadata = _metadata(BULK_THERMO_TYPE, version, name)
        write_table(frame, slice_dir / f"{name}.parquet", _SLICE_SCHEMAS[kind], metadata)
        frames[name] = frame
        fetched += len(frame)
        seconds, total = time.perf_counter() - t0, time.perf_counter() - start
        _report(f"{name}: {len(frame):,} documents in {seconds:.1f} s ({len(frame) / max(seconds, 1e-9):,.0f}/s); "
                f"{len(frames)} of {len(plan)} slices, {fetched:,} documents fetched in {total:.1f} s "
                f"({fetched / max(total, 1e-9):,.0f}/s)")
    summary = pd.concat([frames[_slice_name("summary", lo, hi)] for lo, hi in nelements_slices], ignore_index=True)
    thermo = pd.concat([frames[_slice_name("thermo", lo, hi)] for lo, hi in nelements_slices], ignore_index=True)
    return assemble_all_materials(summary, thermo)


def assemble_all_materials(summary: pd.DataFrame, thermo: pd.DataFrame) -> pd.DataFrame:
    """The all-of-MP entry table from summary and GGA_GGA+U thermo documents (one row each).

    Materials with a thermo document but no (non-deprecated) summary document
    are left out and counted. Formation energy per atom: the document's own
    ``formation_energy_per_atom`` (elemental ground states exactly 0), after
    checking it against a recomputation with the lowest elemental energy per
    atom of the whole fetch (the global references, exact on one scale).

    Raises
    ------
    EnergyScaleError
        Some document differs from the recomputation by more than
        ``FORMATION_ENERGY_TOLERANCE_EV`` (or has no formation energy).
    """
    kept = thermo[thermo["material_id"].isin(set(summary["material_id"]))].reset_index(drop=True)
    _report(f"{len(thermo) - len(kept):,} thermo documents without a (non-deprecated) summary document left out")
    entries = thermo_docs_to_entries(kept.to_dict("records"))
    ours = formation_energies_per_atom(entries)
    theirs = kept["formation_energy_per_atom"].to_numpy(dtype=float)
    diff = np.abs(ours - theirs)
    bad = ~(diff <= FORMATION_ENERGY_TOLERANCE_EV)
    if bad.any():
        worst = int(np.nanargmax(np.where(np.isnan(diff), np.inf, diff)))
        raise EnergyScaleError(
            f"mp-api {BULK_THERMO_TYPE} documents are not on one energy scale: {int(bad.sum()):,} of {len(kept):,} "
            f"formation energies differ from the recomputed ones by more than {FORMATION_ENERGY_TOLERANCE_EV:g} "
            f"eV/atom (largest {diff[worst]:.4g} eV/atom, {kept['material_id'][worst]} "
            f"{entries[worst].composition.reduced_formula}); no table written"
        )
    unary = np.array([len(e.composition.elements) == 1 for e in entries], dtype=bool)
    energies = np.where(unary & (ours == 0.0), 0.0, theirs)
    df = entries_to_frame(entries, summary.to_dict("records"), formation_energies=energies)
    _report(f"{len(df):,} compositions (ground states) from {len(kept):,} documents, formation energies as MP's "
            f"within {FORMATION_ENERGY_TOLERANCE_EV:g} eV/atom; {df.attrs['dropped_without_volume']:,} entries "
            "without a volume dropped")
    return df


def _slice_name(kind: str, lo: int, hi: int) -> str:
    return f"{kind}_{lo}" if lo == hi else f"{kind}_{lo}-{hi}"


def _search_slice(rester, kind: str, lo: int, hi: int) -> list:
    if kind == "summary":
        return rester.materials.summary.search(num_elements=(lo, hi), deprecated=False, fields=SUMMARY_FIELDS)
    return rester.materials.thermo.search(num_elements=(lo, hi), thermo_types=[BULK_THERMO_TYPE], fields=THERMO_FIELDS)


def _docs_frame(kind: str, docs: Iterable) -> pd.DataFrame:
    """One slice's documents as a table of the slice schema (composition as JSON text of the cell)."""
    schema = _SLICE_SCHEMAS[kind]
    rows = []
    for doc in map(_as_dict, docs):
        row = {name: doc.get(name) for name in schema.names}
        if kind == "thermo":
            row["composition"] = json.dumps(dict(sorted(Composition(doc["composition"]).as_dict().items())))
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=schema).to_pandas()


# --- caches -------------------------------------------------------------------------------------


def _metadata(thermo_type: str, version: str, content: str) -> dict[str, str]:
    return {META_THERMO_TYPE: thermo_type, META_DATABASE_VERSION: version, META_CONTENT: content}


def _database_version(rester) -> str:
    return str(getattr(rester, "db_version", None) or "unknown")


def _read_labelled(
    path: Path, thermo_type: str, version: str | None = None, *, slice_schema: pa.Schema | None = None
) -> pd.DataFrame | None:
    """A cache file's table, or None (with one line saying why) if it must be fetched again.

    Usable: readable Parquet labelled with ``thermo_type`` and (unless
    ``version`` is None) that MP database version, holding an entry table
    that passes ``validate_entries`` (or, for a slice, the columns of
    ``slice_schema``). A file cut off mid-write, or written before caches
    were labelled, is never used.
    """
    if not path.is_file():
        return None
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        _report(f"{path}: unreadable cache ({type(exc).__name__}: cut off or not Parquet), not used; "
                "fetching it again", logging.WARNING)
        return None
    meta = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
    recorded = (meta.get(META_THERMO_TYPE), meta.get(META_DATABASE_VERSION))
    if recorded[0] != thermo_type or recorded[1] is None or (version is not None and recorded[1] != version):
        wanted = f"{thermo_type}, MP {version}" if version else thermo_type
        _report(f"{path}: cache holds {recorded[0] or 'no recorded thermo type'}, MP {recorded[1] or 'unknown'}; "
                f"{wanted} is asked for: fetching it again", logging.WARNING)
        return None
    df = table.to_pandas()
    try:
        if slice_schema is None:
            df = validate_entries(finalize_entries(df))
        elif table.schema.names != slice_schema.names:
            raise SchemaError(f"columns {table.schema.names}, expected {slice_schema.names}")
    except SchemaError as exc:
        _report(f"{path}: invalid cache ({exc}), not used; fetching it again", logging.WARNING)
        return None
    df.attrs["parquet_metadata"] = meta
    return df


def _write_with_hull(df: pd.DataFrame, path: Path, metadata: dict[str, str]) -> pd.DataFrame:
    """Finalize a fetched table, set e_above_hull_ev exactly within it, and cache it (atomically)."""
    from constrict.data.entries import e_above_hull

    df = finalize_entries(df.assign(e_above_hull_ev=0.0))
    df["e_above_hull_ev"] = e_above_hull(df)
    write_entries(df, path, metadata=metadata)
    _report(f"wrote {path} ({len(df):,} entries, thermo type {metadata[META_THERMO_TYPE]}, "
            f"MP {metadata[META_DATABASE_VERSION]})")
    df.attrs["parquet_metadata"] = metadata
    return df


# --- errors and reporting -----------------------------------------------------------------------


def _one_line(exc: BaseException, limit: int = 240) -> str:
    """The exception's text on one line, at most ``limit`` characters."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


@contextmanager
def _api_errors(action: str, hint: str = "") -> Iterator[None]:
    """Turn the client's failures during ``action`` into one-line MPAPIError messages."""
    import requests
    from deltalake.exceptions import DeltaError
    from mp_api.client.core.exceptions import MPRestError

    try:
        yield
    except requests.exceptions.RequestException as exc:  # ConnectionError, Timeout, ...
        raise MPAPIError(
            f"mp-api: cannot reach the Materials Project while {action} ({type(exc).__name__}: {_one_line(exc)}); "
            f"check the network, or use the offline snapshot (source: mp_offline){hint}"
        ) from None
    except MPRestError as exc:
        text = _one_line(exc)
        if _KEY_PROBLEM.search(text):
            raise MPAPIError(
                f"mp-api: the Materials Project did not accept the API key while {action} ({text}); set MP_API_KEY "
                "(or PMG_MAPI_KEY) to the 32-character key from materialsproject.org/api, or use source: mp_offline"
            ) from None
        raise MPAPIError(f"mp-api: {action} failed ({text}){hint}") from None
    except (DeltaError, OSError) as exc:  # MP's S3 open-data store, read through deltalake
        raise MPAPIError(f"mp-api: {action} failed ({type(exc).__name__}: {_one_line(exc)}){hint}") from None


def _report(message: str, level: int = logging.INFO) -> None:
    print(f"mp_api: {message}")  # the console, and the log below (Snakemake)
    log.log(level, "%s", message)


# --- loading ------------------------------------------------------------------------------------


def _default_rester_factory(api_key: str):
    from mp_api.client import MPRester

    return MPRester(api_key=api_key, mute_progress_bars=True)


@contextmanager
def _open_rester(factory: Callable, api_key: str | None) -> Iterator:
    key = _require_api_key(api_key)
    with _api_errors("connecting to the Materials Project API"):
        rester = factory(key)
    with rester:
        yield rester


def fetch_chemical_system(chemical_system: str, rester) -> pd.DataFrame:
    """Fetch one chemical system (and its subsystems) through an open MPRester, on one energy scale.

    One ``get_entries_in_chemsys`` call with thermo type GGA_GGA+U_R2SCAN
    (MP's phase diagram of the system, from MP's S3 open-data store, with
    structures), then the summary documents of its materials (band gaps).
    """
    elements = normalize_chemical_system(chemical_system).split("-")
    if len(elements) > MAX_SYSTEM_ELEMENTS:
        raise EnergyScaleError(
            f"chemical system {chemical_system} has {len(elements)} elements; one mp-api call (one energy scale) "
            f"takes at most {MAX_SYSTEM_ELEMENTS}"
        )
    with _api_errors(f"downloading MP's phase diagram of {chemical_system} (thermo type {SYSTEM_THERMO_TYPE})"):
        entries = rester.get_entries_in_chemsys(elements, additional_criteria={"thermo_types": [SYSTEM_THERMO_TYPE]})
    material_ids = sorted({mpid for e in entries if (mpid := _material_id(e))})
    docs = []
    if material_ids:
        with _api_errors(f"fetching the summary documents of {chemical_system}"):
            docs = rester.materials.summary.search(material_ids=material_ids, fields=SUMMARY_FIELDS)
    return entries_to_frame(entries, docs)


def load_mp_api_entries(
    chemical_systems: Iterable[str] | None,
    *,
    cache_dir: str | Path = DEFAULT_CACHE_DIR,
    api_key: str | None = None,
    rester_factory: Callable | None = None,
) -> pd.DataFrame:
    """Entries of the given chemical systems, or of all MP, from mp-api through a Parquet cache.

    ``chemical_systems=None`` fetches all of Materials Project on the
    GGA_GGA+U scale (``fetch_all_materials``, resumable) into
    ``<cache_dir>/all.parquet``. Otherwise the union of the systems' elements
    (at most 9) is fetched in one call on the GGA_GGA+U_R2SCAN scale into
    ``<cache_dir>/<union system>.parquet``, and the rows inside the asked
    systems are returned (their hull distances stay exact). A usable cache
    needs no key and no network; one that is unreadable or lacks its label
    (thermo type, MP database version) gets one line and is fetched again.

    Parameters
    ----------
    chemical_systems : iterable of str, or None
        E.g. ``["Li-P-S", "Li-Ge-P-S"]``; None for all of Materials Project.
    cache_dir : str or Path
        Cache directory (created on demand).
    api_key : str, optional
        Defaults to MP_API_KEY, then to PMG_MAPI_KEY (environment or
        ~/.pmgrc.yaml, read by pymatgen's SETTINGS as MPRester does).
    rester_factory : callable, optional
        ``rester_factory(api_key)`` returns a context manager behaving like
        ``mp_api.client.MPRester`` (tests inject a fake one).

    Returns
    -------
    pandas.DataFrame
        The entry table; ``attrs["parquet_metadata"]`` holds its thermo type
        and MP database version.

    Raises
    ------
    MissingAPIKeyError
        What is asked for is not cached and no API key is set.
    MPAPIError
        The API cannot be reached, refuses the key, or a download fails.
    EnergyScaleError
        The systems span more than 9 elements, or bulk documents are not on one scale.
    """
    cache_dir = Path(cache_dir)
    factory = rester_factory or _default_rester_factory
    if chemical_systems is None:
        path = cache_dir / ALL_MP_CACHE
        table = _read_labelled(path, BULK_THERMO_TYPE)
        if table is None:
            with _open_rester(factory, api_key) as rester:
                df = fetch_all_materials(rester, cache_dir / SLICE_DIR)
                metadata = _metadata(BULK_THERMO_TYPE, _database_version(rester), "all")
            table = _write_with_hull(df, path, metadata)
        return table

    systems = list(dict.fromkeys(normalize_chemical_system(c) for c in chemical_systems))
    if not systems:
        raise SchemaError("source mp_api needs chemical_systems, e.g. ['Li-P-S'] (None for all of Materials Project)")
    union = normalize_chemical_system([el for c in systems for el in c.split("-")])
    if len(union.split("-")) > MAX_SYSTEM_ELEMENTS:
        raise EnergyScaleError(
            f"chemical systems {', '.join(systems)} span {len(union.split('-'))} elements; mp-api serves one energy "
            f"scale for at most {MAX_SYSTEM_ELEMENTS} in one call and separately fetched systems are never joined: "
            "ask for fewer systems, or for all of Materials Project (chemical_systems: null, thermo type GGA_GGA+U)"
        )
    path = cache_dir / f"{union}.parquet"
    table = _read_labelled(path, SYSTEM_THERMO_TYPE)
    if table is None:
        with _open_rester(factory, api_key) as rester:
            df = fetch_chemical_system(union, rester)
            metadata = _metadata(SYSTEM_THERMO_TYPE, _database_version(rester), union)
        table = _write_with_hull(df, path, metadata)
    if systems == [union]:
        return table
    from constrict.data.sources import restrict_to_chemical_systems

    restricted = restrict_to_chemical_systems(table, systems)
    restricted.attrs["parquet_metadata"] = table.attrs["parquet_metadata"]
    return restricted


def _require_api_key(api_key: str | None) -> str:
    from pymatgen.core import SETTINGS

    key = api_key or os.environ.get("MP_API_KEY") or SETTINGS.get("PMG_MAPI_KEY")
    if not key:
        raise MissingAPIKeyError(
            "source mp_api needs an API key: export MP_API_KEY=<your key from materialsproject.org/api> "
            "(or set PMG_MAPI_KEY in ~/.pmgrc.yaml), or use the offline snapshot (source: mp_offline)"
        )
    return str(key)

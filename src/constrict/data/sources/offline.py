"""Build the embedded offline snapshots (MP and OQMD) from data/raw/.

The rules (ground state per composition, volume rule, band-gap rule,
elemental rows) are documented in docs/data.md; every row records which
rule gave its volume and band gap.
"""

from __future__ import annotations

import gzip
import json
import logging
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from constrict.core.errors import SchemaError
from constrict.data.sources.quality import check_volumes, flag_energies
from constrict.data.sources.schema import (
    cell_key,
    composition_fields,
    finalize_entries,
    parse_formula,
    write_entries,
)

MP_FILES = {
    "e_form": "mp/matbench_mp_e_form.csv.gz",
    "gap": "mp/matbench_mp_gap.csv.gz",
    "roost": "mp/roost_mp_non_metals.csv.gz",
    "volumes": "mp/mp_structure_volumes.csv.gz",
    "elemental_refs": "mp/mp_elemental_reference_entries_2023-02-07.json.gz",
}
"""Raw MP inputs, relative to the raw directory (data/raw)."""

OQMD_FILE = "oqmd/oqmd_formula_E_V_gap.csv.gz"
"""Raw OQMD input, relative to the raw directory."""

GNOME_FIRST_ID = 2_000_000
"""MP ids from mp-2000000 up are GNoME structures (added 2023, CC-BY-ND).

The energies predate them, so they never supply a volume.
"""

MIN_PLAUSIBLE_FORMATION_EV = -10.0
"""Formation energies below this (eV/atom) are failed calculations and dropped.

The most negative real formation energies are about -4.6 eV/atom
(fluorides); OQMD holds six rows between -29 and -199 eV/atom.
"""


def read_csv(path: str | Path) -> pd.DataFrame:
    """Read a raw CSV keeping every string (the formula "NaN" is sodium nitride)."""
    return pd.read_csv(path, keep_default_na=False)


@cache
def _parse(formula: str) -> tuple[str, str, tuple]:
    """Formula -> (cell key, reduced formula, composition fields as a tuple)."""
    comp = parse_formula(formula)
    fields = composition_fields(comp)
    return cell_key(comp), fields["reduced_formula"], tuple(fields.items())


def _with_keys(df: pd.DataFrame, col: str) -> pd.DataFrame:
    parsed = df[col].map(_parse)
    return df.assign(cell=parsed.str[0], reduced_formula=parsed.str[1], _fields=parsed.str[2])


def _ground_states(df: pd.DataFrame, energy_col: str) -> pd.DataFrame:
    """Lowest-energy row per reduced formula (ties: first in file order)."""
    order = df.sort_values(energy_col, kind="stable")
    return order.drop_duplicates("reduced_formula", keep="first").copy()


def _expand_fields(df: pd.DataFrame) -> pd.DataFrame:
    fields = pd.DataFrame([dict(f) for f in df["_fields"]], index=df.index)
    return pd.concat([df.drop(columns=["_fields", "reduced_formula"]), fields], axis=1)


@cache
def _volumes_file(raw_dir: Path) -> pd.DataFrame:
    return read_csv(raw_dir / MP_FILES["volumes"])


def read_structure_volumes(raw_dir: str | Path, *, include_gnome: bool = False) -> pd.DataFrame:
    """MP structure volumes with cell and reduced keys (GNoME ids left out by default)."""
    vol = _volumes_file(Path(raw_dir))
    if not include_gnome:
        number = vol["material_id"].str.extract(r"^mp-(\d+)$")[0].astype("float")
        vol = vol[~(number >= GNOME_FIRST_ID)]
    return _with_keys(vol, "formula_sum")


def mp_elemental_references(raw_dir: str | Path) -> pd.DataFrame:
    """MP's elemental ground states (MP2020 references) with their volumes.

    The structure is found by the reference's material_id, GNoME ids
    included (C's reference, mp-2516584, is one).

    Returns
    -------
    pandas.DataFrame
        One row per element with a volume: element, material_id, formula
        (cell formula of the structure), volume_per_atom_a3.
    """
    with gzip.open(Path(raw_dir) / MP_FILES["elemental_refs"], "rt") as fh:
        refs = json.load(fh)
    by_id = _volumes_file(Path(raw_dir)).set_index("material_id")
    rows = []
    for element, entry in sorted(refs.items()):
        mpid = entry["data"]["material_id"]
        if mpid not in by_id.index:
            continue
        rows.append(
            {
                "element": element,
                "material_id": mpid,
                "formula": by_id.at[mpid, "formula_sum"].replace(" ", ""),
                "volume_per_atom_a3": float(by_id.at[mpid, "volume_per_atom"]),
            }
        )
    return pd.DataFrame(rows)


def _assign_volumes(gs: pd.DataFrame, volumes: pd.DataFrame) -> pd.DataFrame:
    """Volume rule: unique cell-formula match, else median over the reduced formula."""
    by_cell = volumes.groupby("cell")
    n_cell = gs["cell"].map(by_cell.size()).fillna(0).astype(int)
    by_red = volumes.groupby("reduced_formula")["volume_per_atom"]
    stats = by_red.agg(["size", "median", "min", "max"])
    unique_cell = volumes[volumes["cell"].map(by_cell.size()) == 1].set_index("cell")

    out = gs.copy()
    is_cell = n_cell == 1
    red = stats.reindex(out["reduced_formula"].to_numpy())
    red.index = out.index
    out["volume_rule"] = np.where(is_cell, "cell_formula", np.where(red["size"] > 0, "reduced_formula_median", ""))
    cell_rows = unique_cell.reindex(out["cell"].to_numpy())
    cell_rows.index = out.index
    out["material_id"] = cell_rows["material_id"].where(is_cell, None)
    out["volume_per_atom_a3"] = np.where(is_cell, cell_rows["volume_per_atom"], red["median"])
    out["n_polymorphs"] = np.where(is_cell, 1, red["size"].fillna(0)).astype(int)
    spread = (red["max"] - red["min"]) / red["median"]
    out["volume_spread"] = np.where(is_cell, 0.0, spread)
    return out


def _assign_band_gaps(gs: pd.DataFrame, raw_dir: Path) -> pd.DataFrame:
    """Band-gap rule, in order (see docs/data.md).

    1. matbench_mp_gap, the one row with the same cell formula;
    2. roost_mp_non_metals, the row with the same composition (it has one
       row per composition, all with gap > 0);
    3. matbench_mp_gap, median over rows with the same cell formula;
    4. matbench_mp_gap, median over rows with the same reduced formula.
    """
    gap = _with_keys(read_csv(raw_dir / MP_FILES["gap"]), "formula")
    roost = _with_keys(read_csv(raw_dir / MP_FILES["roost"]), "composition")
    by_cell = gap.groupby("cell")["target"].agg(["size", "median"])
    by_red = gap.groupby("reduced_formula")["target"].median()
    roost_gap = roost.drop_duplicates("reduced_formula").set_index("reduced_formula")["band_gap"]

    cell = by_cell.reindex(gs["cell"].to_numpy())
    candidates = [
        ("gap_cell_formula", np.where(cell["size"] == 1, cell["median"], np.nan)),
        ("roost_composition", gs["reduced_formula"].map(roost_gap).to_numpy(dtype=float)),
        ("gap_cell_formula_median", np.where(cell["size"] > 1, cell["median"], np.nan)),
        ("gap_reduced_formula_median", gs["reduced_formula"].map(by_red).to_numpy(dtype=float)),
    ]
    value = np.full(len(gs), np.nan)
    rule = np.full(len(gs), None, dtype=object)
    for name, cand in candidates:
        take = np.isnan(value) & ~np.isnan(cand)
        value[take] = cand[take]
        rule[take] = name
    return gs.assign(band_gap_ev=value, band_gap_rule=rule)


def _elemental_rows(df: pd.DataFrame, refs: pd.DataFrame, source: str, rule: str, counts: dict) -> pd.DataFrame:
    """Give every element present one row at exactly 0 eV/atom with MP's reference volume.

    The elemental ground state is MP's elemental reference structure (its
    material_id and volume); a median over elemental polymorphs would mix
    in high-pressure phases (H spreads by a factor 4). A row of the energy
    data at 0 keeps its band gap. Where the reference structure has no
    volume, the energy data's own row at 0
    stays with its volume rule (never needed with the current raw files). An elemental row below 0 means the energies
    are not formation energies and stops the build. Compositions with an
    element that has neither are dropped and counted.
    """
    unary = df[df["nelements"] == 1]
    lowest = unary.groupby(unary["elements"].str[0])["energy_per_atom_ev"].min()
    if (lowest < 0).any():
        bad = lowest[lowest < 0]
        raise SchemaError(f"elemental rows below 0 eV/atom: {bad.to_dict()}; the energies are not formation energies")
    at_zero = unary[unary["energy_per_atom_ev"] == 0.0].drop_duplicates("chemical_system")
    gap_of = dict(zip(at_zero["chemical_system"], at_zero["band_gap_ev"], strict=True))
    rule_of = dict(zip(at_zero["chemical_system"], at_zero["band_gap_rule"], strict=True))
    present = sorted({el for els in df["elements"] for el in els})
    refs = refs.set_index("element")
    kept = [el for el in present if el not in refs.index and el in gap_of]
    unavailable = [el for el in present if el not in refs.index and el not in gap_of]
    rows = [at_zero[at_zero["chemical_system"] == el].iloc[0].to_dict() for el in kept]
    for el in present:
        if el not in refs.index:
            continue
        ref = refs.loc[el]
        rows.append(
            {
                "entry_id": f"{source}:{el}",
                "material_id": ref["material_id"],
                "formula": ref["formula"],
                **composition_fields(parse_formula(el)),
                "energy_per_atom_ev": 0.0,
                "volume_per_atom_a3": ref["volume_per_atom_a3"],
                "band_gap_ev": gap_of.get(el, np.nan),
                "band_gap_rule": rule_of.get(el),
                "source": source,
                "volume_rule": rule,
                "n_polymorphs": 1,
                "volume_spread": 0.0,
            }
        )
    absent = [el for el in present if el not in gap_of and el in refs.index]
    df = df[df["nelements"] > 1]
    if unavailable:
        lacks = df["elements"].map(lambda els: bool(set(els) & set(unavailable)))
        counts[f"dropped: contains an element without a reference volume ({','.join(unavailable)})"] = int(lacks.sum())
        df = df[~lacks]
    counts["elemental rows (0 eV/atom, MP reference volume)"] = len(rows) - len(kept)
    counts["elemental rows kept from the energy data (reference has no volume)"] = ",".join(kept) or "none"
    counts["elements absent from the energy data, added at 0"] = ",".join(absent) or "none"
    return pd.concat([df, pd.DataFrame(rows)], ignore_index=True)


def _build_mp(raw_dir: Path, source: str) -> tuple[pd.DataFrame, dict]:
    counts: dict = {}
    e_form = _with_keys(read_csv(raw_dir / MP_FILES["e_form"]), "formula")
    counts["energy rows read"] = len(e_form)
    gs = _ground_states(e_form, "target")
    counts["compositions (ground state = lowest-energy row)"] = len(gs)
    volumes = read_structure_volumes(raw_dir)
    gs = _assign_volumes(gs, volumes)
    no_volume = gs["volume_rule"] == ""
    counts["dropped: no structure with this composition (no volume)"] = int(no_volume.sum())
    gs = _assign_band_gaps(gs[~no_volume], raw_dir)
    gs = _expand_fields(gs).assign(
        entry_id=lambda d: source + ":" + d["reduced_formula"],
        energy_per_atom_ev=lambda d: d["target"],
        source=source,
    )
    refs = mp_elemental_references(raw_dir)
    df = _elemental_rows(gs, refs, source, "elemental_reference", counts)
    oqmd = oqmd_ground_states(raw_dir).set_index("reduced_formula")
    structures = volumes[["reduced_formula", "material_id", "volume_per_atom"]]
    df = check_volumes(
        df, polymorphs=structures.rename(columns={"volume_per_atom": "volume_per_atom_a3"}), oqmd_volumes=oqmd["V"]
    )
    df["energy_oqmd_ev"] = df["reduced_formula"].map(oqmd["dH"]).astype(float)
    df["energy_flag"] = flag_energies(df["energy_per_atom_ev"], df["energy_oqmd_ev"])
    return df, counts


@cache
def _oqmd_file(raw_dir: Path) -> pd.DataFrame:
    return _with_keys(read_csv(raw_dir / OQMD_FILE), "formula")


def oqmd_ground_states(raw_dir: str | Path, counts: dict | None = None) -> pd.DataFrame:
    """OQMD's ground state per composition (lowest dH), failed calculations dropped.

    Rows with a formation energy below ``MIN_PLAUSIBLE_FORMATION_EV`` or a
    volume missing or <= 0 are dropped (and counted in ``counts``).

    Returns
    -------
    pandas.DataFrame
        The raw columns (formula, V in Å³/atom, dH in eV/atom, gap, E) with
        cell, reduced_formula and the parsed composition fields, one row
        per reduced formula.
    """
    counts = {} if counts is None else counts
    raw = _oqmd_file(Path(raw_dir))
    counts["energy rows read"] = len(raw)
    implausible = raw["dH"] < MIN_PLAUSIBLE_FORMATION_EV
    counts[f"dropped: formation energy below {MIN_PLAUSIBLE_FORMATION_EV} eV/atom"] = int(implausible.sum())
    bad_volume = ~(raw["V"] > 0)
    counts["dropped: volume missing or <= 0"] = int((bad_volume & ~implausible).sum())
    return _ground_states(raw[~implausible & ~bad_volume], "dH")


def _build_oqmd(raw_dir: Path, source: str) -> tuple[pd.DataFrame, dict]:
    counts: dict = {}
    gs = oqmd_ground_states(raw_dir, counts)
    counts["compositions (ground state = lowest-energy row)"] = len(gs)
    gap = pd.to_numeric(gs["gap"].replace("", np.nan), errors="raise")
    gs = _expand_fields(gs).assign(
        entry_id=lambda d: source + ":" + d["reduced_formula"],
        material_id=None,
        energy_per_atom_ev=lambda d: d["dH"],
        volume_per_atom_a3=lambda d: d["V"],
        band_gap_ev=gap.to_numpy(),
        band_gap_rule=np.where(gap.isna(), None, "source"),
        source=source,
        volume_rule="source",
        n_polymorphs=1,
        volume_spread=0.0,
    )
    refs = mp_elemental_references(raw_dir)
    df = _elemental_rows(gs, refs, source, "mp_elemental_reference", counts)
    return check_volumes(df), counts


BUILDERS = {"mp_offline": _build_mp, "oqmd_offline": _build_oqmd}


def build_offline_snapshot(
    raw_dir: str | Path = "data/raw", out_path: str | Path | None = None, source: str = "mp_offline"
) -> pd.DataFrame:
    """Build an offline entry table from the raw files and write it as Parquet.

    Parameters
    ----------
    raw_dir : str or Path
        Directory holding ``mp/`` and ``oqmd/`` (default ``data/raw``).
    out_path : str or Path, optional
        Parquet to write; default ``data/<source>.parquet`` beside raw_dir.
    source : {"mp_offline", "oqmd_offline"}
        Which snapshot.

    Returns
    -------
    pandas.DataFrame
        The validated entry table, shape (n_compositions, 16), with
        e_above_hull_ev computed over the table itself. Counts of rows
        built, dropped (and why) and by volume rule are printed and kept
        in ``df.attrs["build_counts"]``.
    """
    from constrict.data.entries import e_above_hull
    from constrict.data.quality_report import measured_evidence, quality_counts  # heavy imports only when building

    if source not in BUILDERS:
        raise SchemaError(f"unknown offline source {source!r}; use one of {sorted(BUILDERS)}")
    raw_dir = Path(raw_dir)
    missing = [p for p in _raw_files(source) if not (raw_dir / p).is_file()]
    if missing:
        raise SchemaError(f"raw file {raw_dir / missing[0]} not found; see data/README.md")
    df, counts = BUILDERS[source](raw_dir, source)
    df = finalize_entries(df.assign(e_above_hull_ev=0.0))
    df["e_above_hull_ev"] = e_above_hull(df)
    counts["rows written"] = len(df)
    for rule, n in df["volume_rule"].value_counts().sort_index().items():
        counts[f"volume rule {rule}"] = int(n)
    for rule, n in df["band_gap_rule"].fillna("none").value_counts().sort_index().items():
        counts[f"band gap rule {rule}"] = int(n)
    counts["on the hull (e_above_hull <= 1e-6 eV/atom)"] = int((df["e_above_hull_ev"] <= 1e-6).sum())
    for row in quality_counts(df).itertuples():
        counts[f"{row.check} {row.value} (entries, on the hull)"] = f"{row.n_entries}, {row.n_on_hull}"
    if source == "mp_offline":
        counts.update({k: f"{v:.4g}" if isinstance(v, float) else v for k, v in measured_evidence(df).items()})
    out_path = Path(out_path) if out_path is not None else raw_dir.parent / f"{source}.parquet"
    write_entries(df, out_path)
    counts["written to"] = str(out_path)
    for key, value in counts.items():
        print(f"{source}: {key}: {value}")  # the console, and the log below (Snakemake)
        logging.getLogger(__name__).info("%s: %s: %s", source, key, value)
    df.attrs["build_counts"] = counts
    return df


def _raw_files(source: str) -> list[str]:
    if source == "mp_offline":
        return [*MP_FILES.values(), OQMD_FILE]
    return [OQMD_FILE, MP_FILES["volumes"], MP_FILES["elemental_refs"]]

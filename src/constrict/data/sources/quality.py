"""Plausibility of entry data: volumes checked against independent evidence, energies compared.

A DFT volume becomes a reaction strain, so a structure that is a molecule
or a monolayer in vacuum (MP's LiS4: 10 atoms in about 2,000 Å³) must not
reach the engine. Every entry's volume is checked against evidence that
does not come from its own structure (docs/data.md, "Volume
plausibility"):

- its composition-weighted elemental volume ``sum_i x_i V_i`` (the
  elements' own reference volumes): the ratio must lie in
  :data:`ELEMENTAL_RATIO_BAND`. Heavy-alkali phases stay inside it, since
  their elements are as fluffy as they are (Cs metal: 124 Å³/atom);
- OQMD's volume for the same formula, where it has one (an independent
  DFT database; only its volumes are used, never its energies on the MP
  scale): at most :data:`OQMD_RATIO_MAX` times larger.

An implausible volume is replaced by the first of: its plausible
polymorphs (a median over polymorphs becomes the median over the
plausible ones, a single structure the densest plausible polymorph),
OQMD's volume, the volume of the entry's hull
neighbours at its composition (Zen's law: the phase formed from its
neighbours without a volume change); else it is unknown (NaN, refused by
the engine wherever a strain needs it). Formation energies are only
compared with OQMD's and flagged (:func:`flag_energies`), never changed.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from constrict.data.sources.schema import VOLUME_FLAGS, parse_formula

ELEMENTAL_RATIO_BAND = (0.25, 2.0)
"""Plausible volume / composition-weighted elemental volume (lower, upper).

Measured on the offline MP snapshot: where MP's and OQMD's volumes agree
within 10 % (33,530 formulas) the ratio spans 0.30-1.72 (99.9 % within
0.39-1.33); a vacuum cell lies far above (LiS4: 7.6).
"""

OQMD_RATIO_MAX = 1.5
"""A volume more than this times OQMD's for the same formula is implausible.

MP / OQMD over the 39,908 compounds both hold: median 1.009, 95th
percentile 1.31; of the 1,658 above 1.5, 1,514 lie above 5.
"""

ENERGY_DIFFERENCE_MAX_EV = 0.5
"""|E_MP - E_OQMD| (eV/atom) above this flags an entry's formation energy.

Five robust standard deviations (1.4826 x the median absolute deviation,
0.097 eV/atom) of the difference over the formulas both hold; the two
databases' correction schemes alone move it by up to about 0.3 eV/atom.
"""

REPLACEMENT_RULES = (
    "plausible_polymorph_median", "densest_plausible_polymorph", "oqmd_formula", "neighbour_estimate", "unknown"
)
"""``volume_rule`` of a replaced volume: a median's replacement or a single structure's, then the fallbacks."""


@functools.cache
def _fractions(formula: str) -> tuple[tuple[str, float], ...]:
    comp = parse_formula(formula)
    return tuple((el.symbol, float(amt)) for el, amt in comp.fractional_composition.items())


def elemental_volumes(df: pd.DataFrame) -> dict[str, float]:
    """Element -> volume per atom (Å³/atom) of the table's elemental rows (NaN volumes left out)."""
    unary = df[(df["nelements"] == 1) & np.isfinite(df["volume_per_atom_a3"].to_numpy(dtype=float))]
    return {els[0]: float(v) for els, v in zip(unary["elements"], unary["volume_per_atom_a3"], strict=True)}


def elemental_estimate(formulas: Iterable[str], elemental: Mapping[str, float]) -> np.ndarray:
    """Composition-weighted elemental volume ``sum_i x_i V_i`` of each formula.

    Parameters
    ----------
    formulas : iterable of str
        Formulas (any spelling pymatgen parses).
    elemental : mapping of str to float
        Element -> volume per atom (Å³/atom), e.g. :func:`elemental_volumes`.

    Returns
    -------
    ndarray of shape (n_formulas,)
        Å³/atom; NaN where an element has no volume.
    """
    return np.array(
        [sum(x * elemental.get(el, np.nan) for el, x in _fractions(f)) for f in formulas], dtype=float
    )


def implausible_reasons(volume, elemental_a3, oqmd_a3) -> np.ndarray:
    """Why each volume is implausible, or None where it is plausible.

    Parameters
    ----------
    volume, elemental_a3, oqmd_a3 : array-like of shape (n,)
        The volume checked, its composition-weighted elemental volume and
        OQMD's volume for the formula (NaN where none), all Å³/atom.

    Returns
    -------
    ndarray of object, shape (n,)
        None, ``"elemental_ratio"``, ``"oqmd_ratio"`` or
        ``"elemental_ratio+oqmd_ratio"`` (:func:`check_volumes` adds
        ``"implausible_polymorph"`` for a median). A volume with no elemental
        evidence (NaN estimate) is judged by OQMD alone.
    """
    volume = np.asarray(volume, dtype=float)
    ratio = volume / np.asarray(elemental_a3, dtype=float)
    lo, hi = ELEMENTAL_RATIO_BAND
    by_elements = (ratio < lo) | (ratio > hi)
    by_oqmd = volume > OQMD_RATIO_MAX * np.asarray(oqmd_a3, dtype=float)
    reasons = np.full(len(volume), None, dtype=object)
    reasons[by_elements] = "elemental_ratio"
    reasons[by_oqmd] = "oqmd_ratio"
    reasons[by_elements & by_oqmd] = "elemental_ratio+oqmd_ratio"
    return reasons


MEDIAN_RULE = "reduced_formula_median"
"""``volume_rule`` of a volume that is the median over the structures of a formula (docs/data.md)."""


def check_volumes(
    df: pd.DataFrame,
    *,
    polymorphs: pd.DataFrame | None = None,
    oqmd_volumes: Mapping[str, float] | pd.Series | None = None,
) -> pd.DataFrame:
    """Check every entry's volume and replace the implausible ones (module docstring).

    A volume is implausible when its ratio to the elemental volume leaves
    :data:`ELEMENTAL_RATIO_BAND` or it exceeds :data:`OQMD_RATIO_MAX` times
    OQMD's; a median over polymorphs (volume_rule :data:`MEDIAN_RULE`) is
    also implausible when any structure it was taken over is (reason
    ``implausible_polymorph``: a vacuum cell must not pull a median).

    Parameters
    ----------
    df : pandas.DataFrame
        Entry rows with their elemental rows: reduced_formula, elements,
        nelements, chemical_system, energy_per_atom_ev, volume_per_atom_a3
        (as the formula matching gave it), volume_rule, material_id,
        n_polymorphs, volume_spread.
    polymorphs : pandas.DataFrame, optional
        Every structure that may stand for a formula (those a median was
        taken over): reduced_formula, material_id, volume_per_atom_a3
        (Å³/atom).
    oqmd_volumes : mapping or Series, optional
        Reduced formula -> OQMD's volume per atom (Å³/atom).

    Returns
    -------
    pandas.DataFrame
        ``df`` with volume_flag, volume_reason, volume_matched_a3 (the
        volume before the check), volume_elemental_a3 and volume_oqmd_a3,
        and for implausible rows the replacement: volume_per_atom_a3,
        volume_rule (:data:`REPLACEMENT_RULES`), material_id, n_polymorphs
        and volume_spread (NaN where no structure was used).
    """
    out = df.copy()
    elemental = elemental_volumes(out)
    formulas = out["reduced_formula"].to_numpy()
    oqmd = pd.Series(dict(oqmd_volumes) if oqmd_volumes is not None else {}, dtype=float)
    out["volume_matched_a3"] = out["volume_per_atom_a3"].astype(float)
    out["volume_elemental_a3"] = elemental_estimate(formulas, elemental)
    out["volume_oqmd_a3"] = pd.Series(formulas, index=out.index).map(oqmd).astype(float)
    reasons = implausible_reasons(out["volume_matched_a3"], out["volume_elemental_a3"], out["volume_oqmd_a3"])
    reasons = pd.Series(reasons, index=out.index, dtype=object)
    judged = _judge_polymorphs(polymorphs, set(formulas), elemental, oqmd)
    if judged is not None:
        pulled = (out["volume_rule"] == MEDIAN_RULE) & out["reduced_formula"].isin(
            set(judged.loc[~judged["plausible"], "reduced_formula"]))
        reasons[pulled & reasons.isna()] = "implausible_polymorph"
    bad = reasons.notna() & (out["nelements"] > 1)
    out["volume_flag"] = np.where(bad, VOLUME_FLAGS[1], VOLUME_FLAGS[0])
    out["volume_reason"] = reasons.where(bad, None)
    if not bad.any():
        return out
    median = (out["volume_rule"] == MEDIAN_RULE).to_numpy()
    out["material_id"] = out["material_id"].astype(object)
    out.loc[bad, ["volume_per_atom_a3", "volume_spread"]] = np.nan
    out.loc[bad, ["volume_rule", "material_id", "n_polymorphs"]] = ["unknown", None, 0]
    if judged is not None:
        _take_polymorphs(out, bad & median, judged[judged["plausible"]], "median")
        _take_polymorphs(out, bad & ~median, judged[judged["plausible"]], "densest")
    take = bad & out["volume_per_atom_a3"].isna() & out["volume_oqmd_a3"].notna()
    out.loc[take, "volume_per_atom_a3"] = out.loc[take, "volume_oqmd_a3"]
    out.loc[take, "volume_rule"] = "oqmd_formula"
    take = bad & out["volume_per_atom_a3"].isna()
    if take.any():
        estimate = neighbour_volumes(out, take.to_numpy())
        found = take & pd.Series(np.isfinite(estimate), index=out.index)
        out.loc[found, "volume_per_atom_a3"] = estimate[found.to_numpy()]
        out.loc[found, "volume_rule"] = "neighbour_estimate"
    return out


def _judge_polymorphs(polymorphs, formulas, elemental, oqmd) -> pd.DataFrame | None:
    """The polymorphs of ``formulas`` with a boolean ``plausible`` column (same tests as an entry)."""
    if polymorphs is None or not len(polymorphs):
        return None
    cand = polymorphs[polymorphs["reduced_formula"].isin(formulas)]
    cand_formulas = cand["reduced_formula"].to_numpy()
    reasons = implausible_reasons(
        cand["volume_per_atom_a3"],
        elemental_estimate(cand_formulas, elemental),
        pd.Series(cand_formulas).map(oqmd).to_numpy(dtype=float),
    )
    return cand.assign(plausible=[r is None for r in reasons])


def _take_polymorphs(out, rows, plausible, how: str) -> None:
    """Give the marked implausible rows a volume from their plausible polymorphs, in place.

    ``how="median"``: a median over polymorphs becomes the median over the
    plausible ones (``plausible_polymorph_median``, no material_id): the
    same rule without the vacuum cells. ``how="densest"``: a single
    structure becomes the densest plausible polymorph
    (``densest_plausible_polymorph``, its material_id). Taking the densest
    for a median too would pick high-pressure phases where a formula has
    many polymorphs (SiO2: 7.5 Å³/atom against OQMD's 13.9; H2O 6.1
    against 8.5; CdS 20.9 against 25.7).
    """
    cand = plausible.sort_values(["reduced_formula", "volume_per_atom_a3", "material_id"], kind="stable")
    if cand.empty or not rows.any():
        return
    by_formula = cand.groupby("reduced_formula", sort=False)["volume_per_atom_a3"]
    stats = pd.DataFrame({"n": by_formula.size(), "min": by_formula.min(), "max": by_formula.max(),
                          "median": by_formula.median()})
    rows = out.index[rows & out["reduced_formula"].isin(stats.index)]
    keys = out.loc[rows, "reduced_formula"]
    st = stats.loc[keys]
    if how == "median":
        out.loc[rows, "volume_per_atom_a3"] = st["median"].to_numpy()
        out.loc[rows, "volume_rule"] = "plausible_polymorph_median"
    else:
        densest = cand.drop_duplicates("reduced_formula").set_index("reduced_formula")
        out.loc[rows, "volume_per_atom_a3"] = st["min"].to_numpy()
        out.loc[rows, "volume_rule"] = "densest_plausible_polymorph"
        out.loc[rows, "material_id"] = densest.loc[keys, "material_id"].to_numpy()
    out.loc[rows, "n_polymorphs"] = st["n"].to_numpy()
    out.loc[rows, "volume_spread"] = ((st["max"] - st["min"]) / st["median"]).to_numpy()


def neighbour_volumes(df: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """Volume of each marked row's hull neighbours at its composition (Zen's law).

    The hull is that of the other entries whose volume is settled (finite
    and not marked): the lowest-energy mixture of them with the row's
    composition, and its volume per atom. On the trusted formulas (MP and
    OQMD within 10 %) this predicts the volume with a median error of
    3.7 % (90th percentile 16 %), against 15 % (52 %) for the elemental
    estimate scaled by its median ratio.

    Parameters
    ----------
    df : pandas.DataFrame
        Entry table: entry_id, reduced_formula, chemical_system,
        energy_per_atom_ev, volume_per_atom_a3.
    rows : ndarray of bool, shape (len(df),)
        The rows to estimate.

    Returns
    -------
    ndarray of shape (len(df),)
        Å³/atom for the marked rows (NaN where no hull spans the
        composition), NaN elsewhere.
    """
    from constrict.core.errors import ConstrictError
    from constrict.data.entries import EntrySet

    rows = np.asarray(rows, dtype=bool)
    volume = df["volume_per_atom_a3"].to_numpy(dtype=float)
    targets = df[rows]
    wanted = {
        "-".join(sub)
        for system in set(targets["chemical_system"])
        for sub in _subsystems(system.split("-"))
    }
    usable = df[~rows & np.isfinite(volume) & df["chemical_system"].isin(wanted).to_numpy()]
    columns = ["entry_id", "reduced_formula", "energy_per_atom_ev", "volume_per_atom_a3"]
    entry_set = EntrySet.from_frame(usable[columns], recompute_hull=True)
    out = np.full(len(df), np.nan)
    for position, formula in zip(np.flatnonzero(rows), targets["reduced_formula"], strict=True):
        try:
            vec = entry_set.composition_vector(parse_formula(formula))
            _, phases = entry_set.decompose(vec)
        except ConstrictError:
            continue
        out[position] = sum(amount * entry_set.volume_per_atom_a3[r] for r, amount in phases.items())
    return out


def _subsystems(elements: list[str]) -> Iterable[tuple[str, ...]]:
    """Every non-empty sorted subset of ``elements``."""
    elements = sorted(elements)
    for mask in range(1, 1 << len(elements)):
        yield tuple(el for i, el in enumerate(elements) if mask >> i & 1)


def oqmd_reference_volumes(path=None) -> pd.Series:
    """OQMD's plausible volume per formula (Å³/atom), read from the embedded OQMD snapshot.

    Parameters
    ----------
    path : str or Path, optional
        The OQMD snapshot; default ``constrict.core.paths.snapshot_path("oqmd_offline")``.

    Returns
    -------
    pandas.Series
        Reduced formula -> OQMD's own DFT volume (compounds whose volume
        passed the check); empty when the snapshot is not there.
    """
    import pyarrow.parquet as pq

    from constrict.core.errors import ConstrictError
    from constrict.core.paths import snapshot_path

    try:
        path = snapshot_path("oqmd_offline") if path is None else path
        table = pq.read_table(path, columns=["reduced_formula", "nelements", "volume_per_atom_a3", "volume_rule"])
    except (ConstrictError, OSError, ValueError, KeyError):
        return pd.Series(dtype=float)
    df = table.to_pandas()
    own = df[(df["volume_rule"] == "source") & (df["nelements"] > 1)]
    return pd.Series(own["volume_per_atom_a3"].to_numpy(dtype=float), index=own["reduced_formula"].to_numpy())


def flag_energies(energy_ev, oqmd_energy_ev) -> np.ndarray:
    """Compare formation energies with OQMD's for the same formulas.

    Parameters
    ----------
    energy_ev, oqmd_energy_ev : array-like of shape (n,)
        Formation energy per atom (eV/atom) of each entry and OQMD's for
        its formula (NaN where none).

    Returns
    -------
    ndarray of object, shape (n,)
        ``"agrees"`` (within :data:`ENERGY_DIFFERENCE_MAX_EV`),
        ``"differs"``, or None where OQMD has no value.
    """
    diff = np.abs(np.asarray(energy_ev, dtype=float) - np.asarray(oqmd_energy_ev, dtype=float))
    flags = np.full(len(diff), None, dtype=object)
    known = np.isfinite(diff)
    flags[known] = np.where(diff[known] > ENERGY_DIFFERENCE_MAX_EV, "differs", "agrees")
    return flags


def warn_implausible(df: pd.DataFrame, what: str) -> None:
    """One warning line naming every row whose volume_flag is implausible (kept as given)."""
    bad = df[df["volume_flag"] == VOLUME_FLAGS[1]]
    if bad.empty:
        return
    lo, hi = ELEMENTAL_RATIO_BAND
    items = ", ".join(
        f"{f} ({v:.4g} Å³/atom, {v / e:.2f} x its elements' volume)"
        for f, v, e in zip(bad["reduced_formula"], bad["volume_matched_a3"], bad["volume_elemental_a3"], strict=True)
    )
    warnings.warn(f"{what} with implausible volumes (plausible: {lo:g}-{hi:g} x the elements' volume, "
                  f"<= {OQMD_RATIO_MAX:g} x OQMD's), kept as given: {items}", stacklevel=3)


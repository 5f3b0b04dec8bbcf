"""Linear Kcrit of stored result rows under every strain convention and normalisation.

Nothing here re-solves a decomposition: the screen stores, per row, the
products' solid volume V_P, the ion released, the ion metal's volume, dG
and V_R (docs/physics.md), so V_P' of any convention is
:func:`constrict.physics.electrochem.product_volume_a3` of those columns and the
linear Kcrit is :func:`constrict.physics.kcrit.kcrit_linear_gpa` of (dG, eps, V0).

Normalisations of eqn 3, ``dG + Kcrit eps V0 = 0`` (the paper does not
state its own; :data:`NORMALISATIONS`):

- ``v0_reactant`` (ours): dG and V0 = V_R both per atom of R, so
  Kcrit = -dG / (V_P' - V_R), the same for any common normalisation
  (per formula unit, per atom of the non-ion elements ...);
- ``v0_products``: V0 = V_P', the pressurised products' volume (the
  paper's Fig. 1b caption: each product's energy rises by the pressure
  times its volume): Kcrit / (1 + eps);
- ``energy_per_non_ion_atom``: dG per atom of the non-ion elements of R,
  as pymatgen's ``GrandPotPDEntry`` normalises a grand potential, with V0
  = V_R per atom of R: Kcrit / (1 - x_ion(R));
- ``volume_per_non_ion_atom``: the opposite mismatch, dG per atom of R
  and V0 per atom of the non-ion elements: Kcrit (1 - x_ion(R)).

The strain itself is a ratio of volumes of the same matter, so no common
normalisation changes it; only the convention does.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pandas as pd

from constrict.campaign.statistics import kcrit_counts
from constrict.core.errors import SchemaError
from constrict.physics.electrochem import product_volume_a3
from constrict.physics.kcrit import kcrit_linear_gpa

NORMALISATIONS = ("v0_reactant", "v0_products", "energy_per_non_ion_atom", "volume_per_non_ion_atom")
"""Normalisations of eqn 3 (module docstring); the first is the engine's."""

DEFAULT_NORMALISATION = NORMALISATIONS[0]

VOLUME_COLUMNS = (
    "working_ion", "sei_composition", "dg_ev_per_atom", "v_r_a3_per_atom", "v_p_a3_per_atom",
    "v_metal_a3_per_atom", "ion_released_per_atom",
)
"""Result columns that every convention and normalisation is computed from."""

TARGET_SETS = ("all_finite", "capped")
"""Statistics over every finite Kcrit, or over those <= the cap (GPa)."""

STATS_KEYS = ("n_rows", "n_inf", "n_finite", "n_stable", "mean_gpa", "median_gpa", "std_gpa")
"""The statistics of :func:`variant_stats` (GPa; std is the sample std, ddof = 1)."""

STATS_COLUMNS = ("data", "source", "electrolyte_label", "electrolyte", "voltage_v", "convention", "normalisation",
                 "cap_gpa", "target_set", *STATS_KEYS)
"""Columns of :func:`variant_stats` (results/reproduction/stats.parquet)."""

SIGN_COLUMNS = ("convention", "normalisation", "element", "n_present", "pearson_r", "spearman_r")
"""Columns of :func:`element_signs` (results/reproduction/signs.parquet)."""

_kcrit = np.frompyfunc(kcrit_linear_gpa, 3, 1)


def check_volume_columns(rows: pd.DataFrame, source: str = "result rows") -> None:
    """Raise SchemaError naming the columns :data:`VOLUME_COLUMNS` that ``rows`` lacks."""
    missing = [c for c in VOLUME_COLUMNS if c not in rows.columns]
    if missing:
        raise SchemaError(
            f"{source} lack(s) {', '.join(missing)}; rerun the screen with this version "
            "(every convention is computed from these columns)"
        )


def ion_fraction(rows: pd.DataFrame) -> np.ndarray:
    """Atom fraction of each row's working ion in its SEI (R), shape (n_rows,); NaN without an SEI."""
    parsed = {s: json.loads(s) if isinstance(s, str) and s else {} for s in rows["sei_composition"].unique()}
    out = np.array([parsed[s].get(ion, 0.0) for s, ion in zip(rows["sei_composition"], rows["working_ion"],
                                                                 strict=True)], dtype=float)
    out[~np.array([bool(parsed[s]) for s in rows["sei_composition"]], dtype=bool)] = np.nan
    return out


def strain(rows: pd.DataFrame, convention: str) -> np.ndarray:
    """Reaction strain (V_P' - V_R) / V_R of each row under ``convention``, shape (n_rows,).

    0 where dG = 0 (stable: no products), as the engine has it; NaN where
    the row has no numbers (not reacting, error).
    """
    dg = rows["dg_ev_per_atom"].to_numpy(dtype=float)
    v_r = rows["v_r_a3_per_atom"].to_numpy(dtype=float)
    v_p = product_volume_a3(rows["v_p_a3_per_atom"].to_numpy(dtype=float),
                            rows["ion_released_per_atom"].to_numpy(dtype=float),
                            rows["v_metal_a3_per_atom"].to_numpy(dtype=float), convention)
    with np.errstate(invalid="ignore", divide="ignore"):
        eps = (v_p - v_r) / v_r
    return np.where(dg == 0.0, 0.0, eps)


def normalised(dg_ev_per_atom, eps, v_r_a3_per_atom, x_ion, normalisation: str) -> tuple[np.ndarray, np.ndarray]:
    """(dG, V0) of eqn 3 under a normalisation (module docstring), elementwise.

    Parameters
    ----------
    dg_ev_per_atom, eps, v_r_a3_per_atom : array-like of shape (n,)
        dG (eV per atom of R), reaction strain, V_R (Å³ per atom of R).
    x_ion : array-like of shape (n,) or None
        Working-ion atom fraction of R; read only by the non-ion normalisations.
    normalisation : str
        One of :data:`NORMALISATIONS`.
    """
    if normalisation not in NORMALISATIONS:
        raise SchemaError(f"normalisation must be one of {', '.join(NORMALISATIONS)}, not {normalisation!r}")
    dg = np.asarray(dg_ev_per_atom, dtype=float)
    v0 = np.asarray(v_r_a3_per_atom, dtype=float)
    if normalisation == "v0_products":
        v0 = v0 * (1.0 + np.asarray(eps, dtype=float))
    elif normalisation != "v0_reactant":
        non_ion = 1.0 - np.asarray(x_ion, dtype=float)
        if normalisation == "energy_per_non_ion_atom":
            dg = dg / non_ion
        else:
            v0 = v0 / non_ion
    return dg, v0


def kcrit_from_strain(dg_ev_per_atom, eps, v_r_a3_per_atom, x_ion, normalisation: str) -> np.ndarray:
    """Linear Kcrit (GPa) from dG, strain and V_R (per atom of R) under a normalisation, elementwise.

    Returns
    -------
    ndarray of float
        :func:`~constrict.physics.kcrit.kcrit_linear_gpa` of (dG, eps, V0) with the
        :func:`normalised` dG and V0: 0 stable, inf where no constriction
        stops it, NaN without numbers.
    """
    dg, v0 = normalised(dg_ev_per_atom, eps, v_r_a3_per_atom, x_ion, normalisation)
    return _kcrit(dg, np.asarray(eps, dtype=float), v0).astype(float)


def kcrit_variant(rows: pd.DataFrame, convention: str, normalisation: str = DEFAULT_NORMALISATION,
                  *, x_ion: np.ndarray | None = None) -> np.ndarray:
    """Linear Kcrit (GPa) of result rows under a convention and a normalisation, shape (n_rows,).

    Parameters
    ----------
    rows : pandas.DataFrame
        Result rows with :data:`VOLUME_COLUMNS`.
    convention : {"ion_metal", "reservoir", "released_metal"}
    normalisation : str
        One of :data:`NORMALISATIONS`.
    x_ion : ndarray of shape (n_rows,), optional
        :func:`ion_fraction` of the rows (computed when None and needed).

    Returns
    -------
    ndarray of float
        :func:`kcrit_from_strain` of the rows' dG, :func:`strain` and V_R;
        ``v0_reactant`` equals the engine's ``kcrit_gpa`` under that
        convention bit for bit.
    """
    if x_ion is None and normalisation in NORMALISATIONS[2:]:
        x_ion = ion_fraction(rows)
    return kcrit_from_strain(rows["dg_ev_per_atom"], strain(rows, convention), rows["v_r_a3_per_atom"], x_ion,
                             normalisation)


def stats_of(kcrit_gpa: np.ndarray, cap_gpa: float) -> list[dict]:
    """Counts and statistics of Kcrit values (GPa) of reacting ok rows, one dict per target set.

    NaN values (no numbers) are not counted; ``capped`` keeps the finite
    values <= ``cap_gpa``. Statistics by :func:`constrict.campaign.statistics.kcrit_counts`.
    """
    values = np.asarray(kcrit_gpa, dtype=float)
    values = values[~np.isnan(values)]
    out = []
    for target_set in TARGET_SETS:
        kept = values if target_set == "all_finite" else values[values <= cap_gpa]
        # every value is a Kcrit of this variant's own (the determined flag is the stored Kcrit's)
        group = pd.DataFrame({"status": "ok", "reacts": True, "kcrit_gpa": kept, "kcrit_determined": True})
        counts = kcrit_counts(group, "kcrit_gpa")
        counts["n_rows"] = len(values)
        counts["n_inf"] = int(np.isposinf(values).sum())
        out.append({"target_set": target_set, **{k: counts[k] for k in STATS_KEYS}})
    return out


def variant_stats(rows: pd.DataFrame, *, conventions: Sequence[str], normalisations: Sequence[str] = NORMALISATIONS,
                  cap_gpa: float = 100.0, data: str = "screen", source: str = "") -> pd.DataFrame:
    """Kcrit statistics of result rows per electrolyte and voltage under every variant.

    Parameters
    ----------
    rows : pandas.DataFrame
        Result rows (screen schema); errors and non-reacting rows are left out.
    conventions, normalisations : sequence of str
    cap_gpa : float
        Cap of the ``capped`` target set (GPa).
    data, source : str
        Written to the ``data`` ("screen" or "sample") and ``source`` (the
        entry data, e.g. mp_offline) columns.

    Returns
    -------
    pandas.DataFrame
        :data:`STATS_COLUMNS`, one row per (electrolyte_label, electrolyte,
        voltage_v, convention, normalisation, target_set).
    """
    check_volume_columns(rows)
    ok = rows[(rows["status"] == "ok") & rows["reacts"].fillna(False).astype(bool)]
    x_ion = ion_fraction(ok)
    out = []
    for convention in conventions:
        for normalisation in normalisations:
            kcrit_gpa = kcrit_variant(ok, convention, normalisation, x_ion=x_ion)
            frame = ok[["electrolyte_label", "electrolyte", "voltage_v"]].assign(k=kcrit_gpa)
            for (label, electrolyte, voltage_v), group in frame.groupby(
                    ["electrolyte_label", "electrolyte", "voltage_v"], sort=True):
                for stats in stats_of(group["k"].to_numpy(), cap_gpa):
                    out.append({"data": data, "source": source, "electrolyte_label": label, "electrolyte": electrolyte,
                                "voltage_v": float(voltage_v), "convention": convention,
                                "normalisation": normalisation, "cap_gpa": float(cap_gpa), **stats})
    return pd.DataFrame(out, columns=list(STATS_COLUMNS))


def element_signs(rows: pd.DataFrame, *, voltage_v: float, conventions: Sequence[str],
                  normalisations: Sequence[str] = NORMALISATIONS) -> pd.DataFrame:
    """Correlation of each element's SEI fraction with Kcrit at one voltage, under every variant.

    The paper's Fig. 3b pools all electrolytes; so does this
    (:func:`constrict.campaign.statistics.element_kcrit_correlation`, ``view="pooled"``),
    with the variant's Kcrit in place of the stored one.

    Returns
    -------
    pandas.DataFrame
        Columns convention, normalisation, element, n_present, pearson_r,
        spearman_r (negative: more of the element, lower Kcrit).
    """
    from constrict.campaign.statistics import element_fractions, element_kcrit_correlation

    check_volume_columns(rows)
    at_v = rows[np.isclose(rows["voltage_v"].to_numpy(dtype=float), voltage_v)
                & (rows["status"] == "ok") & rows["reacts"].fillna(False).astype(bool)].reset_index(drop=True)
    fractions = element_fractions(at_v["sei_composition"].tolist())
    x_ion = ion_fraction(at_v)
    out = []
    for convention in conventions:
        for normalisation in normalisations:
            frame = at_v.assign(kcrit_gpa=kcrit_variant(at_v, convention, normalisation, x_ion=x_ion),
                                convention=convention)
            corr = element_kcrit_correlation(frame, voltage_v=voltage_v, convention=convention, fractions=fractions)
            out.append(corr.assign(convention=convention, normalisation=normalisation))
    columns = list(SIGN_COLUMNS)
    return pd.concat(out, ignore_index=True)[columns] if out else pd.DataFrame(columns=columns)

"""Kcrit statistics of a gathered screen, and the paper's figures.

The input is the gathered screen table (``results/screen/screen.parquet``,
one row per electrolyte x coating x voltage, columns as in
docs/campaign.md). Counting rules, applied per electrolyte label,
convention, voltage and Kcrit quantity (``kcrit_gpa`` = linear Kcrit of
eqn 3, ``kcrit_sc_gpa`` = self-consistent Kcrit):

- ``n_error``: rows with ``status == "error"`` (no numbers);
- ``n_not_reacting``: ok rows with ``reacts == False`` (no interphase,
  Kcrit NaN by contract);
- ``n_stable``: Kcrit == 0 (the initial SEI is stable at that voltage);
- ``n_inf``: Kcrit == +inf (no constriction stops the decomposition);
- ``n_finite``: finite Kcrit, zeros included; ``mean_gpa``,
  ``median_gpa`` and ``std_gpa`` are taken over these. ``std_gpa`` is the
  sample standard deviation (ddof = 1), NaN for fewer than two values.

Every row of the input lands in exactly one of n_error, n_not_reacting,
n_inf, n_finite, or ``n_nan`` (ok, reacting, Kcrit NaN: should be 0; it is
counted so that nothing disappears silently).

The determined view (docs/science.md, "Uncertainty of Kcrit"): of the ok,
reacting rows, ``n_undetermined`` have ``kcrit_determined`` false (their
linear Kcrit is not fixed by the data); ``n_finite_determined`` and the
``*_determined_gpa`` statistics are taken over the finite values of the
determined rows only, beside the ones over all rows. The filter is the
linear Kcrit's flag for both quantities (Kcrit_sc has no interval of its
own).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, get_args

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from constrict.core.errors import ConstrictError, SchemaError

log = logging.getLogger(__name__)

KCRIT_QUANTITIES = ("kcrit_gpa", "kcrit_sc_gpa")
"""The Kcrit columns summarised (GPa)."""

GROUP_COLUMNS = ["electrolyte_label", "electrolyte", "convention", "voltage_v"]
"""One statistics row per these and the Kcrit quantity."""

REQUIRED_COLUMNS = (
    "electrolyte",
    "electrolyte_label",
    "coating_id",
    "convention",
    "reacts",
    "sei_composition",
    "voltage_v",
    "kcrit_gpa",
    "kcrit_sc_gpa",
    "kcrit_determined",
    "kcrit_hi_gpa",
    "status",
)
"""Screen columns this module reads."""

PAPER_REFERENCE = pd.DataFrame(
    [
        {
            "electrolyte": "Li7P3S11",
            "voltage_v": 4.0,
            "quantity": "kcrit_gpa",
            "mean_gpa": 18.5,
            "median_gpa": 14.8,
            "std_gpa": 13.0,
        }
    ]
)
"""Kcrit statistics the paper states (Fitzhugh et al., text beside Fig. 3a)."""

CORRELATION_MIN_ROWS = 10
"""An element needs a non-zero SEI fraction in at least this many rows to
get a correlation; fewer gives noise and is reported as NaN (grey)."""


def read_screen(path: str | Path) -> pd.DataFrame:
    """Read a gathered screen table and check the columns this module needs.

    Parameters
    ----------
    path : str or Path
        Parquet file with the screen result rows.

    Returns
    -------
    pandas.DataFrame
        The table as stored.

    Raises
    ------
    ConstrictError
        The file does not exist.
    SchemaError
        A needed column is missing.
    """
    path = Path(path)
    if not path.is_file():
        raise ConstrictError(
            f"screen table {path} not found; run the screen first (it writes results/screen/screen.parquet)"
        )
    screen = pd.read_parquet(path)
    check_columns(screen, source=str(path))
    return screen


def check_columns(screen: pd.DataFrame, *, source: str = "screen table") -> None:
    """Raise SchemaError naming the missing columns, if any."""
    missing = [c for c in REQUIRED_COLUMNS if c not in screen.columns]
    if missing:
        raise SchemaError(
            f"{source} lacks column(s) {', '.join(missing)}; it must follow the screen result schema (docs/campaign.md)"
        )


def kcrit_counts(group: pd.DataFrame, quantity: str = "kcrit_gpa") -> dict:
    """Counts and statistics (GPa) of one Kcrit column within a group of rows.

    Parameters
    ----------
    group : pandas.DataFrame
        Screen rows (any subset).
    quantity : str
        ``"kcrit_gpa"`` or ``"kcrit_sc_gpa"``.

    Returns
    -------
    dict
        n_rows, n_error, n_not_reacting, n_nan, n_stable, n_inf, n_finite,
        mean_gpa, median_gpa, std_gpa (sample, ddof = 1), then the
        determined view n_undetermined, n_finite_determined,
        mean_determined_gpa, median_determined_gpa, std_determined_gpa, as
        in the module docstring.
    """
    is_error = group["status"].to_numpy() == "error"
    reacts = group["reacts"].fillna(False).astype(bool).to_numpy()
    kcrit_gpa = group[quantity].to_numpy(dtype=float)
    ok = ~is_error
    not_reacting = ok & ~reacts
    counted = ok & reacts
    finite = counted & np.isfinite(kcrit_gpa)
    values_gpa = kcrit_gpa[finite]
    determined = group["kcrit_determined"].fillna(False).astype(bool).to_numpy()
    kept_gpa = kcrit_gpa[finite & determined]
    return {
        "n_rows": len(group),
        "n_error": int(is_error.sum()),
        "n_not_reacting": int(not_reacting.sum()),
        "n_nan": int((counted & np.isnan(kcrit_gpa)).sum()),
        "n_stable": int((finite & (kcrit_gpa == 0)).sum()),
        "n_inf": int((counted & np.isposinf(kcrit_gpa)).sum()),
        "n_finite": int(finite.sum()),
        "mean_gpa": float(values_gpa.mean()) if values_gpa.size else np.nan,
        "median_gpa": float(np.median(values_gpa)) if values_gpa.size else np.nan,
        "std_gpa": float(values_gpa.std(ddof=1)) if values_gpa.size > 1 else np.nan,
        "n_undetermined": int((counted & ~determined).sum()),
        "n_finite_determined": int(kept_gpa.size),
        "mean_determined_gpa": float(kept_gpa.mean()) if kept_gpa.size else np.nan,
        "median_determined_gpa": float(np.median(kept_gpa)) if kept_gpa.size else np.nan,
        "std_determined_gpa": float(kept_gpa.std(ddof=1)) if kept_gpa.size > 1 else np.nan,
    }


def finite_kcrit_gpa(rows: pd.DataFrame, quantity: str = "kcrit_gpa") -> np.ndarray:
    """The finite Kcrit values (GPa, zeros included) of the ok, reacting rows.

    Returns
    -------
    numpy.ndarray of shape (n_finite,)
    """
    ok = (rows["status"] == "ok").to_numpy() & rows["reacts"].fillna(False).astype(bool).to_numpy()
    values_gpa = rows[quantity].to_numpy(dtype=float)[ok]
    return values_gpa[np.isfinite(values_gpa)]


def kcrit_stats(screen: pd.DataFrame) -> pd.DataFrame:
    """Kcrit statistics per electrolyte, convention, voltage and quantity.

    Parameters
    ----------
    screen : pandas.DataFrame
        Screen result rows (one per electrolyte x coating x voltage).

    Returns
    -------
    pandas.DataFrame
        One row per (electrolyte_label, electrolyte, convention, voltage_v,
        quantity), sorted by them, with the counts and the mean, median and
        sample std (GPa) of the finite values described in the module
        docstring.
    """
    check_columns(screen)
    rows = []
    for keys, group in screen.groupby(GROUP_COLUMNS, sort=True, dropna=False):
        for quantity in KCRIT_QUANTITIES:
            keyed = dict(zip(GROUP_COLUMNS, keys, strict=True))
            rows.append({**keyed, "quantity": quantity, **kcrit_counts(group, quantity)})
    columns = [*GROUP_COLUMNS, "quantity", *kcrit_counts(screen.iloc[:0], KCRIT_QUANTITIES[0])]
    return pd.DataFrame(rows, columns=columns)


def paper_comparison(stats: pd.DataFrame) -> pd.DataFrame:
    """Our statistics beside the paper's, where the paper states numbers.

    Parameters
    ----------
    stats : pandas.DataFrame
        Output of :func:`kcrit_stats`.

    Returns
    -------
    pandas.DataFrame
        One row per matching (electrolyte, convention, voltage, quantity) with
        ``ours_*`` and ``paper_*`` mean, median and std (GPa); empty when the
        screen has none of the paper's cases.
    """
    merged = stats.merge(PAPER_REFERENCE, on=["electrolyte", "voltage_v", "quantity"], suffixes=("", "_paper"))
    out = merged[["electrolyte_label", "convention", "voltage_v", "quantity", "n_finite"]].copy()
    for stat in ("mean_gpa", "median_gpa", "std_gpa"):
        out[f"ours_{stat}"] = merged[stat]
        out[f"paper_{stat}"] = merged[f"{stat}_paper"]
    out["n_finite_determined"] = merged["n_finite_determined"]
    for stat in ("mean", "median", "std"):
        out[f"ours_{stat}_determined_gpa"] = merged[f"{stat}_determined_gpa"]
    return out.reset_index(drop=True)


UNDETERMINED_COLUMNS = ["electrolyte_label", "electrolyte", "convention", "voltage_v", "n_with_kcrit",
                        "n_determined", "n_undetermined", "n_sign_uncertain", "share_undetermined"]
"""Columns of :func:`undetermined_counts`."""


def undetermined_counts(screen: pd.DataFrame) -> pd.DataFrame:
    """How many linear Kcrit the data do not determine, per electrolyte, convention and voltage.

    Parameters
    ----------
    screen : pandas.DataFrame
        Screen result rows.

    Returns
    -------
    pandas.DataFrame
        :data:`UNDETERMINED_COLUMNS`: the ok, reacting rows (``n_with_kcrit``),
        how many are determined and not, of those not how many have an
        upper bound of inf with a finite lower bound (the strain's sign is
        not certain; the rest have an interval wider than the determined
        ratio or a lower bound of 0), and the share undetermined.
    """
    check_columns(screen)
    rows = []
    for keys, group in screen.groupby(GROUP_COLUMNS, sort=True, dropna=False):
        counted = (group["status"] == "ok").to_numpy() & group["reacts"].fillna(False).astype(bool).to_numpy()
        determined = group["kcrit_determined"].fillna(False).astype(bool).to_numpy()
        undetermined = counted & ~determined
        sign = undetermined & np.isposinf(group["kcrit_hi_gpa"].to_numpy(dtype=float))
        n = int(counted.sum())
        rows.append({**dict(zip(GROUP_COLUMNS, keys, strict=True)), "n_with_kcrit": n,
                     "n_determined": int((counted & determined).sum()), "n_undetermined": int(undetermined.sum()),
                     "n_sign_uncertain": int(sign.sum()),
                     "share_undetermined": float(undetermined.sum() / n) if n else np.nan})
    return pd.DataFrame(rows, columns=UNDETERMINED_COLUMNS)


def element_fractions(sei_composition: Sequence[str]) -> pd.DataFrame:
    """Element atom fractions from the ``sei_composition`` JSON strings.

    Parameters
    ----------
    sei_composition : sequence of str, length n_rows
        JSON objects element -> atom fraction; empty or missing -> no element.

    Returns
    -------
    pandas.DataFrame of shape (n_rows, n_elements)
        One column per element seen (sorted), 0.0 where absent.
    """
    records = [json.loads(s) if isinstance(s, str) and s else {} for s in sei_composition]
    fractions = pd.DataFrame.from_records(records).astype(float).fillna(0.0)
    return fractions.reindex(columns=sorted(fractions.columns))


CorrelationView = Literal["pooled", "within"]
"""``pooled``: all electrolytes' rows together (the paper's Fig. 3b);
``within``: each electrolyte's mean removed first."""


def _within_groups(values: np.ndarray, groups: np.ndarray, *, ranks: bool) -> np.ndarray:
    """Values (or their ranks, ties averaged) minus their electrolyte's mean, shape (n_rows,)."""
    out = np.empty(len(values))
    for group in np.unique(groups):
        mask = groups == group
        v = rankdata(values[mask]) if ranks else values[mask]
        out[mask] = v - v.mean()
    return out


def _varies(values: np.ndarray) -> bool:
    """More than rounding noise around the mean (a constant demeaned is ~1e-17, not 0)."""
    return bool(np.ptp(values) > 1e-12 * max(1.0, float(np.abs(values).max())))


def element_kcrit_correlation(
    screen: pd.DataFrame,
    *,
    voltage_v: float,
    convention: str,
    quantity: str = "kcrit_gpa",
    min_rows: int = CORRELATION_MIN_ROWS,
    view: CorrelationView = "pooled",
    fractions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Correlation of each element's SEI fraction with Kcrit.

    Rows used: status ok, reacting, the given voltage and convention,
    finite Kcrit (zeros included). Two coefficients: Pearson's r (the
    paper's) and Spearman's rank correlation (Pearson's r of the ranks,
    ties averaged), which a few huge Kcrit values (near-zero strain)
    cannot dominate.

    ``view="pooled"`` puts every electrolyte's rows together, as the
    paper's Fig. 3b does (LPS, LGPS, LSPS and NPS). Pooled, an element
    that marks one electrolyte correlates with that electrolyte's Kcrit
    level (Na, only in the Na electrolyte, comes out "good" because that
    electrolyte's Kcrit is lower). ``view="within"`` removes each
    electrolyte's mean from the fractions and from Kcrit (for Spearman:
    from the ranks within each electrolyte) before correlating, so only
    variation among the coatings of one electrolyte counts.

    Parameters
    ----------
    screen : pandas.DataFrame
        Screen result rows.
    voltage_v : float
        Voltage vs. the working-ion metal (V).
    convention : str
        one of ``constrict.STRAIN_CONVENTIONS``.
    quantity : str
        ``"kcrit_gpa"`` or ``"kcrit_sc_gpa"``.
    min_rows : int
        Minimum number of rows with the element present; below it the
        correlation is NaN.
    view : {"pooled", "within"}
        Pool the electrolytes, or correlate within each one.
    fractions : pandas.DataFrame, optional
        :func:`element_fractions` of every row of ``screen`` (same index),
        to reuse across calls; computed from ``sei_composition`` when None.

    Returns
    -------
    pandas.DataFrame
        Columns element, n_present (rows with a non-zero fraction),
        pearson_r and spearman_r (NaN when undetermined), sorted by element.
    """
    if view not in get_args(CorrelationView):
        raise ConstrictError(f"view must be one of {get_args(CorrelationView)}, not {view!r}")
    check_columns(screen)
    mask = (
        (screen["status"] == "ok")
        & screen["reacts"].fillna(False).astype(bool)
        & np.isclose(screen["voltage_v"].to_numpy(dtype=float), voltage_v)
        & (screen["convention"] == convention)
        & np.isfinite(screen[quantity].to_numpy(dtype=float))
    )
    rows = screen.loc[mask]
    columns = ["element", "n_present", "pearson_r", "spearman_r"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    if fractions is None:
        fractions = element_fractions(rows["sei_composition"].tolist())
    else:
        fractions = fractions.loc[rows.index].reset_index(drop=True)
        fractions = fractions.loc[:, (fractions > 0).any()]
    kcrit_gpa = rows[quantity].to_numpy(dtype=float)
    if view == "within":
        groups = rows["electrolyte"].to_numpy()
        kcrit_value = _within_groups(kcrit_gpa, groups, ranks=False)
        kcrit_rank = _within_groups(kcrit_gpa, groups, ranks=True)
    else:
        kcrit_value, kcrit_rank = kcrit_gpa, rankdata(kcrit_gpa)
    out = []
    for element in fractions.columns:
        x = fractions[element].to_numpy()
        n_present = int((x > 0).sum())
        if view == "within":
            x_value, x_rank = _within_groups(x, groups, ranks=False), _within_groups(x, groups, ranks=True)
        else:
            x_value, x_rank = x, rankdata(x)
        pearson_r = spearman_r = np.nan
        if n_present >= min_rows and _varies(x_value) and _varies(kcrit_value):
            pearson_r = float(np.corrcoef(x_value, kcrit_value)[0, 1])
        if n_present >= min_rows and _varies(x_rank) and _varies(kcrit_rank):
            spearman_r = float(np.corrcoef(x_rank, kcrit_rank)[0, 1])
        out.append({"element": element, "n_present": n_present, "pearson_r": pearson_r, "spearman_r": spearman_r})
    return pd.DataFrame(out, columns=columns)


def format_stats(stats: pd.DataFrame) -> str:
    """The statistics as a plain-text table (GPa, 2 decimals)."""
    return stats.to_string(index=False, float_format=lambda v: f"{v:.2f}")

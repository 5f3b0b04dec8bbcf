"""What the entry data say about each phase's volume and energy uncertainty.

docs/science.md ("Uncertainty of Kcrit") uses three kinds of evidence, all
columns of the entry table (docs/schema.md):

- the polymorph spread ``volume_spread`` of a volume matched by formula;
- MP's volume against OQMD's for the same formula (``volume_oqmd_a3``);
- MP's formation energy against OQMD's (``energy_oqmd_ev``), after a
  shift per element: the two databases' elemental references and anion
  corrections differ by up to 0.4 eV per atom of the element, and any such
  shift cancels in a balanced reaction.

:func:`measured_evidence` measures the population numbers that set the
defaults of :class:`constrict.physics.uncertainty.UncertaintyModel`;
``python -m constrict.data.phase_evidence`` prints them for the offline MP
snapshot.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # frames come in from callers; the CLI's cold path imports no pandas
    import pandas as pd

ROBUST_SIGMA_PER_MAD = 1.4826
"""Standard deviation of a normal distribution per median absolute deviation."""

RESIDUAL_TRIM_SIGMAS = 5.0
"""The per-element energy shifts are refitted on the rows within this many robust
standard deviations of the residual's median (:func:`energy_residual_ev`)."""

RESIDUAL_TRIM_ROUNDS = 5
"""Rounds of fit-and-trim in :func:`energy_residual_ev` (the kept set no longer moves on the offline data)."""

OQMD_VOLUME_RULE = "oqmd_formula"
"""``volume_rule`` of a volume taken from OQMD itself: no independent second volume."""

SPREAD_BINS = (0.0, 0.01, 0.03, 0.1, 0.3, 1.0, math.inf)
"""Polymorph-spread bins of :func:`measured_evidence` (the polymorph term's cap comes from them)."""


def robust_sigma(x) -> float:
    """1.4826 x the median absolute deviation from the median (NaN for no values)."""
    x = np.asarray(x, dtype=float)
    if not len(x):
        return math.nan
    return float(ROBUST_SIGMA_PER_MAD * np.median(np.abs(x - np.median(x))))


def column(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A float column of ``frame``, NaN everywhere when the table lacks it."""
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    return frame[name].to_numpy(dtype=float, na_value=np.nan)


def volume_discrepancy(frame: pd.DataFrame) -> np.ndarray:
    """``ln(V / V_OQMD)`` of each entry, NaN without an independent OQMD volume.

    A volume that was itself taken from OQMD (``volume_rule`` ``oqmd_formula``)
    has no second opinion and gets NaN.

    Returns
    -------
    ndarray of shape (len(frame),)
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(column(frame, "volume_per_atom_a3") / column(frame, "volume_oqmd_a3"))
    if "volume_rule" in frame.columns:
        out[(frame["volume_rule"] == OQMD_VOLUME_RULE).to_numpy()] = np.nan
    return out


def energy_residual_ev(comp: np.ndarray, energy_ev: np.ndarray, oqmd_energy_ev: np.ndarray) -> np.ndarray:
    """MP - OQMD formation energy after a least-squares shift per element (eV/atom).

    Fits ``E - E_OQMD = comp @ mu`` over the compounds with both energies,
    then refits :data:`RESIDUAL_TRIM_ROUNDS` times on the rows within
    :data:`RESIDUAL_TRIM_SIGMAS` robust standard deviations of the
    residual's median, so that outliers (another polymorph, another U) do
    not move the shifts.

    Parameters
    ----------
    comp : ndarray of shape (n_entries, n_elements)
        Atom fractions.
    energy_ev, oqmd_energy_ev : ndarray of shape (n_entries,)
        Formation energies per atom (eV/atom); the second NaN where OQMD has
        no value.

    Returns
    -------
    ndarray of shape (n_entries,)
        eV/atom; NaN for elements, for rows without an OQMD energy, and for
        every row when fewer than two compounds per element have both.
    """
    diff = np.asarray(energy_ev, dtype=float) - np.asarray(oqmd_energy_ev, dtype=float)
    out = np.full(len(diff), np.nan)
    have = np.flatnonzero(np.isfinite(diff))
    r, c = np.nonzero(comp[have])  # sparse: a few elements per row, no BLAS threads on a shared machine
    n_el = np.bincount(r, minlength=len(have))
    rows = have[n_el > 1]  # compounds only
    keep_nz = (n_el > 1)[r]
    r, c = np.searchsorted(rows, have[r[keep_nz]]), c[keep_nz]
    used, c = np.unique(c, return_inverse=True)
    if len(rows) <= 2 * len(used):
        return out
    v, y, m = comp[rows[r], used[c]], diff[rows], len(used)
    keep = np.ones(len(rows), dtype=bool)
    for _ in range(RESIDUAL_TRIM_ROUNDS):
        k = keep[r]
        pairs = r[k]
        # normal equations X'X mu = X'y of the kept rows, from the nonzeros
        starts = np.searchsorted(pairs, pairs)  # first nonzero of each kept row
        ends = np.searchsorted(pairs, pairs, side="right")
        xtx = np.zeros((m, m))
        ck, vk = c[k], v[k]
        for offset in range(int((ends - starts).max())):
            j = starts + offset
            ok = j < ends
            np.add.at(xtx, (ck[ok], ck[j[ok]]), vk[ok] * vk[j[ok]])
        xty = np.bincount(ck, weights=vk * y[pairs], minlength=m)
        mu = np.linalg.solve(xtx, xty)
        res = y - np.bincount(r, weights=v * mu[c], minlength=len(rows))
        keep = np.abs(res - np.median(res[keep])) <= RESIDUAL_TRIM_SIGMAS * robust_sigma(res[keep])
    out[rows] = res
    return out


def measured_evidence(frame: pd.DataFrame, comp: np.ndarray) -> dict[str, float]:
    """The population numbers behind the uncertainty defaults, measured on an entry table.

    Parameters
    ----------
    frame : pandas.DataFrame
        Entry table with volume_oqmd_a3, energy_oqmd_ev and energy_flag
        (docs/schema.md).
    comp : ndarray of shape (len(frame), n_elements)
        Atom fractions of its rows (e.g. ``EntrySet.comp``).

    Returns
    -------
    dict of str to float
        Over compounds with an independent OQMD volume: their number, the
        median and robust standard deviation of ln(V / V_OQMD), that
        deviation per database (/ sqrt 2), and per polymorph-spread bin the
        68.27th percentile of |ln(V / V_OQMD) - median| per database; over
        compounds whose energy agrees with OQMD's (energy_flag ``agrees``):
        the robust standard deviation of E - E_OQMD before and after the
        per-element shifts, and after them per database.
    """
    compound = np.count_nonzero(comp, axis=1) > 1
    disc = volume_discrepancy(frame)
    have_v = compound & np.isfinite(disc)
    d = disc[have_v]
    centre = float(np.median(d))
    out: dict[str, float] = {
        "compounds with an independent OQMD volume": int(have_v.sum()),
        "ln(V / V_OQMD): median": centre,
        "ln(V / V_OQMD): robust sigma": robust_sigma(d),
        "ln(V / V_OQMD): robust sigma per database": robust_sigma(d) / math.sqrt(2),
    }
    spread = column(frame, "volume_spread")[have_v]
    for lo, hi in zip(SPREAD_BINS[:-1], SPREAD_BINS[1:], strict=True):
        sel = (spread > lo) & (spread <= hi) if lo > 0 else spread <= hi
        label = f"volume_spread in ({lo:g}, {hi:g}]" if lo > 0 else f"volume_spread <= {hi:g}"
        out[f"{label}: n"] = int(sel.sum())
        q = np.quantile(np.abs(d[sel] - centre), 0.6827) / math.sqrt(2) if sel.any() else math.nan
        out[f"{label}: 68th percentile per database"] = float(q)
    energy_oqmd = column(frame, "energy_oqmd_ev")
    if "energy_flag" in frame.columns:
        agrees = (frame["energy_flag"] == "agrees").to_numpy()
    else:
        agrees = np.isfinite(energy_oqmd)
    energy = frame["energy_per_atom_ev"].to_numpy(dtype=float)
    residual = energy_residual_ev(comp, energy, energy_oqmd)  # as phase_sigmas fits it: every row, trimmed
    raw = (energy - energy_oqmd)[compound & agrees]
    res = residual[compound & agrees & np.isfinite(residual)]
    out.update({
        "compounds whose energy agrees with OQMD's": int((compound & agrees).sum()),
        "E - E_OQMD: robust sigma (eV/atom)": robust_sigma(raw),
        "after per-element shifts: robust sigma (eV/atom)": robust_sigma(res),
        "after per-element shifts: robust sigma per database (eV/atom)": robust_sigma(res) / math.sqrt(2),
        "after per-element shifts: 68th percentile of |r| (eV/atom)": float(np.quantile(np.abs(res), 0.6827)),
        "after per-element shifts: share of |r| > 0.1 eV/atom": float(np.mean(np.abs(res) > 0.1)),
    })
    return out


def main() -> int:  # pragma: no cover - prints the numbers of docs/science.md
    """Print :func:`measured_evidence` of the offline MP snapshot."""
    from constrict.data.entry_cache import load_entry_set

    entry_set = load_entry_set()
    for key, value in measured_evidence(entry_set.frame, entry_set.comp).items():
        print(f"{key}: {value:.6g}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

"""The surrogate's optimum over a lattice of the allowed region, the yardstick of the greedy route.

The lattice is centred on the parent: ``x = p + m * step`` with integer
``m`` (one per element of the region), every ``x_j`` inside its bounds and
``sum(m) = 0`` so that ``sum(x) = 1``. It holds the parent itself and, when
the level is a multiple of the step, the corners of the allowed box. The
step is the level divided by a whole number, as fine as the configured
step allows and coarse enough that the lattice has at most ``max_points``
points (8 elements at +-0.05 and step 0.0025 would be ~10^10), so the step
actually used is reported.
Extra points (the greedy trajectory) are always added, so the grid optimum
is never above the greedy end point.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from constrict.core.errors import ConfigError
from constrict.design.region import BOUND_TOL, Region
from constrict.design.shap_route import Surrogate

CHUNK_ROWS = 50_000
"""Compositions predicted per call (bounds the memory of one prediction)."""


def _integer_ranges(region: Region, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Lowest and highest integer m_j with p_j + m_j * step inside [lower_j, upper_j]."""
    low = np.ceil((region.lower - region.parent) / step - BOUND_TOL).astype(int)
    high = np.floor((region.upper - region.parent) / step + BOUND_TOL).astype(int)
    return low, high


def lattice_size(region: Region, step: float) -> float:
    """Points of the parent-centred lattice of ``step`` (atom fraction) inside the region.

    Counts integer vectors m with ``low <= m <= high`` and ``sum(m) = 0`` by
    dynamic programming over the shifted sums (float, so no overflow).
    """
    low, high = _integer_ranges(region, step)
    target = -int(low.sum())
    if target < 0 or (high - low).sum() < target:
        return 0.0
    ways = np.zeros(target + 1)
    ways[0] = 1.0
    for width in high - low:
        cumulative = np.concatenate([[0.0], np.cumsum(ways)])
        # new[s] = sum of ways[s - width .. s]
        s = np.arange(target + 1)
        ways = cumulative[s + 1] - cumulative[np.maximum(s - width, 0)]
    return float(ways[target])


def lattice(region: Region, step: float) -> np.ndarray:
    """The parent-centred lattice of ``step`` inside the region.

    Returns
    -------
    ndarray of shape (n_points, n_elements)
        Atom fractions (rows sum to 1).
    """
    low, high = _integer_ranges(region, step)
    suffix_low = np.concatenate([np.cumsum(low[::-1])[::-1], [0]])
    suffix_high = np.concatenate([np.cumsum(high[::-1])[::-1], [0]])
    n = len(low)
    partial = np.zeros((1, 0), dtype=np.int32)
    sums = np.zeros(1, dtype=np.int64)
    for j in range(n - 1):
        values = np.arange(low[j], high[j] + 1)
        new_sums = sums[:, None] + values[None, :]
        ok = (new_sums + suffix_low[j + 1] <= 0) & (new_sums + suffix_high[j + 1] >= 0)
        rows, cols = np.nonzero(ok)
        partial = np.column_stack([partial[rows], values[cols]])
        sums = new_sums[rows, cols]
    m = np.column_stack([partial, -sums]) if n > 1 else np.zeros((1, 1), dtype=int)
    x = region.parent[None, :] + m * step
    x = np.clip(x, 0.0, 1.0)
    return x / x.sum(axis=1, keepdims=True)


def fitting_step(region: Region, step: float, max_points: int) -> float:
    """The finest lattice step ``span / k`` (integer k, step >= ``step``) with at most ``max_points`` points.

    ``span`` is the level (1 without limit), so the corners of the allowed
    box lie on the lattice. The count grows with k; k is found by bisection.

    Raises
    ------
    ConfigError
        ``step`` not > 0 or ``max_points`` < 1.
    """
    if not step > 0 or not max_points >= 1:
        raise ConfigError(f"grid step must be > 0 and max points >= 1, not {step!r} and {max_points!r}")
    span = 1.0 if region.max_change is None else region.max_change
    if span <= 0:
        return step
    low, high = 1, max(1, math.floor(span / step + BOUND_TOL))
    if lattice_size(region, span / high) <= max_points:
        return span / high
    while high - low > 1:  # lattice_size(span / low) <= max_points < lattice_size(span / high)
        mid = (low + high) // 2
        if lattice_size(region, span / mid) <= max_points:
            low = mid
        else:
            high = mid
    return span / low


@dataclass(frozen=True, eq=False)
class GridOptimum:
    """The lowest prediction over the lattice and the extra points.

    Attributes
    ----------
    step : float
        Lattice step used (atom fraction).
    n_points : int
        Compositions predicted (lattice plus extra points).
    fractions : ndarray of shape (n_elements,)
        The best composition.
    kcrit_pred_gpa : float
        Its prediction (GPa).
    n_below : int
        Points predicted strictly below the reference (the greedy end
        point); 0 when no reference was given.
    seconds : float
    """

    step: float
    n_points: int
    fractions: np.ndarray
    kcrit_pred_gpa: float
    n_below: int
    seconds: float


def grid_optimum(
    model: Surrogate,
    region: Region,
    *,
    step: float,
    max_points: int,
    extra: np.ndarray | None = None,
    reference_gpa: float | None = None,
) -> GridOptimum:
    """Lowest predicted Kcrit over the lattice of the region plus ``extra`` points.

    Parameters
    ----------
    model : Surrogate
    region : Region
    step : float
        Finest lattice step wanted (atom fraction); coarsened to fit
        ``max_points`` (:func:`fitting_step`).
    max_points : int
        Most lattice points predicted.
    extra : ndarray of shape (n_extra, n_elements), optional
        Compositions always included (the greedy trajectory).
    reference_gpa : float, optional
        The greedy result; ``n_below`` counts points under it.

    Returns
    -------
    GridOptimum
        Among equal predictions the one closest to the parent wins.
    """
    started = time.perf_counter()
    used = fitting_step(region, step, max_points)
    points = lattice(region, used)
    if extra is not None and len(extra):
        points = np.vstack([points, np.atleast_2d(extra)])
    predicted = np.concatenate([
        model.predict(pd.DataFrame(points[i:i + CHUNK_ROWS], columns=list(region.elements)))
        for i in range(0, len(points), CHUNK_ROWS)
    ])
    lowest = predicted.min()
    tied = np.flatnonzero(predicted <= lowest)
    best = tied[np.argmin(np.abs(points[tied] - region.parent).max(axis=1))]
    n_below = 0 if reference_gpa is None else int((predicted < reference_gpa - 1e-9).sum())
    return GridOptimum(float(used), len(points), points[best], float(predicted[best]), n_below,
                       time.perf_counter() - started)

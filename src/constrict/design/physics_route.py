"""Physics in the loop: minimise the computed interface Kcrit directly, under the same change limits.

One engine evaluation of a composition costs ~10 ms, so the design can skip
the surrogate. Kcrit is piecewise and non-convex in composition (the
paper's Fig. S2), so the search is derivative-free and multi-start:
coordinate line searches (the same moves as the SHAP route,
:meth:`~constrict.design.region.Region.moves`, so children never leave
their region) on a grid that is refined around the current point:

- level 0: ``line_points`` evenly spaced fractions over the element's whole
  allowed line;
- level L > 0: ``line_points`` fractions spaced ``width / (line_points - 1)
  / ZOOM**L`` around the current value (``width`` the element's box);
- sweep over the elements until no move lowers Kcrit, then refine.

Starts: the parent, any given points (the SHAP route's child), then random
points of the region (seeded). The evaluation budget is shared among the
starts; the objective is memoised by formula, so a composition is never
evaluated twice.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from constrict.core.errors import ConfigError
from constrict.design.physics import InterfaceObjective
from constrict.design.region import Region

ZOOM = 4
"""Refinement factor of the line grid between levels."""

IMPROVE_TOL_GPA = 1e-9
"""A move is taken only if Kcrit falls by more than this (GPa)."""


@dataclass(frozen=True)
class PhysicsOptions:
    """Settings of the physics-in-the-loop route.

    Attributes
    ----------
    starts : int
        Starts per parent and level: the parent, the given points, then
        random points up to this number.
    line_points : int
        Fractions tried per coordinate line (odd numbers centre the refined lines).
    zoom_levels : int
        Grid levels (1 = the coarse lines only).
    max_evaluations : int
        Engine evaluations per parent and level, over all starts (each
        start costs at least its own evaluation).
    random_state : int
        Seed of the random starts.
    """

    starts: int = 3
    line_points: int = 9
    zoom_levels: int = 3
    max_evaluations: int = 400
    random_state: int = 0

    def __post_init__(self):
        for name, low in (("starts", 1), ("line_points", 3), ("zoom_levels", 1), ("max_evaluations", 1)):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= low):
                raise ConfigError(f"design physics {name} must be an integer >= {low}, not {value!r}")


@dataclass(frozen=True, eq=False)
class PhysicsResult:
    """The best composition found by the physics route in one region.

    Attributes
    ----------
    region : Region
    fractions : ndarray of shape (n_elements,)
    kcrit_gpa : float
        Its computed interface Kcrit (GPa).
    start : str
        The start that led there ("parent", "given-<i>", "random-<i>").
    starts : tuple of dict
        Per start: name, start_kcrit_gpa, end_kcrit_gpa, sweeps.
    n_evaluations : int
        Engine evaluations spent in this region (memo hits not counted).
    n_failed : int
        Of those, compositions the engine refused.
    seconds : float
    trace : tuple of (int, float)
        (evaluation, best Kcrit so far in GPa) in this region; evaluation 0
        is the parent.
    """

    region: Region
    fractions: np.ndarray
    kcrit_gpa: float
    start: str
    starts: tuple[dict, ...]
    n_evaluations: int
    n_failed: int
    seconds: float
    trace: tuple[tuple[int, float], ...]


def _line(region: Region, x: np.ndarray, k: int, level: int, points: int) -> np.ndarray:
    lo, hi = region.line(x, k)
    if hi - lo <= 0:
        return np.empty(0)
    if level == 0:
        ts = np.linspace(lo, hi, points)
    else:
        spacing = (region.upper[k] - region.lower[k]) / (points - 1) / ZOOM**level
        ts = x[k] + spacing * (np.arange(points) - (points - 1) / 2)
    return np.unique(np.clip(ts, lo, hi))


def coordinate_search(
    objective: InterfaceObjective, region: Region, x0: np.ndarray, *, options: PhysicsOptions, budget: int
) -> tuple[np.ndarray, float, int]:
    """Coordinate line searches with grid refinement from ``x0`` until no move helps or ``budget`` is spent.

    Parameters
    ----------
    objective : InterfaceObjective
    region : Region
    x0 : ndarray of shape (n_elements,)
        Start, inside the region.
    options : PhysicsOptions
    budget : int
        Stop once ``objective.n_evaluations`` reaches this (``x0`` itself
        is always evaluated).

    Returns
    -------
    (ndarray, float, int)
        Best composition, its Kcrit (GPa), sweeps made.
    """
    x, fx, sweeps = np.asarray(x0, dtype=float), objective(x0), 0
    for level in range(options.zoom_levels):
        improved = True
        while improved and objective.n_evaluations < budget:
            improved, sweeps = False, sweeps + 1
            for k in range(len(region.elements)):
                ts = _line(region, x, k, level, options.line_points)
                if not len(ts):
                    continue
                candidates = region.moves(x, k, ts)
                values = []
                for c in candidates:
                    if objective.n_evaluations >= budget:
                        break
                    values.append(objective(c))
                if not values:
                    break
                values = np.array(values)
                lowest = values.min()
                tied = np.flatnonzero(values <= lowest)
                best = tied[np.argmin(np.abs(ts[tied] - x[k]))]
                if values[best] < fx - IMPROVE_TOL_GPA:
                    x, fx, improved = candidates[best], float(values[best]), True
    return x, fx, sweeps


def physics_route(
    objective: InterfaceObjective,
    region: Region,
    options: PhysicsOptions = PhysicsOptions(),
    *,
    given: Sequence[np.ndarray] = (),
) -> PhysicsResult:
    """Multi-start coordinate search of the computed interface Kcrit in one region.

    Parameters
    ----------
    objective : InterfaceObjective
        Over the region's elements; may be shared between regions of one
        parent (its memo then serves them all; counts here are differences).
    region : Region
    options : PhysicsOptions
    given : sequence of ndarray of shape (n_elements,)
        Extra starts (e.g. the SHAP child of the same level), after the parent.

    Returns
    -------
    PhysicsResult
    """
    if tuple(objective.elements) != tuple(region.elements):
        raise ConfigError("the objective and the region must list the same elements")
    started = time.perf_counter()
    first_eval, first_failed = objective.n_evaluations, objective.n_failed
    values_from = len(objective.values)
    rng = np.random.default_rng(options.random_state)
    starts = [("parent", region.parent)]
    starts += [(f"given-{i}", np.asarray(g, dtype=float)) for i, g in enumerate(given) if region.contains(g)]
    n_random = max(0, options.starts - len(starts))
    starts += [(f"random-{i}", x) for i, x in enumerate(region.random_points(n_random, rng))]
    starts = starts[: max(options.starts, 1)]
    best = (np.inf, region.parent, "parent")
    summary = []
    for i, (name, x0) in enumerate(starts):
        spent = objective.n_evaluations - first_eval
        budget = objective.n_evaluations + max((options.max_evaluations - spent) // (len(starts) - i), 0)
        x0_kcrit = objective(x0)
        x, fx, sweeps = coordinate_search(objective, region, x0, options=options, budget=budget)
        summary.append({"start": name, "start_kcrit_gpa": x0_kcrit, "end_kcrit_gpa": fx, "sweeps": sweeps})
        if fx < best[0] or (fx == best[0] and region.max_abs_change(x) < region.max_abs_change(best[1])):
            best = (fx, x, name)
    # evaluation 0 is the parent (perhaps evaluated before, for another level of the same parent)
    running = np.minimum.accumulate([objective(region.parent), *objective.values[values_from:]])
    trace = tuple((i, float(v)) for i, v in enumerate(running))
    return PhysicsResult(region, best[1], float(best[0]), best[2], tuple(summary),
                         objective.n_evaluations - first_eval, objective.n_failed - first_failed,
                         time.perf_counter() - started, trace)

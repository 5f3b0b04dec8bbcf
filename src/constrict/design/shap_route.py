"""The paper's route: SHAP-guided greedy steps on the surrogate (docs/design.md, docs/science.md section 6).

The surrogate is read as "Kcrit of the ground state at any composition" and
applied to the composition itself. From the parent, each step

1. computes the SHAP values of the surrogate at the current composition
   (interventional TreeExplainer, additivity checked:
   :meth:`~constrict.surrogate.KcritSurrogate.explain`);
2. takes, among the elements of the region that can move, the one with the
   largest positive SHAP value, or the second largest if the largest was
   the one changed in the previous step (its line, the others rescaled in
   proportion, is the one just searched);
3. line-searches that element's fraction over its allowed range
   (:meth:`~constrict.design.region.Region.line_points`, the others
   rescaled) for the lowest predicted Kcrit; among equal predictions the
   smallest change wins;
4. accepts the move only if the prediction falls by more than
   :data:`FALL_TOL_GPA`. If it does not, the next element by SHAP value is
   tried (the trees are piecewise constant, so a line is often flat); the
   route stops when no element with a positive SHAP value lowers the
   prediction (Kcrit "cannot be further reduced", as the paper's Methods
   put it), or at the step cap.

Every visited composition is recorded with its prediction and the SHAP
values of all the model's elements.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from constrict.core.errors import ConfigError
from constrict.design.region import Region

FALL_TOL_GPA = 1e-9
"""A step is accepted only if the prediction falls by more than this (GPa)."""

STOP_REASONS = ("no_fall", "no_positive_shap", "only_last_changed", "step_cap")
"""Why a route ended: no line search of an element with a positive SHAP
value lowered the prediction; no movable element has a positive SHAP
value; only the element changed last has one; the step cap was reached."""


class Surrogate(Protocol):
    """What the design reads from a surrogate (:class:`~constrict.surrogate.KcritSurrogate`)."""

    features: list[str]

    def predict(self, X) -> np.ndarray: ...  # noqa: D102

    def predict_trees(self, X) -> np.ndarray: ...  # noqa: D102

    def explain(self, X) -> pd.DataFrame: ...  # noqa: D102


@dataclass(frozen=True)
class ShapOptions:
    """Settings of the SHAP-guided route.

    Attributes
    ----------
    max_steps : int
        Step cap (accepted moves).
    line_step : float
        Spacing of the line search (atom fraction); the ends of the allowed
        range and the current value are always tried too.
    """

    max_steps: int = 40
    line_step: float = 0.0025

    def __post_init__(self):
        if not (isinstance(self.max_steps, int) and self.max_steps >= 0):
            raise ConfigError(f"design max_steps must be an integer >= 0, not {self.max_steps!r}")
        if not 0 < self.line_step <= 0.5:
            raise ConfigError(f"design line_step must be in (0, 0.5] (atom fraction), not {self.line_step!r}")


@dataclass(frozen=True, eq=False)
class Step:
    """One composition along a route.

    Attributes
    ----------
    step : int
        0 = the parent.
    element : str
        The element moved to get here ("" for the parent).
    rank : int
        Its place among the candidates by SHAP value (1 = the largest
        positive one, or the second largest if the largest moved last;
        2, 3, ... when the lines before it were flat); 0 for the parent.
    fractions : ndarray of shape (n_elements,)
        Atom fractions over the region's elements.
    kcrit_pred_gpa : float
        Predicted Kcrit (GPa).
    shap : ndarray of shape (n_features,)
        SHAP value of each of the model's elements here (the model's output unit).
    base_value : float
        The explainer's expected output (same unit): ``base_value + shap.sum()``
        is the model output.
    """

    step: int
    element: str
    rank: int
    fractions: np.ndarray
    kcrit_pred_gpa: float
    shap: np.ndarray
    base_value: float


@dataclass(frozen=True, eq=False)
class Trajectory:
    """A SHAP-guided route from a parent in one region.

    Attributes
    ----------
    region : Region
    steps : tuple of Step
        Parent first; each later step is an accepted move.
    stop_reason : str
        One of :data:`STOP_REASONS`.
    features : tuple of str
        The model's elements (the columns of each step's ``shap``).
    shap_output : str
        Unit of the SHAP values (``"kcrit_gpa"`` or ``"log1p(kcrit_gpa)"``).
    n_predictions : int
        Compositions predicted (line searches included).
    seconds : float
        Wall time of the route.
    """

    region: Region
    steps: tuple[Step, ...]
    stop_reason: str
    features: tuple[str, ...]
    shap_output: str
    n_predictions: int
    seconds: float

    @property
    def end(self) -> Step:
        """The child: the last accepted composition."""
        return self.steps[-1]

    def frame(self) -> pd.DataFrame:
        """One row per step: step, element, rank, formula, kcrit_pred_gpa, base_value, max_abs_change."""
        return pd.DataFrame({
            "step": [s.step for s in self.steps],
            "element": [s.element for s in self.steps],
            "rank": [s.rank for s in self.steps],
            "formula": [self.region.formula(s.fractions) for s in self.steps],
            "kcrit_pred_gpa": [s.kcrit_pred_gpa for s in self.steps],
            "base_value": [s.base_value for s in self.steps],
            "max_abs_change": [self.region.max_abs_change(s.fractions) for s in self.steps],
        })

    def shap_frame(self) -> pd.DataFrame:
        """Long table: one row per step and model element (step, element, fraction, shap, unit)."""
        index = {el: i for i, el in enumerate(self.region.elements)}
        rows = []
        for s in self.steps:
            for j, element in enumerate(self.features):
                fraction = float(s.fractions[index[element]]) if element in index else 0.0
                rows.append((s.step, element, fraction, float(s.shap[j])))
        frame = pd.DataFrame(rows, columns=["step", "element", "fraction", "shap"])
        frame["unit"] = self.shap_output
        return frame


def _frame(region: Region, X: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(np.atleast_2d(X), columns=list(region.elements))


def candidates(shap_here: np.ndarray, movable: np.ndarray, last: int | None) -> tuple[list[int], str]:
    """Elements to try, by SHAP value: the movable ones with a positive value, the one moved last left out.

    Returns
    -------
    (list of int, str)
        Element indices, largest SHAP first, and "" or the stop reason
        when the list is empty.
    """
    order = [int(k) for k in np.argsort(-shap_here, kind="stable") if movable[k] and shap_here[k] > 0]
    if not order:
        return [], "no_positive_shap"
    order = [k for k in order if k != last]
    return order, "" if order else "only_last_changed"


def best_on_line(model: Surrogate, region: Region, x: np.ndarray, k: int, step: float) -> tuple[np.ndarray, float, int]:
    """The lowest prediction along element ``k``'s line (ties: the smallest change of x_k).

    Returns
    -------
    (ndarray of shape (n_elements,), float, int)
        The best composition, its predicted Kcrit (GPa) and the number of
        compositions predicted.
    """
    ts = region.line_points(x, k, step)
    candidates = region.moves(x, k, ts)
    predicted = model.predict(_frame(region, candidates))
    lowest = predicted.min()
    tied = np.flatnonzero(predicted <= lowest)
    best = tied[np.argmin(np.abs(ts[tied] - x[k]))]
    return candidates[best], float(predicted[best]), len(ts)


def shap_route(model: Surrogate, region: Region, options: ShapOptions = ShapOptions()) -> Trajectory:
    """Run the SHAP-guided greedy route from the region's parent.

    Parameters
    ----------
    model : Surrogate
        A fitted surrogate (predict in GPa, explain -> SHAP DataFrame).
    region : Region
        Parent and allowed compositions (one level).
    options : ShapOptions

    Returns
    -------
    Trajectory
    """
    started = time.perf_counter()
    features = list(model.features)
    columns = np.array([features.index(el) for el in region.elements])

    output = []

    def visit(step: int, element: str, rank: int, x: np.ndarray, predicted: float) -> Step:
        shap = model.explain(_frame(region, x))
        output.append(shap.attrs.get("output", "kcrit_gpa"))
        return Step(step, element, rank, x, predicted, shap.to_numpy()[0], float(shap.attrs["base_value"]))

    x = region.parent.copy()
    steps = [visit(0, "", 0, x, float(model.predict(_frame(region, x))[0]))]
    n_predictions, last, reason = 1, None, "step_cap"
    for i in range(1, options.max_steps + 1):
        here = steps[-1]
        movable = np.array([np.ptp(region.line(x, k)) > 0 for k in range(len(region.elements))])
        order, reason_if_none = candidates(here.shap[columns], movable, last)
        moved = None
        for rank, k in enumerate(order, start=1):
            candidate, predicted, n = best_on_line(model, region, x, k, options.line_step)
            n_predictions += n
            if predicted < here.kcrit_pred_gpa - FALL_TOL_GPA:
                moved = (k, rank, candidate, predicted)
                break
        if moved is None:
            reason = reason_if_none or "no_fall"
            break
        k, rank, x, predicted = moved
        last = k
        steps.append(visit(i, region.elements[k], rank, x, predicted))
    return Trajectory(region, tuple(steps), reason, tuple(features), output[0], n_predictions,
                      time.perf_counter() - started)

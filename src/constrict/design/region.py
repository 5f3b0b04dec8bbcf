"""The compositions a child may take: each element within a maximum change of its parent.

A child of a parent ``p`` at level ``max_change = d`` has atom fractions
``x`` over the region's elements (the parent's plus those allowed to
enter) with

    max(0, p_j - d) <= x_j <= min(1, p_j + d),   sum_j x_j = 1,

and every other element at 0. ``d = None`` is child C (no limit: each
fraction in [0, 1]). Moves along one element (:meth:`Region.move`) set its
fraction and rescale the others so the sum stays 1; :meth:`Region.line`
gives the range of that fraction which keeps *every* element inside its
bounds, so a route made of such moves never leaves the region.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from constrict.core.errors import ConfigError, ConstrictError
from constrict.design.parents import formula_of

BOUND_TOL = 1e-9
"""Atom-fraction slack allowed on the bounds and on the sum (floating point)."""

DEFAULT_ENTERING = ("O", "F", "Cl", "Br", "I")
"""Elements that may enter a child besides the parent's own (the paper lets O, F, Cl, Br and others enter)."""


def check_max_change(max_change) -> float | None:
    """A maximum change per element: a number in [0, 1], or None for no limit.

    Raises
    ------
    ConfigError
        Not a number, or outside [0, 1] (one line naming the value).
    """
    if max_change is None:
        return None
    try:
        value = float(max_change)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"max change must be an atom fraction in [0, 1] or none, not {max_change!r}") from err
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise ConfigError(f"max change {value:g} is outside [0, 1] (an atom fraction per element)")
    return value


def level_label(max_change: float | None) -> str:
    """``"none"`` for no limit, else the change as written, e.g. ``"0.05"``."""
    return "none" if max_change is None else f"{max_change:g}"


@dataclass(frozen=True, eq=False)
class Region:
    """Allowed compositions of one parent at one level.

    Attributes
    ----------
    elements : tuple of str, length n_elements
        The elements that may be non-zero, parent's first.
    parent : ndarray of shape (n_elements,)
        The parent's atom fractions.
    lower, upper : ndarray of shape (n_elements,)
        Bounds of each fraction.
    max_change : float or None
        The level (atom fraction per element); None = no limit.
    """

    elements: tuple[str, ...]
    parent: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    max_change: float | None

    @property
    def level(self) -> str:
        """:func:`level_label` of ``max_change``."""
        return level_label(self.max_change)

    def contains(self, x: np.ndarray) -> bool:
        """Whether ``x`` (shape (n_elements,)) is inside the bounds and sums to 1."""
        x = np.asarray(x, dtype=float)
        return bool(
            np.all(x >= self.lower - BOUND_TOL) and np.all(x <= self.upper + BOUND_TOL)
            and abs(x.sum() - 1.0) <= BOUND_TOL
        )

    def line(self, x: np.ndarray, k: int) -> tuple[float, float]:
        """The range of element ``k``'s fraction reachable by :meth:`move` from ``x`` inside the region.

        Setting x_k = t rescales the others by s = (1 - t) / (1 - x_k); each
        other element j must stay in [lower_j, upper_j], which bounds t.

        Returns
        -------
        (float, float)
            Lowest and highest fraction of element ``k``; both equal x_k
            when it cannot move.
        """
        x = np.asarray(x, dtype=float)
        lo, hi = float(self.lower[k]), float(self.upper[k])
        rest = 1.0 - x[k]
        if rest <= BOUND_TOL:
            return float(x[k]), float(x[k])
        for j in np.flatnonzero(x > 0):
            if j == k:
                continue
            lo = max(lo, 1.0 - rest * self.upper[j] / x[j])
            hi = min(hi, 1.0 - rest * self.lower[j] / x[j])
        lo, hi = max(lo, 0.0), min(hi, 1.0)
        if hi < lo:  # x sits on a bound (floating point): it cannot move
            return float(x[k]), float(x[k])
        return float(lo), float(hi)

    def line_points(self, x: np.ndarray, k: int, step: float) -> np.ndarray:
        """Fractions of element ``k`` to try: the ends of :meth:`line`, its value, the multiples of ``step`` between.

        Returns
        -------
        ndarray of shape (n_points,)
            Sorted, unique.
        """
        lo, hi = self.line(x, k)
        inner = np.arange(math.floor(lo / step) + 1, math.ceil(hi / step)) * step
        points = np.concatenate([[lo, hi, float(x[k])], inner[(inner > lo) & (inner < hi)]])
        return np.unique(points)

    def moves(self, x: np.ndarray, k: int, t: Sequence[float] | np.ndarray) -> np.ndarray:
        """``x`` with element ``k`` at each fraction of ``t``, the others rescaled to sum 1.

        Parameters
        ----------
        x : ndarray of shape (n_elements,)
        k : int
            Element index.
        t : sequence of float, length n_points
            New fractions of element ``k``, inside :meth:`line`.

        Returns
        -------
        ndarray of shape (n_points, n_elements)
        """
        x = np.asarray(x, dtype=float)
        t = np.asarray(t, dtype=float).reshape(-1)
        rest = 1.0 - x[k]
        scale = (1.0 - t) / rest if rest > 0 else np.zeros_like(t)
        out = np.outer(scale, x)
        out[:, k] = t
        out = np.clip(out, 0.0, 1.0)
        return out / out.sum(axis=1, keepdims=True)

    def move(self, x: np.ndarray, k: int, t: float) -> np.ndarray:
        """One move of :meth:`moves`: shape (n_elements,)."""
        return self.moves(x, k, [t])[0]

    def project(self, y: np.ndarray) -> np.ndarray:
        """Euclidean projection of ``y`` (shape (n_elements,)) onto the region.

        The projection onto {lower <= x <= upper, sum x = 1} is
        ``clip(y - lam, lower, upper)`` with the ``lam`` that makes the sum
        1 (found by bisection; the sum falls monotonically in ``lam``).
        """
        y = np.asarray(y, dtype=float)
        lo_lam, hi_lam = float(np.min(y - self.upper)) - 1.0, float(np.max(y - self.lower)) + 1.0
        for _ in range(200):
            lam = 0.5 * (lo_lam + hi_lam)
            if np.clip(y - lam, self.lower, self.upper).sum() > 1.0:
                lo_lam = lam
            else:
                hi_lam = lam
        x = np.clip(y - 0.5 * (lo_lam + hi_lam), self.lower, self.upper)
        return x / x.sum()

    def random_points(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` points of the region: uniform draws in the box, projected (:meth:`project`).

        Returns
        -------
        ndarray of shape (n, n_elements)
        """
        points = [self.project(rng.uniform(self.lower, self.upper)) for _ in range(n)]
        return np.array(points) if points else np.empty((0, len(self.elements)))

    def fractions(self, x: np.ndarray) -> dict[str, float]:
        """Element -> fraction of ``x``, zeros included."""
        return {el: float(v) for el, v in zip(self.elements, np.asarray(x, dtype=float), strict=True)}

    def formula(self, x: np.ndarray) -> str:
        """``x`` written as a formula of atom fractions (:func:`~constrict.design.parents.formula_of`)."""
        return formula_of(self.fractions(x))

    def max_abs_change(self, x: np.ndarray) -> float:
        """Largest |x_j - p_j| over the elements (atom fraction)."""
        return float(np.max(np.abs(np.asarray(x, dtype=float) - self.parent)))


def make_region(
    parent: Mapping[str, float],
    max_change: float | None,
    *,
    entering: Iterable[str] = DEFAULT_ENTERING,
    known: Sequence[str] | None = None,
) -> Region:
    """The :class:`Region` of a parent at one level.

    Parameters
    ----------
    parent : mapping of str to float
        Element -> atom fraction (normalised here).
    max_change : float or None
        Largest change of any element's fraction, in [0, 1]; None = no limit.
    entering : iterable of str
        Elements that may enter besides the parent's (default O, F, Cl, Br, I).
    known : sequence of str, optional
        Elements the caller can handle (the surrogate's features, the
        entry data's elements); any other in the parent or ``entering``
        is an error.

    Raises
    ------
    ConfigError
        ``max_change`` outside [0, 1].
    ConstrictError
        An element outside ``known``, or a parent without atoms.
    """
    max_change = check_max_change(max_change)
    total = float(sum(parent.values()))
    if not total > 0:
        raise ConstrictError("the parent composition has no atoms")
    elements = list(parent)
    elements += [el for el in entering if el not in parent]
    if known is not None:
        outside = [el for el in elements if el not in set(known)]
        if outside:
            raise ConstrictError(f"element(s) {', '.join(outside)} outside the data the design uses "
                                 f"(it knows {len(known)} elements)")
    p = np.array([float(parent.get(el, 0.0)) / total for el in elements])
    d = 1.0 if max_change is None else max_change
    lower, upper = np.clip(p - d, 0.0, 1.0), np.clip(p + d, 0.0, 1.0)
    return Region(tuple(elements), p, lower, upper, max_change)

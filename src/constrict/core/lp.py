"""Tiny dense linear programmes through HiGHS (highspy), reused across solves.

Every hull, interface and grand-potential problem in constrict is a small LP
(a few rows, tens to thousands of columns). ``scipy.optimize.linprog`` spends
most of its time in argument checking for problems this size; a reused
``highspy.Highs`` model with only its costs or right-hand side changed lets
HiGHS warm-start from the previous basis.

Making and configuring a ``Highs`` object costs about as much as a warm
solve, and a screen makes one per chemical system and kind. So a
:class:`DenseLP` that is garbage-collected hands its solver back to a
per-process stock of spares, and the next new :class:`DenseLP` loads its
model into a spare (``passModel``, which clears every trace of the previous
model, basis and solver state) instead of making a new one.
"""

from __future__ import annotations

import os
import sys
from typing import NamedTuple

import highspy
import numpy as np

FEAS_TOL = 1e-10
"""Primal and dual feasibility tolerance given to HiGHS."""

AMOUNT_TOL = 1e-10
"""An LP amount at or below this (atoms per atom of the reactant) is read as absent, well above FEAS_TOL noise."""

SPARE_SOLVERS = 2048
"""At most this many idle ``Highs`` objects are kept for reuse per process."""

_INF = highspy.kHighsInf
_OPTIMAL = highspy.HighsModelStatus.kOptimal
_banner = {"done": False}
_spare: list[highspy.Highs] = []


def _quiet_highs() -> highspy.Highs:
    """A Highs object; the first one per process prints a banner to fd 1, hide it."""
    if _banner["done"] or not hasattr(sys.stdout, "fileno"):
        return highspy.Highs()
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):
        return highspy.Highs()
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
    _banner["done"] = True
    return h


def _new_highs() -> highspy.Highs:
    h = _quiet_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("presolve", "off")
    h.setOptionValue("solver", "simplex")
    h.setOptionValue("primal_feasibility_tolerance", FEAS_TOL)
    h.setOptionValue("dual_feasibility_tolerance", FEAS_TOL)
    h.setOptionValue("threads", 1)
    return h


def _solver() -> highspy.Highs:
    """A configured Highs object: a spare if there is one, else a new one."""
    try:
        return _spare.pop()
    except IndexError:
        return _new_highs()


def _colwise(a_eq: np.ndarray) -> highspy.HighsLp:
    """A HighsLp holding the non-zeros of ``a_eq`` column-wise (no bounds, no costs yet).

    Arrays go in as lists: pybind copies a list into a std::vector faster
    than it walks a numpy array item by item (same values).
    """
    n_rows, n_cols = a_eq.shape
    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = n_rows
    nz_col, nz_row = np.nonzero(a_eq.T)
    matrix = lp.a_matrix_
    matrix.format_ = highspy.MatrixFormat.kColwise
    matrix.start_ = np.searchsorted(nz_col, np.arange(n_cols + 1)).tolist()
    matrix.index_ = nz_row.tolist()
    matrix.value_ = a_eq.T[nz_col, nz_row].tolist()
    matrix.num_col_ = n_cols
    matrix.num_row_ = n_rows
    return lp


class LPSolution(NamedTuple):
    """An optimal solution of a :class:`DenseLP`.

    Attributes
    ----------
    x : ndarray of shape (n_cols,)
        Column values.
    objective : float
        ``cost @ x``.
    row_duals : ndarray of shape (n_rows,)
        Dual values of the equality rows.
    """

    x: np.ndarray
    objective: float
    row_duals: np.ndarray


class DenseLP:
    """``min cost @ x  s.t.  a_eq @ x = b_eq,  lower <= x <= upper``.

    Parameters
    ----------
    a_eq : ndarray of shape (n_rows, n_cols)
        Equality constraint matrix (dense; zeros are dropped).
    b_eq : ndarray of shape (n_rows,)
        Right-hand side.
    cost : ndarray of shape (n_cols,)
        Objective coefficients.
    lower, upper : ndarray of shape (n_cols,), optional
        Column bounds; default ``0`` and ``+inf``.

    Notes
    -----
    One instance owns one ``highspy.Highs`` object, so change the costs or
    the right-hand side with :meth:`set_cost` / :meth:`set_rhs` and call
    :meth:`solve` again: HiGHS warm-starts from the last basis. Not
    thread-safe; make one per thread. The result of a solve depends only on
    the model and on the solves and changes made on this instance before
    it, never on what its (recycled) ``Highs`` object did before.
    """

    def __init__(self, a_eq, b_eq, cost, lower=None, upper=None):
        a_eq = np.asarray(a_eq, dtype=float)
        n_rows, n_cols = a_eq.shape
        self.n_rows, self.n_cols = n_rows, n_cols
        lp = _colwise(a_eq)
        lp.col_cost_ = np.asarray(cost, dtype=float).tolist()
        lp.col_lower_ = [0.0] * n_cols if lower is None else np.asarray(lower, dtype=float).tolist()
        lp.col_upper_ = [_INF] * n_cols if upper is None else np.asarray(upper, dtype=float).tolist()
        b_eq = np.asarray(b_eq, dtype=float)
        lp.row_lower_ = lp.row_upper_ = b_eq.tolist()
        self._h = _solver()
        self._h.passModel(lp)
        self._rhs = b_eq.tobytes()
        self._rows = np.arange(n_rows, dtype=np.int32)
        self._cols = np.arange(n_cols, dtype=np.int32)

    def __del__(self):
        # hand the solver back for the next DenseLP (its model is replaced there)
        h = self.__dict__.pop("_h", None)
        if h is not None and _spare is not None and len(_spare) < SPARE_SOLVERS:
            _spare.append(h)

    def set_rhs(self, b_eq) -> None:
        """Replace the right-hand side ``b_eq`` (shape (n_rows,))."""
        b_eq = np.asarray(b_eq, dtype=float)
        self._h.changeRowsBounds(self.n_rows, self._rows, b_eq, b_eq)
        self._rhs = b_eq.tobytes()

    def set_cost(self, cost) -> None:
        """Replace the objective coefficients (shape (n_cols,))."""
        self._h.changeColsCost(self.n_cols, self._cols, np.asarray(cost, dtype=float))

    def set_cost_and_rhs(self, cost, b_eq) -> None:
        """Replace the costs, and the right-hand side if it differs from the current one.

        Equal to :meth:`set_cost` and :meth:`set_rhs` in either order, solver
        state included: rewriting equal equality bounds changes no value and
        no basis status, and the flags it would reset are the ones a cost
        change resets.
        """
        self.set_cost(cost)
        b_eq = np.asarray(b_eq, dtype=float)
        if b_eq.tobytes() != self._rhs:
            self.set_rhs(b_eq)

    def set_column(self, col: int, values) -> None:
        """Replace the constraint coefficients of one column (shape (n_rows,))."""
        change = self._h.changeCoeff
        for row, val in enumerate(np.asarray(values, dtype=float).tolist()):
            change(row, col, val)

    def set_col_bounds(self, lower, upper) -> None:
        """Replace all column bounds (shape (n_cols,) each)."""
        self._h.changeColsBounds(
            self.n_cols, self._cols, np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
        )

    def solve(self) -> LPSolution | None:
        """Solve; the optimal :class:`LPSolution`, or ``None`` if not optimal."""
        h = self._h
        h.run()
        if h.getModelStatus() != _OPTIMAL:
            # a stale basis can stall; retry once from scratch
            h.clearSolver()
            h.run()
            if h.getModelStatus() != _OPTIMAL:
                # a degenerate problem (e.g. a window whose supporting face is a
                # point) can defeat the plain simplex; presolve settles it
                h.clearSolver()
                h.setOptionValue("presolve", "on")
                h.run()
                h.setOptionValue("presolve", "off")
                if h.getModelStatus() != _OPTIMAL:
                    return None
        sol = h.getSolution()
        x = np.fromiter(sol.col_value, dtype=float, count=self.n_cols)
        return LPSolution(x, h.getObjectiveValue(), np.fromiter(sol.row_dual, dtype=float, count=self.n_rows))

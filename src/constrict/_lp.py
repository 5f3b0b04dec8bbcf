"""Tiny dense linear programmes through HiGHS (highspy), reused across solves.

Every hull, interface and grand-potential problem in constrict is a small LP
(a few rows, tens to thousands of columns). ``scipy.optimize.linprog`` spends
most of its time in argument checking for problems this size; a reused
``highspy.Highs`` model with only its costs or right-hand side changed lets
HiGHS warm-start from the previous basis.
"""

from __future__ import annotations

import os
import sys
import highspy
import numpy as np

FEAS_TOL = 1e-10
"""Primal and dual feasibility tolerance given to HiGHS."""

_INF = highspy.kHighsInf
_OPTIMAL = highspy.HighsModelStatus.kOptimal
_banner = {"done": False}


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


class DenseLP:
    """``min cost @ x  s.t.  a_eq @ x = b_eq,  lower <= x <= upper``.

    Parameters
    ----------
    a_eq : ndarray of shape (n_rows, n_cols)
        Equality constraint matrix (dense; zeros are dropped).
    b_eq : ndarray of shape (n_rows,)
    cost : ndarray of shape (n_cols,)
    lower, upper : ndarray of shape (n_cols,), optional
        Column bounds; default ``0`` and ``+inf``.

    Notes
    -----
    One instance owns one ``highspy.Highs`` object, so change the costs or
    the right-hand side with :meth:`set_cost` / :meth:`set_rhs` and call
    :meth:`solve` again: HiGHS warm-starts from the last basis. Not
    thread-safe; make one per thread.
    """

    def __init__(self, a_eq, b_eq, cost, lower=None, upper=None):
        a_eq = np.asarray(a_eq, dtype=float)
        n_rows, n_cols = a_eq.shape
        self.n_rows, self.n_cols = n_rows, n_cols
        lp = highspy.HighsLp()
        lp.num_col_ = n_cols
        lp.num_row_ = n_rows
        lp.col_cost_ = np.asarray(cost, dtype=float)
        lp.col_lower_ = np.zeros(n_cols) if lower is None else np.asarray(lower, dtype=float)
        lp.col_upper_ = np.full(n_cols, _INF) if upper is None else np.asarray(upper, dtype=float)
        b_eq = np.asarray(b_eq, dtype=float)
        lp.row_lower_ = b_eq
        lp.row_upper_ = b_eq
        nz_col, nz_row = np.nonzero(a_eq.T)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.searchsorted(nz_col, np.arange(n_cols + 1)).astype(np.int32)
        lp.a_matrix_.index_ = nz_row.astype(np.int32)
        lp.a_matrix_.value_ = a_eq.T[nz_col, nz_row]
        lp.a_matrix_.num_col_ = n_cols
        lp.a_matrix_.num_row_ = n_rows
        self._h = _new_highs()
        self._h.passModel(lp)
        self._rows = np.arange(n_rows, dtype=np.int32)
        self._cols = np.arange(n_cols, dtype=np.int32)

    def set_rhs(self, b_eq) -> None:
        """Replace the right-hand side ``b_eq`` (shape (n_rows,))."""
        b_eq = np.asarray(b_eq, dtype=float)
        self._h.changeRowsBounds(self.n_rows, self._rows, b_eq, b_eq)

    def set_cost(self, cost) -> None:
        """Replace the objective coefficients (shape (n_cols,))."""
        self._h.changeColsCost(self.n_cols, self._cols, np.asarray(cost, dtype=float))

    def set_column(self, col: int, values) -> None:
        """Replace the constraint coefficients of one column (shape (n_rows,))."""
        for row, val in enumerate(np.asarray(values, dtype=float)):
            self._h.changeCoeff(row, col, val)

    def set_col_bounds(self, lower, upper) -> None:
        """Replace all column bounds (shape (n_cols,) each)."""
        self._h.changeColsBounds(
            self.n_cols, self._cols, np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
        )

    def solve(self) -> tuple[np.ndarray, float, np.ndarray] | None:
        """Solve; return ``(x, objective, row_duals)`` or ``None`` if not optimal."""
        h = self._h
        h.run()
        if h.getModelStatus() != _OPTIMAL:
            # a stale basis can stall; retry once from scratch
            h.clearSolver()
            h.run()
            if h.getModelStatus() != _OPTIMAL:
                return None
        sol = h.getSolution()
        x = np.asarray(sol.col_value)
        return x, float(h.getInfo().objective_function_value), np.asarray(sol.row_dual)

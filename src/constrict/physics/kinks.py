"""The whole pseudo-binary reaction curve E_rxn(x) of an interface and its kinks (docs/science.md section 1).

:func:`constrict.physics.interface.interface_reaction` finds only the minimum x_m.
A plot (and a reader used to pymatgen's ``InterfacialReactivity``) wants
the whole curve

    E_rxn(x) = E_hull(c(x)) - [(1 - x) E_a + x E_b],   c(x) = (1 - x) c_a + x c_b

which is convex and piecewise linear in x: it bends only where the ground
state along the mixing line changes phases (the kinks). They are found
exactly by supporting lines: a hull LP at x gives E_hull(c(x)) and its
element chemical potentials mu, and ``mu @ c(x')`` is a line below the
curve that touches it at x. Two such lines, at x0 and x1, cross at x*; if
the curve passes through the crossing, x* is the only kink between x0 and
x1, else x* is a new point and both halves are searched again. Each
evaluation is one small LP, a kink costs about two.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from constrict.core.errors import UnknownFormulaError
from constrict.core.lp import DenseLP
from constrict.data.entries import EntrySet
from constrict.physics.interface import Reactant

ENERGY_TOL_EV = 1e-9
"""A crossing of two supporting lines within this (eV/atom) of the curve is a kink."""

X_TOL = 1e-9
"""Kinks closer than this in x (atom fraction) are one kink."""

MAX_EVALUATIONS = 500
"""Hull LPs per curve at most (a curve has far fewer kinks; reaching it is an error)."""


@dataclass(frozen=True)
class ReactionCurve:
    """E_rxn(x) of one electrolyte (a, x = 0) and coating (b, x = 1), exactly, at its kinks.

    Attributes
    ----------
    electrolyte, coating : str
        Formulas of reactants a and b.
    x : ndarray of shape (n_kinks,)
        Mixing ratio of the kinks, the coating's atom fraction, ascending;
        0 and 1 included (as pymatgen's ``get_kinks`` gives them).
    e_rxn_ev_per_atom : ndarray of shape (n_kinks,)
        E_rxn at the kinks (eV per atom of mixture), each reactant at its own
        energy; linear in between.
    products : tuple of dict
        Per kink, entry row -> atoms per atom of mixture of the ground state
        at c(x).
    """

    electrolyte: str
    coating: str
    x: np.ndarray
    e_rxn_ev_per_atom: np.ndarray
    products: tuple

    @property
    def x_min(self) -> float:
        """Mixing ratio of the lowest kink (the smallest x among tied minima)."""
        return float(self.x[int(np.argmin(self.e_rxn_ev_per_atom))])

    def at(self, x) -> np.ndarray:
        """E_rxn (eV/atom) at mixing ratios ``x`` (any shape), by linear interpolation between the kinks."""
        return np.interp(x, self.x, self.e_rxn_ev_per_atom)


class _MixingLine:
    """Hull LP along c(x) in the combined system: E_hull(c(x)), its slope line and ground state."""

    def __init__(self, entry_set: EntrySet, a: Reactant, b: Reactant):
        cols = tuple(int(c) for c in np.flatnonzero((a.comp + b.comp) > 0))
        self.cols = list(cols)
        self.rows = entry_set.stable_in(cols)
        if len(self.rows) == 0:
            raise UnknownFormulaError(f"no hull in {entry_set.chemical_system(cols)}: the data lack phases spanning it")
        self.c_a, self.c_b = a.comp[self.cols], b.comp[self.cols]
        self.lp = DenseLP(entry_set.comp[np.ix_(self.rows, self.cols)].T, self.c_a,
                          entry_set.energy_per_atom_ev[self.rows])
        self.chemical_system = entry_set.chemical_system(cols)
        self.evaluations = 0

    def __call__(self, x: float) -> tuple[float, float, dict]:
        """E_hull(c(x)) (eV/atom), the slope d/dx of a supporting line there, and the ground state."""
        self.evaluations += 1
        if self.evaluations > MAX_EVALUATIONS:
            raise RuntimeError(f"reaction curve in {self.chemical_system}: more than {MAX_EVALUATIONS} hull LPs")
        self.lp.set_rhs((1.0 - x) * self.c_a + x * self.c_b)
        sol = self.lp.solve()
        if sol is None:
            raise UnknownFormulaError(f"no hull in {self.chemical_system} at x = {x:.6g}")
        n, energy, mu = sol
        keep = n > 1e-10
        phases = {int(r): float(v) for r, v in zip(self.rows[keep], n[keep], strict=True)}
        return float(energy), float(mu @ (self.c_b - self.c_a)), phases


def reaction_curve(entry_set: EntrySet, a: Reactant, b: Reactant) -> ReactionCurve:
    """E_rxn(x) of reactants a (x = 0) and b (x = 1) at all of its kinks, exactly.

    Parameters
    ----------
    entry_set : EntrySet
    a, b : Reactant
        Electrolyte and coating, each per atom at its own energy (as
        :func:`constrict.physics.evaluate.resolve_reactant` gives them).

    Returns
    -------
    ReactionCurve

    Raises
    ------
    UnknownFormulaError
        The data have no phases spanning the combined system.
    """
    line = _MixingLine(entry_set, a, b)
    ends = [(x, *line(x)) for x in (0.0, 1.0)]
    points = {0.0: (ends[0][1], ends[0][3]), 1.0: (ends[1][1], ends[1][3])}  # x -> (E_hull, ground state)
    # stack of (x0, f0, g0, x1, f1, g1): segments not yet known to be linear
    todo = [(*ends[0][:3], *ends[1][:3])]
    while todo:
        x0, f0, g0, x1, f1, g1 = todo.pop()
        if g1 - g0 <= ENERGY_TOL_EV:  # both lines support the curve with one slope: linear in between
            continue
        x_star = (f1 - f0 + g0 * x0 - g1 * x1) / (g0 - g1)
        if not (x0 + X_TOL < x_star < x1 - X_TOL):  # the lines cross at an end: linear in between
            continue
        f_star, g_star, phases = line(x_star)
        points[x_star] = (f_star, phases)
        if f_star > f0 + g0 * (x_star - x0) + ENERGY_TOL_EV:  # the curve is above the crossing: search both halves
            todo.append((x0, f0, g0, x_star, f_star, g_star))
            todo.append((x_star, f_star, g_star, x1, f1, g1))
    xs = np.array(sorted(points))
    e_hull = np.array([points[x][0] for x in xs])
    e_rxn = e_hull - ((1.0 - xs) * a.energy_per_atom_ev + xs * b.energy_per_atom_ev)
    # a point that is not a kink (on a straight segment between its neighbours) is dropped
    keep = np.ones(len(xs), dtype=bool)
    for i in range(1, len(xs) - 1):
        w = (xs[i] - xs[i - 1]) / (xs[i + 1] - xs[i - 1])
        keep[i] = e_rxn[i] < (1 - w) * e_rxn[i - 1] + w * e_rxn[i + 1] - ENERGY_TOL_EV
    return ReactionCurve(a.formula, b.formula, xs[keep], e_rxn[keep], tuple(points[x][1] for x in xs[keep]))

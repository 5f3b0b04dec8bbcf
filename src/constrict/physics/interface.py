"""Pseudo-binary interface reaction (docs/science.md section 1): x_m, E_rxn, the SEI.

For reactants a (electrolyte) and b (coating), each per atom,

    c(x)     = (1 - x) c_a + x c_b
    E_rxn(x) = E_hull(c(x)) - [(1 - x) E_a + x E_b]          (eV/atom)

is convex in x, so its minimum is one LP over (x, n):

    min  E @ n - (E_b - E_a) x - E_a
    s.t. C.T @ n - (c_b - c_a) x = c_a,   0 <= x <= 1,  n >= 0

over the globally stable phases of the combined chemical system (exact, see
:mod:`constrict.data.entries`). ``n`` at the optimum is the initial SEI (atoms of
each phase per atom of mixture).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from constrict.core.errors import SolverError
from constrict.core.lp import AMOUNT_TOL, DenseLP
from constrict.data.entries import EntrySet

REACT_TOL_EV = 1e-8
"""E_rxn(x_m) < -REACT_TOL_EV (eV/atom) means the pair reacts."""

X_TIE_BREAK_EV = 1e-10
"""Cost (eV/atom per unit x) that picks the smallest x among tied minima."""

X_EDGE_TOL = 1e-9
"""x_m within this of 0 or 1 counts as an end point (mutual = False)."""


@dataclass(frozen=True)
class Reactant:
    """One reactant per atom: entry row (or None), atom fractions, energy."""

    row: int | None
    comp: np.ndarray
    energy_per_atom_ev: float
    formula: str


@dataclass(frozen=True)
class InterfaceReaction:
    """The minimum of E_rxn(x) for one electrolyte/coating pair.

    Attributes
    ----------
    cols : tuple of int
        Element columns of the combined chemical system.
    chemical_system : str
        Sorted '-'-joined elements of the combined system.
    reacts : bool
        E_rxn(x_m) < -REACT_TOL_EV.
    mutual : bool
        reacts and 0 < x_m < 1 (both reactants take part).
    x_m : float
        Atom fraction of the coating at the minimum; NaN when not reacting.
    e_rxn_ev_per_atom : float
        E_rxn(x_m) with each reactant at its own energy (eV/atom, <= 0).
    e_rxn_mutual_ev_per_atom : float
        Same minimum with both reactants at their hull energies (eV/atom).
    sei_comp : ndarray of shape (n_elements,)
        c(x_m), atom fractions (zeros when not reacting).
    sei_phases : dict of int to float
        Entry row -> atoms per atom of SEI (sums to 1); empty when not reacting.
    sei_energy_per_atom_ev : float
        E_hull(c(x_m)) (eV/atom); NaN when not reacting.
    """

    cols: tuple[int, ...]
    chemical_system: str
    reacts: bool
    mutual: bool
    x_m: float
    e_rxn_ev_per_atom: float
    e_rxn_mutual_ev_per_atom: float
    sei_comp: np.ndarray
    sei_phases: dict
    sei_energy_per_atom_ev: float


def _reaction_lp(entry_set: EntrySet, cols: tuple[int, ...]) -> tuple[DenseLP, np.ndarray, np.ndarray, np.ndarray]:
    """Cached (x, n) LP of a chemical system (column 0 is x): LP, rows, their energies, costs (x's is 0)."""
    cache = entry_set.system_cache("reaction_lp")
    if cols not in cache:
        rows = entry_set.stable_in(cols)
        n_el = len(cols)
        a_eq = np.zeros((n_el, 1 + len(rows)))
        a_eq[:, 1:] = entry_set.comp[np.ix_(rows, cols)].T
        energy = entry_set.energy_per_atom_ev[rows]
        cost = np.concatenate([[0.0], energy])
        upper = np.full(1 + len(rows), np.inf)
        upper[0] = 1.0
        cache[cols] = (DenseLP(a_eq, np.zeros(n_el), cost, upper=upper), rows, energy, cost)
    return cache[cols]


def _minimum(entry_set, cols, comp_a, comp_b, e_a, e_b, *, phases=True):
    """(x_m, E_rxn(x_m), E_hull(c(x_m)), {row: amount} or None) for reactant energies e_a, e_b."""
    lp, rows, energy, cost = _reaction_lp(entry_set, cols)
    sel = list(cols)
    lp.set_column(0, -(comp_b[sel] - comp_a[sel]))
    cost = cost.copy()
    cost[0] = -(e_b - e_a) + X_TIE_BREAK_EV
    lp.set_cost_and_rhs(cost, comp_a[sel])
    sol = lp.solve()
    if sol is None:
        raise SolverError(f"interface LP failed in {entry_set.chemical_system(cols)}")
    v = sol.x
    x = float(min(max(v[0], 0.0), 1.0))
    n = v[1:]
    e_hull = float(energy @ n)
    e_rxn = e_hull - ((1 - x) * e_a + x * e_b)
    if not phases:
        return x, e_rxn, e_hull, None
    keep = n > AMOUNT_TOL
    return x, e_rxn, e_hull, {int(r): float(a) for r, a in zip(rows[keep], n[keep], strict=True)}


def interface_reaction(entry_set: EntrySet, a: Reactant, b: Reactant, *, mutual: bool = True) -> InterfaceReaction:
    """Minimum of the interface reaction energy between reactants a and b.

    Parameters
    ----------
    entry_set : EntrySet
    a, b : Reactant
        Electrolyte and coating, each per atom at its own energy.
    mutual : bool
        Also compute the mutual reaction energy (both reactants at their
        hull energies); False leaves it NaN and saves two hull LPs and a
        reaction LP (the Monte-Carlo check needs only the SEI).

    Notes
    -----
    Among tied minima (a flat E_rxn segment) the smallest x is taken.
    """
    cols = tuple(np.flatnonzero((a.comp + b.comp) > 0))
    x, e_rxn, e_sei, phases = _minimum(entry_set, cols, a.comp, b.comp, a.energy_per_atom_ev, b.energy_per_atom_ev)
    e_mutual = float("nan")
    if mutual:
        ha = entry_set.hull_energy(a.comp)
        hb = entry_set.hull_energy(b.comp)
        _, e_mutual, _, _ = _minimum(entry_set, cols, a.comp, b.comp, ha, hb, phases=False)
    reacts = e_rxn < -REACT_TOL_EV
    chemsys = entry_set.chemical_system(cols)
    if not reacts:
        return InterfaceReaction(
            cols, chemsys, False, False, float("nan"), min(e_rxn, 0.0), min(e_mutual, 0.0),
            np.zeros_like(a.comp), {}, float("nan"),
        )
    mutual = X_EDGE_TOL < x < 1 - X_EDGE_TOL
    if not mutual:
        x = 0.0 if x <= X_EDGE_TOL else 1.0
    sei_comp = (1 - x) * a.comp + x * b.comp
    return InterfaceReaction(
        cols, chemsys, True, mutual, x, e_rxn, min(e_mutual, 0.0), sei_comp, phases, e_sei
    )

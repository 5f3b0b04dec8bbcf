"""The p = 0 convex hull of an entry table, by linear programming.

:func:`hull_energies` computes every entry's exact energy above the hull of
the table (systems from unaries up, each LP small and exact);
:class:`HullQueries` gives :class:`~constrict.data.entries.EntrySet` its
hull energy and ground-state decomposition at any composition, over the
globally stable phases of the composition's chemical system, with one
warm-started LP per system cached per thread.
"""

from __future__ import annotations

import numpy as np

from constrict.core.errors import UnknownFormulaError
from constrict.core.lp import AMOUNT_TOL, DenseLP
from constrict.data.system_rows import subsets

STABLE_TOL_EV = 1e-6
"""A phase with e_above_hull <= this (eV/atom) is kept as a hull candidate.

Keeping a few phases a hair above the hull is harmless (the LP ignores
them); dropping a truly stable one would not be.
"""


class HullQueries:
    """Hull queries of an entry table; a base of :class:`~constrict.data.entries.EntrySet`.

    Reads the table's ``comp``, ``energy_per_atom_ev``, ``stable``,
    ``_groups`` (:class:`~constrict.data.system_rows.SystemRows`),
    :meth:`system_cache` and :meth:`chemical_system`.
    """

    def entries_in(self, cols) -> np.ndarray:
        """Rows of all entries whose elements are a subset of ``cols`` (sorted)."""
        cache = self.system_cache("entries_in")
        key = tuple(sorted(cols))
        if key not in cache:
            parts = [self._groups[s] for s in subsets(key) if s in self._groups]
            cache[key] = np.sort(np.concatenate(parts)) if parts else np.empty(0, dtype=int)
        return cache[key]

    def stable_in(self, cols) -> np.ndarray:
        """Rows of the globally stable entries within the chemical system ``cols``."""
        cache = self.system_cache("stable_in")
        key = tuple(sorted(cols))
        if key not in cache:
            rows = self.entries_in(key)
            cache[key] = rows[self.stable[rows]]
        return cache[key]

    def hull_energy(self, comp_vec: np.ndarray) -> float:
        """Hull energy (eV/atom) at an atom-fraction vector of shape (n_elements,)."""
        energy, _ = self.decompose(comp_vec)
        return energy

    def decompose(self, comp_vec: np.ndarray) -> tuple[float, dict[int, float]]:
        """Hull energy and ground-state phases at a composition.

        Parameters
        ----------
        comp_vec : ndarray of shape (n_elements,)
            Atom fractions (sum 1).

        Returns
        -------
        energy_per_atom_ev : float
        phases : dict of int to float
            Entry row -> atoms of that phase per atom of ``comp_vec``.
        """
        cols = tuple(np.flatnonzero(comp_vec > 0))
        lp, rows = self._hull_lp(cols)
        lp.set_rhs(comp_vec[list(cols)])
        sol = lp.solve()
        if sol is None:
            raise UnknownFormulaError(
                f"no hull in {self.chemical_system(cols)}: the data lack phases spanning it"
            )
        n, energy = sol.x, sol.objective
        keep = n > AMOUNT_TOL
        return energy, {int(r): float(a) for r, a in zip(rows[keep], n[keep], strict=True)}

    def _hull_lp(self, cols) -> tuple[DenseLP, np.ndarray]:
        cache = self.system_cache("hull_lp")
        if cols not in cache:
            rows = self.stable_in(cols)
            a_eq = self.comp[np.ix_(rows, cols)].T
            lp = DenseLP(a_eq, np.zeros(len(cols)), self.energy_per_atom_ev[rows])
            cache[cols] = (lp, rows)
        return cache[cols]


def hull_energies(comp: np.ndarray, energy: np.ndarray, groups: dict) -> np.ndarray:
    """Exact energy above hull per entry (eV/atom).

    Chemical systems are processed from unaries up; the candidates for the
    hull of a system are its own entries plus the stable entries of its
    proper subsystems (already known), so every LP is exact and small.
    """
    e_above = np.zeros(len(energy))
    stable = np.zeros(len(energy), dtype=bool)
    for key in sorted(groups, key=len):
        own = groups[key]
        parts = [own] + [
            sub[stable[sub]] for s in subsets(key) if s != key and (sub := groups.get(s)) is not None
        ]
        rows = np.concatenate(parts)
        cols = list(key)
        lp = DenseLP(comp[np.ix_(rows, cols)].T, np.zeros(len(cols)), energy[rows])
        for row in own:
            lp.set_rhs(comp[row, cols])
            sol = lp.solve()
            if sol is None:  # cannot happen: the entry itself is feasible
                raise RuntimeError(f"hull LP failed for entry row {row}")
            e_above[row] = max(energy[row] - sol.objective, 0.0)
        stable[own] = e_above[own] <= STABLE_TOL_EV
    return e_above

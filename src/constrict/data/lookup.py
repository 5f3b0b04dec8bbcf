"""Finding entries and elements of an entry table by name: element columns, formulas, entry_ids."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from constrict.core.errors import MissingElementError, UnknownFormulaError
from constrict.data.formulas import parse_composition

if TYPE_CHECKING:
    from pymatgen.core import Composition


class EntryLookup:
    """Lookups by name; a base of :class:`~constrict.data.entries.EntrySet`.

    Reads the table's ``elements``, ``comp``, ``entry_ids``,
    ``reduced_formulas`` and ``energy_per_atom_ev``; lazily built indexes
    live in the instance ``__dict__`` under leading-underscore keys, which
    pickles leave out.
    """

    @property
    def element_index(self) -> dict[str, int]:
        """Element symbol -> column of ``comp``."""
        return self._cached("_element_index", lambda: {el: i for i, el in enumerate(self.elements)})

    def element_columns(self, symbols) -> tuple[int, ...]:
        """Sorted column indices of element symbols.

        Raises
        ------
        MissingElementError
            If an element has no entry in the table.
        """
        index = self.element_index
        out = []
        for sym in symbols:
            if sym not in index:
                raise MissingElementError(
                    f"element {sym} is not in the entry data; add entries containing it (--custom)"
                )
            out.append(index[sym])
        return tuple(sorted(set(out)))

    def chemical_system(self, cols) -> str:
        """'-'-joined sorted element symbols of element columns."""
        return "-".join(sorted(self.elements[c] for c in cols))

    def composition_vector(self, comp: Composition) -> np.ndarray:
        """Atom-fraction row of shape (n_elements,) for a Composition."""
        cols = self.element_columns(el.symbol for el in comp.elements)
        vec = np.zeros(len(self.elements))
        for el, amt in comp.fractional_composition.items():
            vec[self.element_index[el.symbol]] = amt
        assert len(cols) == len(comp.elements)
        return vec

    def find(self, identifier) -> int:
        """Row of an entry given as entry_id, formula or Composition.

        A formula matches the lowest-energy entry of its reduced composition.

        Raises
        ------
        UnknownFormulaError
            If nothing in the table matches.
        """
        if isinstance(identifier, str):
            ids = self._id_index()
            if identifier in ids:
                return ids[identifier]
            by_formula = self._formula_index()
            if identifier in by_formula:
                return by_formula[identifier]
        comp = parse_composition(identifier)
        cols = self.element_columns(el.symbol for el in comp.elements)
        vec = self.composition_vector(comp)
        rows = self._groups.get(cols, np.empty(0, dtype=int))
        match = rows[np.all(np.abs(self.comp[rows] - vec) < 1e-9, axis=1)] if len(rows) else rows
        if len(match) == 0:
            raise UnknownFormulaError(
                f"{comp.reduced_formula} is not in the entry data; check the formula or add it (--custom)"
            )
        return int(match[np.argmin(self.energy_per_atom_ev[match])])

    def _cached(self, key: str, build):
        """Per-instance lazy value under ``key`` (its leading '_' keeps it out of pickles)."""
        cache = self.__dict__.get(key)
        if cache is None:
            cache = self.__dict__[key] = build()
        return cache

    def _id_index(self) -> dict[str, int]:
        return self._cached("_ids", lambda: dict(zip(self.entry_ids.tolist(), range(len(self.entry_ids)), strict=True)))

    def _formula_index(self) -> dict[str, int]:
        """Reduced formula -> row of its lowest-energy entry."""
        def build():
            order = np.argsort(-self.energy_per_atom_ev, kind="stable")
            return dict(zip(self.reduced_formulas[order].tolist(), order.tolist(), strict=True))  # lowest energy wins

        return self._cached("_formulas", build)

    def reduced_formula(self, row: int) -> str:
        """Reduced formula of an entry."""
        return self.reduced_formulas[row]

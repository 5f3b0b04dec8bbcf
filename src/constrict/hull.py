"""Exact convex hulls of an entry table, by linear programming.

An entry table (docs/schema.md) is wrapped once in an :class:`EntrySet`:
composition matrix, formation energies, volumes, the globally stable phases
and per-chemical-system caches. The hull energy at a composition ``c`` is
the LP ``min E @ n  s.t.  C.T @ n = c, n >= 0`` over the entries whose
elements lie in the chemical system of ``c`` (``n`` are atoms of each phase
per atom of ``c``).

A phase on the hull of the whole table is on the hull of every chemical
system containing it, so hull energies, decompositions and grand-potential
products may be computed over the globally stable phases only. That is
exact for them; it is *not* exact for the self-consistent Kcrit (a phase
above the p = 0 hull may win under pressure), which therefore uses
:meth:`EntrySet.entries_in`.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pymatgen.core import Composition, Element

from constrict._lp import DenseLP
from constrict.errors import MissingElementError, SchemaError, UnknownFormulaError

STABLE_TOL_EV = 1e-6
"""A phase with e_above_hull <= this (eV/atom) is kept as a hull candidate.

Keeping a few phases a hair above the hull is harmless (the LP ignores
them); dropping a truly stable one would not be.
"""

_REQUIRED = ("entry_id", "reduced_formula", "energy_per_atom_ev", "volume_per_atom_a3")


def parse_composition(formula) -> Composition:
    """A pymatgen Composition from a formula string or Composition.

    Raises
    ------
    UnknownFormulaError
        If pymatgen cannot parse it or it is empty.
    """
    if isinstance(formula, Composition):
        comp = formula
    else:
        try:
            comp = Composition(str(formula))
        except Exception as err:  # pymatgen raises several types
            raise UnknownFormulaError(
                f"cannot parse formula {formula!r}: write it like 'Li3PS4'"
            ) from err
    if comp.num_atoms <= 0:
        raise UnknownFormulaError(f"formula {formula!r} has no atoms")
    for el in comp.elements:
        if not isinstance(el, Element):
            raise UnknownFormulaError(f"formula {formula!r} has a non-element species {el}")
    return comp


def _subsets(key: tuple[int, ...]):
    """All non-empty subsets of a sorted tuple of element indices."""
    for r in range(1, len(key) + 1):
        yield from itertools.combinations(key, r)


@dataclass
class EntrySet:
    """An entry table as arrays, with per-chemical-system caches.

    Attributes
    ----------
    frame : pandas.DataFrame
        The table (index reset), one row per entry.
    elements : tuple of str
        All elements of the table, sorted; column order of ``comp``.
    comp : ndarray of shape (n_entries, n_elements)
        Atom fractions of each entry.
    energy_per_atom_ev : ndarray of shape (n_entries,)
        Formation energy per atom (eV/atom), elements at 0.
    volume_per_atom_a3 : ndarray of shape (n_entries,)
        Volume per atom (Å³/atom); NaN where the table has none.
    e_above_hull_ev : ndarray of shape (n_entries,)
        Energy above the hull of this table (eV/atom).
    stable : ndarray of bool, shape (n_entries,)
        ``e_above_hull_ev <= STABLE_TOL_EV``.
    """

    frame: pd.DataFrame
    elements: tuple[str, ...]
    comp: np.ndarray
    energy_per_atom_ev: np.ndarray
    volume_per_atom_a3: np.ndarray
    e_above_hull_ev: np.ndarray
    stable: np.ndarray
    _keys: list = field(repr=False)
    _groups: dict = field(repr=False)
    _local: threading.local = field(default_factory=threading.local, repr=False)

    # ------------------------------------------------------------------ build
    @classmethod
    def from_frame(cls, df: pd.DataFrame, *, recompute_hull: bool = False) -> "EntrySet":
        """Wrap an entry table.

        Parameters
        ----------
        df : pandas.DataFrame
            Entry table (docs/schema.md). Needs at least entry_id,
            reduced_formula, energy_per_atom_ev and volume_per_atom_a3.
        recompute_hull : bool
            Recompute e_above_hull exactly even if the table has a complete
            ``e_above_hull_ev`` column (it must be the hull of this table).
        """
        missing = [c for c in _REQUIRED if c not in df.columns]
        if missing:
            raise SchemaError(f"entry table lacks columns {missing}; see docs/schema.md")
        frame = df.reset_index(drop=True)
        comps = [parse_composition(f) for f in frame["reduced_formula"]]
        elements = tuple(sorted({el.symbol for c in comps for el in c.elements}))
        index = {el: i for i, el in enumerate(elements)}
        comp = np.zeros((len(frame), len(elements)))
        keys = []
        for row, c in enumerate(comps):
            frac = c.fractional_composition
            cols = sorted(index[el.symbol] for el in c.elements)
            for el, amt in frac.items():
                comp[row, index[el.symbol]] = amt
            keys.append(tuple(cols))
        groups: dict[tuple[int, ...], list[int]] = {}
        for row, key in enumerate(keys):
            groups.setdefault(key, []).append(row)
        groups = {k: np.asarray(v) for k, v in groups.items()}
        energy = frame["energy_per_atom_ev"].to_numpy(dtype=float)
        if not np.all(np.isfinite(energy)):
            raise SchemaError("entry table has missing energy_per_atom_ev values")
        volume = frame["volume_per_atom_a3"].to_numpy(dtype=float, na_value=np.nan)
        have = "e_above_hull_ev" in frame.columns and not recompute_hull
        if have:
            e_hull = frame["e_above_hull_ev"].to_numpy(dtype=float, na_value=np.nan)
            have = bool(np.all(np.isfinite(e_hull)))
        if not have:
            e_hull = _e_above_hull(comp, energy, groups)
        return cls(
            frame=frame,
            elements=elements,
            comp=comp,
            energy_per_atom_ev=energy,
            volume_per_atom_a3=volume,
            e_above_hull_ev=e_hull,
            stable=e_hull <= STABLE_TOL_EV,
            _keys=keys,
            _groups=groups,
        )

    def __getstate__(self):
        # LP caches hold HiGHS objects: never pickle them (Dask, multiprocessing)
        state = {k: v for k, v in self.__dict__.items() if not k.startswith("_") or k in ("_keys", "_groups")}
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._local = threading.local()

    # --------------------------------------------------------------- lookups
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
        return self._cached("_ids", lambda: {e: i for i, e in enumerate(self.entry_ids)})

    def _formula_index(self) -> dict[str, int]:
        """Reduced formula -> row of its lowest-energy entry."""
        def build():
            order = np.argsort(-self.energy_per_atom_ev, kind="stable")
            return {self.reduced_formulas[i]: int(i) for i in order}  # lowest energy wins

        return self._cached("_formulas", build)

    @property
    def reduced_formulas(self) -> np.ndarray:
        """Reduced formula per entry, shape (n_entries,) of str."""
        return self._cached("_rf", lambda: self._string_column("reduced_formula"))

    @property
    def entry_ids(self) -> np.ndarray:
        """entry_id per entry, shape (n_entries,) of str."""
        return self._cached("_eid", lambda: self._string_column("entry_id"))

    def _string_column(self, name: str) -> np.ndarray:
        return np.asarray(self.frame[name].astype(str).to_numpy(), dtype=object)

    def reduced_formula(self, row: int) -> str:
        """Reduced formula of an entry."""
        return self.reduced_formulas[row]

    def entries_in(self, cols) -> np.ndarray:
        """Rows of all entries whose elements are a subset of ``cols`` (sorted)."""
        cache = self.system_cache("entries_in")
        key = tuple(sorted(cols))
        if key not in cache:
            parts = [self._groups[s] for s in _subsets(key) if s in self._groups]
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

    def system_cache(self, kind: str) -> dict:
        """The per-chemical-system cache of one kind, for this thread.

        The engine keeps one small LP (or row lookup) per chemical system and
        kind, built on first use and reused, warm-started, by every later
        interface of that system. Kinds in use: ``entries_in``,
        ``stable_in``, ``hull_lp`` (this module), ``reaction_lp``
        (:mod:`constrict.interface`), ``gp_stable`` and ``gp_all``
        (:mod:`constrict.electrochem`). Keys are tuples of element columns
        (plus the ion column for the grand-potential kinds).

        The caches are per thread (HiGHS objects are not thread-safe) and
        never pickled (Dask ships an ``EntrySet`` without them).

        Parameters
        ----------
        kind : str
            Name of the cache.

        Returns
        -------
        dict
            Mutable mapping key -> cached object.
        """
        store = self._local.__dict__
        if kind not in store:
            store[kind] = {}
        return store[kind]

    # ----------------------------------------------------------------- hulls
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
        n, energy, _ = sol
        keep = n > 1e-10
        return energy, {int(r): float(a) for r, a in zip(rows[keep], n[keep])}

    def _hull_lp(self, cols) -> tuple[DenseLP, np.ndarray]:
        cache = self.system_cache("hull_lp")
        if cols not in cache:
            rows = self.stable_in(cols)
            a_eq = self.comp[np.ix_(rows, cols)].T
            lp = DenseLP(a_eq, np.zeros(len(cols)), self.energy_per_atom_ev[rows])
            cache[cols] = (lp, rows)
        return cache[cols]


def _e_above_hull(comp: np.ndarray, energy: np.ndarray, groups: dict) -> np.ndarray:
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
            sub[stable[sub]] for s in _subsets(key) if s != key and (sub := groups.get(s)) is not None
        ]
        rows = np.concatenate(parts)
        cols = list(key)
        lp = DenseLP(comp[np.ix_(rows, cols)].T, np.zeros(len(cols)), energy[rows])
        for row in own:
            lp.set_rhs(comp[row, cols])
            sol = lp.solve()
            if sol is None:  # cannot happen: the entry itself is feasible
                raise RuntimeError(f"hull LP failed for entry row {row}")
            e_above[row] = max(energy[row] - sol[1], 0.0)
        stable[own] = e_above[own] <= STABLE_TOL_EV
    return e_above


def e_above_hull(df: pd.DataFrame) -> np.ndarray:
    """Exact energy above the hull of the table itself, per row.

    Parameters
    ----------
    df : pandas.DataFrame
        Entry table with reduced_formula and energy_per_atom_ev (formation
        energy per atom, eV/atom).

    Returns
    -------
    ndarray of shape (len(df),)
        eV/atom, >= 0, in the row order of ``df``.
    """
    missing = [c for c in ("reduced_formula", "energy_per_atom_ev") if c not in df.columns]
    if missing:
        raise SchemaError(f"entry table lacks columns {missing}; see docs/schema.md")
    frame = df.assign(volume_per_atom_a3=np.nan, entry_id=np.arange(len(df)).astype(str))
    return EntrySet.from_frame(frame, recompute_hull=True).e_above_hull_ev

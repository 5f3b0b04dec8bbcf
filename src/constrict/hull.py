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

import functools
import itertools
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from constrict._lp import AMOUNT_TOL, DenseLP
from constrict.errors import MissingElementError, SchemaError, UnknownFormulaError

if TYPE_CHECKING:
    import pandas as pd
    from pymatgen.core import Composition

STABLE_TOL_EV = 1e-6
"""A phase with e_above_hull <= this (eV/atom) is kept as a hull candidate.

Keeping a few phases a hair above the hull is harmless (the LP ignores
them); dropping a truly stable one would not be.
"""

_REQUIRED = ("entry_id", "reduced_formula", "energy_per_atom_ev", "volume_per_atom_a3")


def is_composition(obj) -> bool:
    """Whether ``obj`` is a pymatgen Composition (pymatgen is not imported for the answer)."""
    module = sys.modules.get("pymatgen.core.composition")
    return module is not None and isinstance(obj, module.Composition)


def parse_composition(formula) -> Composition:
    """A pymatgen Composition from a formula string or Composition.

    Raises
    ------
    UnknownFormulaError
        If pymatgen cannot parse it or it is empty.
    """
    from pymatgen.core import Composition, Element

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

    Build it with :meth:`from_frame` (parses every formula), or
    :meth:`from_arrays` (arrays already built, e.g. read from the on-disk
    cache of :mod:`constrict.entry_cache`), or restrict one with
    :meth:`subset`.

    Attributes
    ----------
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
    entry_ids : ndarray of object (str), shape (n_entries,)
        entry_id per entry.
    reduced_formulas : ndarray of object (str), shape (n_entries,)
        Reduced formula per entry.
    frame : pandas.DataFrame
        The table (index reset), one row per entry; read on first use when
        the set was built from arrays (see :attr:`frame`).
    """

    elements: tuple[str, ...]
    comp: np.ndarray
    energy_per_atom_ev: np.ndarray
    volume_per_atom_a3: np.ndarray
    e_above_hull_ev: np.ndarray
    stable: np.ndarray
    entry_ids: np.ndarray
    reduced_formulas: np.ndarray
    _groups: SystemRows = field(repr=False)
    _frame: pd.DataFrame | None = field(default=None, repr=False)
    _frame_loader: Callable[[], pd.DataFrame] | None = field(default=None, repr=False)
    _local: threading.local = field(default_factory=threading.local, repr=False)

    # ------------------------------------------------------------------ build
    @classmethod
    def from_frame(cls, df: pd.DataFrame, *, recompute_hull: bool = False) -> EntrySet:
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
        for row, c in enumerate(comps):
            for el, amt in c.fractional_composition.items():
                comp[row, index[el.symbol]] = amt
        groups = SystemRows(comp)
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
            elements=elements,
            comp=comp,
            energy_per_atom_ev=energy,
            volume_per_atom_a3=volume,
            e_above_hull_ev=e_hull,
            stable=e_hull <= STABLE_TOL_EV,
            entry_ids=_strings(frame["entry_id"].astype(str)),
            reduced_formulas=_strings(frame["reduced_formula"].astype(str)),
            _groups=groups,
            _frame=frame,
        )

    @classmethod
    def from_arrays(
        cls,
        *,
        elements: Sequence[str],
        comp: np.ndarray,
        energy_per_atom_ev: np.ndarray,
        volume_per_atom_a3: np.ndarray,
        e_above_hull_ev: np.ndarray,
        entry_ids: Sequence[str],
        reduced_formulas: Sequence[str],
        frame: pd.DataFrame | Callable[[], pd.DataFrame] | None = None,
    ) -> EntrySet:
        """An entry set from arrays already built (no formula parsing, no hull).

        Parameters
        ----------
        elements : sequence of str
            Sorted element symbols, the columns of ``comp``.
        comp : ndarray of shape (n_entries, n_elements)
            Atom fractions of each entry (rows sum to 1).
        energy_per_atom_ev : ndarray of shape (n_entries,)
            Formation energy per atom (eV/atom), elements at 0.
        volume_per_atom_a3 : ndarray of shape (n_entries,)
            Volume per atom (Å³/atom); NaN where unknown.
        e_above_hull_ev : ndarray of shape (n_entries,)
            Energy above the hull of these entries (eV/atom).
        entry_ids, reduced_formulas : sequence of str, length n_entries
            Identifier and reduced formula of each entry.
        frame : pandas.DataFrame or callable, optional
            The entry table, or a picklable zero-argument callable that reads
            it on first access of :attr:`frame`. Without it, :attr:`frame`
            is a table of the columns above.

        Returns
        -------
        EntrySet
            Equal, array by array, to :meth:`from_frame` of the same table.
        """
        elements = tuple(str(e) for e in elements)
        comp = np.asarray(comp, dtype=float)
        n = len(comp)
        if comp.shape != (n, len(elements)):
            raise SchemaError(f"comp has shape {comp.shape}, expected ({n}, {len(elements)})")
        columns = {
            "energy_per_atom_ev": np.asarray(energy_per_atom_ev, dtype=float),
            "volume_per_atom_a3": np.asarray(volume_per_atom_a3, dtype=float),
            "e_above_hull_ev": np.asarray(e_above_hull_ev, dtype=float),
            "entry_ids": _strings(entry_ids),
            "reduced_formulas": _strings(reduced_formulas),
        }
        bad = {name: a.shape for name, a in columns.items() if a.shape != (n,)}
        if bad:
            raise SchemaError(f"arrays {bad} do not have shape ({n},) like comp")
        is_table = frame is not None and not callable(frame)
        return cls(
            elements=elements,
            comp=comp,
            stable=columns["e_above_hull_ev"] <= STABLE_TOL_EV,
            **columns,
            _groups=SystemRows(comp),
            _frame=frame.reset_index(drop=True) if is_table else None,
            _frame_loader=frame if callable(frame) else None,
        )

    def subset(self, rows) -> EntrySet:
        """The entry set of some rows, with only the elements they contain.

        Parameters
        ----------
        rows : array-like of int, shape (n_rows,)
            Rows of this set, in the order wanted.

        Returns
        -------
        EntrySet
            Equal to :meth:`from_frame` of ``frame.iloc[rows]``, as long as
            ``e_above_hull_ev`` of these rows is their own hull, e.g. when the
            rows hold every entry of each chemical system they touch
            (:func:`constrict.sources.restrict_to_chemical_systems`): the
            values are carried over, never recomputed.
        """
        rows = np.asarray(rows, dtype=np.intp).reshape(-1)
        comp = self.comp[rows]
        used = np.flatnonzero((comp != 0).any(axis=0))
        if self._frame is not None:
            frame = self._frame.iloc[rows].reset_index(drop=True)
        elif self._frame_loader is not None:
            frame = functools.partial(_frame_rows, self._frame_loader, rows)
        else:
            frame = None
        return EntrySet.from_arrays(
            elements=[self.elements[j] for j in used],
            comp=comp[:, used],
            energy_per_atom_ev=self.energy_per_atom_ev[rows],
            volume_per_atom_a3=self.volume_per_atom_a3[rows],
            e_above_hull_ev=self.e_above_hull_ev[rows],
            entry_ids=self.entry_ids[rows],
            reduced_formulas=self.reduced_formulas[rows],
            frame=frame,
        )

    @property
    def frame(self) -> pd.DataFrame:
        """The entry table (index reset), one row per entry.

        Built from arrays, the set reads it on first use (its loader), or
        makes it of entry_id, reduced_formula, energy_per_atom_ev,
        volume_per_atom_a3 and e_above_hull_ev when it has no loader.
        """
        if self._frame is None:
            if self._frame_loader is not None:
                self._frame = self._frame_loader()
            else:
                import pandas as pd

                self._frame = pd.DataFrame(
                    {
                        "entry_id": self.entry_ids,
                        "reduced_formula": self.reduced_formulas,
                        "energy_per_atom_ev": self.energy_per_atom_ev,
                        "volume_per_atom_a3": self.volume_per_atom_a3,
                        "e_above_hull_ev": self.e_above_hull_ev,
                    }
                )
        return self._frame

    def __getstate__(self):
        # LP caches hold HiGHS objects: never pickle them (Dask, multiprocessing)
        keep = ("_groups", "_frame", "_frame_loader")
        state = {k: v for k, v in self.__dict__.items() if not k.startswith("_") or k in keep}
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._local = threading.local()

    def fresh(self) -> EntrySet:
        """A copy of the entry set with empty LP caches, sharing its arrays and lookups.

        A warm-started LP can differ in its last bits depending on the solves
        before it, so work whose numbers must not depend on earlier work (a
        screen partition) starts from a fresh copy. The entry-id and formula
        lookups are built here once and shared by every copy.
        """
        self._id_index()
        self._formula_index()
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone._local = threading.local()
        return clone

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


def _strings(values) -> np.ndarray:
    """Object array of the values as Python str, shape (n,)."""
    if isinstance(values, np.ndarray) and values.dtype == object:
        return values
    out = np.empty(len(values), dtype=object)
    out[:] = [str(v) for v in values]
    return out


class SystemRows(Mapping):
    """Rows of each chemical system: sorted element columns -> ascending rows.

    A read-only mapping built with a few array operations (no per-row
    Python loop); keys are tuples of ``comp`` columns, values ndarrays of
    int, and iteration follows each system's first row, like a scan of the
    table.

    Parameters
    ----------
    comp : ndarray of shape (n_entries, n_elements)
        Atom fractions; an element is present where its fraction is not 0.
    """

    def __init__(self, comp: np.ndarray):
        present = np.asarray(comp) != 0
        n, m = present.shape
        self._width = 8 * max(1, -(-m // 64))
        packed = np.zeros((n, self._width), dtype=np.uint8)
        packed[:, : -(-m // 8)] = np.packbits(present, axis=1, bitorder="little")
        words = packed.view("<u8")
        self._order = np.lexsort(words.T)
        ordered = words[self._order]
        starts = np.flatnonzero(np.r_[True, np.any(ordered[1:] != ordered[:-1], axis=1)]) if n else np.empty(0, int)
        self._bounds = np.r_[starts, n]
        blob = packed[self._order[starts]].tobytes()
        self._keys = [blob[i : i + self._width] for i in range(0, len(blob), self._width)]
        self._group = dict(zip(self._keys, range(len(self._keys)), strict=True))
        self._first_order = np.argsort(self._order[starts], kind="stable")
        self._group_of_cols: dict[tuple, int | None] = {}

    def _key(self, cols) -> bytes | None:
        """Little-endian bit mask of element columns, as the keys are stored; None if out of range."""
        mask = 0
        for col in cols:
            mask |= 1 << int(col)
        return mask.to_bytes(self._width, "little") if mask.bit_length() <= 8 * self._width else None

    def _group_of(self, cols) -> int | None:
        """Group of a chemical system, None if it has no entries.

        Remembered per column tuple: the engine asks for the same subsystems
        for every interface.
        """
        cols = tuple(cols)
        try:
            return self._group_of_cols[cols]
        except KeyError:
            g = self._group_of_cols[cols] = self._group.get(self._key(cols))
            return g

    def __getitem__(self, key) -> np.ndarray:
        g = self._group_of(key)
        if g is None:
            raise KeyError(key)
        return self._order[self._bounds[g] : self._bounds[g + 1]]

    def __contains__(self, key) -> bool:
        return self._group_of(key) is not None

    def __iter__(self):
        for g in self._first_order.tolist():
            mask = int.from_bytes(self._keys[g], "little")
            yield tuple(i for i in range(mask.bit_length()) if mask >> i & 1)

    def __len__(self) -> int:
        return len(self._keys)


def _frame_rows(loader: Callable[[], pd.DataFrame], rows: np.ndarray) -> pd.DataFrame:
    """Rows of a lazily read table, index reset."""
    return loader().iloc[rows].reset_index(drop=True)


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
            e_above[row] = max(energy[row] - sol.objective, 0.0)
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

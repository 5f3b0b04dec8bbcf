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
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from constrict.core.errors import SchemaError
from constrict.data.formulas import is_composition as is_composition
from constrict.data.formulas import parse_composition as parse_composition
from constrict.data.hull import STABLE_TOL_EV as STABLE_TOL_EV
from constrict.data.hull import HullQueries, hull_energies
from constrict.data.lookup import EntryLookup
from constrict.data.system_rows import SystemRows

if TYPE_CHECKING:
    import pandas as pd

_REQUIRED = ("entry_id", "reduced_formula", "energy_per_atom_ev", "volume_per_atom_a3")


@dataclass
class EntrySet(EntryLookup, HullQueries):
    """An entry table as arrays, with per-chemical-system caches.

    Build it with :meth:`from_frame` (parses every formula), or
    :meth:`from_arrays` (arrays already built, e.g. read from the on-disk
    cache of :mod:`constrict.data.entry_cache`), or restrict one with
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
            e_hull = hull_energies(comp, energy, groups)
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
            (:func:`constrict.data.sources.restrict_to_chemical_systems`): the
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

    def system_cache(self, kind: str) -> dict:
        """The per-chemical-system cache of one kind, for this thread.

        The engine keeps one small LP (or row lookup) per chemical system and
        kind, built on first use and reused, warm-started, by every later
        interface of that system. Kinds in use: ``entries_in``,
        ``stable_in``, ``hull_lp`` (this module), ``reaction_lp``
        (:mod:`constrict.physics.interface`), ``gp_stable`` and ``gp_all``
        (:mod:`constrict.physics.electrochem`). Keys are tuples of element columns
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


def _strings(values) -> np.ndarray:
    """Object array of the values as Python str, shape (n,)."""
    if isinstance(values, np.ndarray) and values.dtype == object:
        return values
    out = np.empty(len(values), dtype=object)
    out[:] = [str(v) for v in values]
    return out


def _frame_rows(loader: Callable[[], pd.DataFrame], rows: np.ndarray) -> pd.DataFrame:
    """Rows of a lazily read table, index reset."""
    return loader().iloc[rows].reset_index(drop=True)


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

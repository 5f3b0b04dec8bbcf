"""Coating candidates: the electronic insulators on the hull of an entry table.

Defaults (docs/science.md 4b, docs/data.md): band gap > 0 eV, on the hull
(e_above_hull <= 1e-6 eV/atom), compounds only (2 or more elements), no
noble gases and no radioactive elements.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from pymatgen.core import Element

from constrict.errors import ConfigError, SchemaError

MIN_BAND_GAP_EV = 0.0
"""A coating's band gap must exceed this (eV): an electronic insulator."""

MAX_E_ABOVE_HULL_EV = 1e-6
"""On the hull within numerical tolerance (eV/atom)."""

MIN_NELEMENTS = 2
"""A coating is a compound; elemental insulators (S, P, Si, ...) are left out."""

EXCLUDED_ELEMENTS: tuple[str, ...] = tuple(
    sorted(el.symbol for el in Element if el.Z <= 103 and (el.is_noble_gas or el.is_radioactive))
)
"""Noble gases and radioactive elements (Tc, Pm, Z >= 84): never in a coating."""


def select_coatings(
    entries: pd.DataFrame,
    *,
    min_band_gap_ev: float = MIN_BAND_GAP_EV,
    max_e_above_hull_ev: float = MAX_E_ABOVE_HULL_EV,
    min_nelements: int = MIN_NELEMENTS,
    max_nelements: int | None = None,
    exclude_elements: Iterable[str] = EXCLUDED_ELEMENTS,
) -> pd.DataFrame:
    """Select coating candidates from an entry table.

    Parameters
    ----------
    entries : pandas.DataFrame
        Entry table (docs/schema.md) with band_gap_ev and e_above_hull_ev.
    min_band_gap_ev : float
        Keep band_gap_ev > this (eV); rows without a band gap are left out.
    max_e_above_hull_ev : float
        Keep e_above_hull_ev <= this (eV/atom).
    min_nelements, max_nelements : int
        Bounds on the number of elements (max None = no bound).
    exclude_elements : iterable of str
        Rows containing any of these elements are left out.

    Returns
    -------
    pandas.DataFrame
        The selected rows, one ground state per composition, sorted by
        entry_id, shape (n_coatings, n_columns of ``entries``).
    """
    missing = [c for c in ("reduced_formula", "elements", "nelements", "band_gap_ev", "e_above_hull_ev", "entry_id")
               if c not in entries.columns]
    if missing:
        raise SchemaError(f"entry table lacks columns {missing}; see docs/schema.md")
    if min_nelements < 1 or (max_nelements is not None and max_nelements < min_nelements):
        raise ConfigError(f"need 1 <= min_nelements <= max_nelements, got {min_nelements}, {max_nelements}")
    if max_e_above_hull_ev < 0 or min_band_gap_ev < 0:
        raise ConfigError("max_e_above_hull_ev and min_band_gap_ev must be >= 0")
    excluded = frozenset(exclude_elements)
    unknown = sorted(el for el in excluded if not Element.is_valid_symbol(el))
    if unknown:
        raise ConfigError(f"exclude_elements holds non-elements {unknown}")
    keep = (
        (entries["band_gap_ev"] > min_band_gap_ev)
        & (entries["e_above_hull_ev"] <= max_e_above_hull_ev)
        & (entries["nelements"] >= min_nelements)
        & ~entries["elements"].map(lambda els: bool(excluded.intersection(els)))
    )
    if max_nelements is not None:
        keep &= entries["nelements"] <= max_nelements
    chosen = entries[keep.fillna(False).astype(bool)]
    if "energy_per_atom_ev" in chosen.columns:
        chosen = chosen.sort_values("energy_per_atom_ev", kind="stable")
    chosen = chosen.drop_duplicates("reduced_formula", keep="first")
    return chosen.sort_values("entry_id", kind="stable").reset_index(drop=True)

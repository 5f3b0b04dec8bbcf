"""Coating candidates: the electronic insulators on the hull of an entry table.

Defaults (docs/science.md 4b, docs/data.md): band gap > 0 eV, on the hull
(e_above_hull <= 1e-6 eV/atom), compounds only (2 or more elements), no
noble gases and no radioactive elements.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from pymatgen.core import Element

from constrict.core.errors import ConfigError, SchemaError

log = logging.getLogger(__name__)

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


def _selection_masks(
    entries: pd.DataFrame,
    *,
    min_band_gap_ev: float = MIN_BAND_GAP_EV,
    max_e_above_hull_ev: float = MAX_E_ABOVE_HULL_EV,
    min_nelements: int = MIN_NELEMENTS,
    max_nelements: int | None = None,
    exclude_elements: Iterable[str] = EXCLUDED_ELEMENTS,
) -> dict[str, pd.Series]:
    """The selection's criteria, checked, as named boolean masks over ``entries`` (in the order applied)."""
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
    n_elements = entries["nelements"] >= min_nelements
    if max_nelements is not None:
        n_elements &= entries["nelements"] <= max_nelements
    masks = {
        f"band gap > {min_band_gap_ev:g} eV": entries["band_gap_ev"] > min_band_gap_ev,
        f"e_above_hull <= {max_e_above_hull_ev:g} eV/atom": entries["e_above_hull_ev"] <= max_e_above_hull_ev,
        f"{min_nelements} to {max_nelements or 'any'} elements": n_elements,
        "no excluded element": ~entries["elements"].map(lambda els: bool(excluded.intersection(els))),
    }
    return {name: mask.fillna(False).astype(bool) for name, mask in masks.items()}


def _ground_states(chosen: pd.DataFrame) -> pd.DataFrame:
    """One row per composition (the lowest energy), sorted by entry_id."""
    if "energy_per_atom_ev" in chosen.columns:
        chosen = chosen.sort_values("energy_per_atom_ev", kind="stable")
    chosen = chosen.drop_duplicates("reduced_formula", keep="first")
    return chosen.sort_values("entry_id", kind="stable").reset_index(drop=True)


def select_coatings(entries: pd.DataFrame, **selection) -> pd.DataFrame:
    """Select coating candidates from an entry table.

    Parameters
    ----------
    entries : pandas.DataFrame
        Entry table (docs/schema.md) with band_gap_ev and e_above_hull_ev.
    **selection
        Keyword-only criteria, each with its package default:

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
    keep = np.logical_and.reduce(list(_selection_masks(entries, **selection).values()))
    return _ground_states(entries[keep])


def selection_counts(entries: pd.DataFrame, **selection) -> pd.DataFrame:
    """How many entries survive each criterion of :func:`select_coatings`, applied in turn.

    Returns
    -------
    pandas.DataFrame
        Columns ``step`` and ``n_kept``: ``entries`` first, then each
        criterion (cumulative), then ``one per composition`` (the count
        :func:`select_coatings` returns).
    """
    keep = pd.Series(True, index=entries.index)
    rows = [{"step": "entries", "n_kept": len(entries)}]
    for name, mask in _selection_masks(entries, **selection).items():
        keep &= mask
        rows.append({"step": name, "n_kept": int(keep.sum())})
    rows.append({"step": "one per composition", "n_kept": len(_ground_states(entries[keep]))})
    return pd.DataFrame(rows, columns=["step", "n_kept"])


def limit_coatings(
    coatings: pd.DataFrame,
    *,
    allowed_elements: Iterable[str] | None = None,
    max_coatings: int | None = None,
    random_state: int = 0,
) -> pd.DataFrame:
    """Narrow a coating selection: only some elements, and/or a seeded draw.

    Parameters
    ----------
    coatings : DataFrame
        Selected coatings (entry-table columns), sorted by entry_id.
    allowed_elements : iterable of str, optional
        Keep coatings made of these elements alone.
    max_coatings : int, optional
        Draw this many (without replacement, seeded) when more are left.
    random_state : int
        Seed of the draw.

    Returns
    -------
    DataFrame
        The kept rows, sorted by entry_id.
    """
    if allowed_elements is not None:
        allowed = frozenset(allowed_elements)
        coatings = coatings[coatings["elements"].map(lambda els: allowed.issuperset(els))]
    if max_coatings is not None and len(coatings) > max_coatings:
        coatings = coatings.sample(n=max_coatings, random_state=np.random.RandomState(random_state))
    return coatings.sort_values("entry_id", kind="mergesort").reset_index(drop=True)


def campaign_coatings(entries: pd.DataFrame, selection: dict[str, Any], random_state: int = 0) -> pd.DataFrame:
    """The coatings of a campaign: the config's ``selection`` block applied to an entry table.

    :func:`constrict.data.coatings.select_coatings` with the band-gap, hull and
    element keys, then :func:`limit_coatings` (``allowed_elements``,
    ``max_coatings``). ``exclude_elements: "default"`` (or left out) keeps
    the package default, ``constrict.data.coatings.EXCLUDED_ELEMENTS``.

    Parameters
    ----------
    entries : DataFrame
        Entry table (docs/schema.md).
    selection : dict
        The config's ``selection`` block (validated, defaults filled).
    random_state : int
        Seed of the ``max_coatings`` draw.

    Returns
    -------
    DataFrame
        The coatings (entry-table columns), sorted by entry_id.
    """
    selection = dict(selection)
    limits = {key: selection.pop(key, None) for key in ("allowed_elements", "max_coatings")}
    if selection.get("exclude_elements", "default") == "default":
        selection.pop("exclude_elements", None)
    coatings = select_coatings(entries, **selection)
    log.info("selected %d coatings of %d entries with %s", len(coatings), len(entries), selection)
    coatings = limit_coatings(coatings, **limits, random_state=random_state)
    log.info("kept %d coatings with %s (random_state %d)", len(coatings), limits, random_state)
    return coatings

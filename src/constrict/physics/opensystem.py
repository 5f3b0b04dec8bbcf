"""A chemical system open to a working ion (docs/science.md section 2).

Every voltage-dependent quantity (grand-potential decomposition, reaction
strain, Kcrit, windows) needs the same five things: the entry set, the
element columns of the system, the working ion and its column, the volume
per atom of the ion metal, and the strain convention. :func:`open_system`
builds them once, checked, into one frozen :class:`OpenSystem`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from constrict import DEFAULT_CONVENTION, STRAIN_CONVENTIONS
from constrict.core.errors import (
    ConfigError,
    IonOnlyError,
    MissingElementError,
    MissingVolumeError,
    UnknownFormulaError,
)
from constrict.data.entries import EntrySet

Convention = Literal["ion_metal", "reservoir", "released_metal"]
"""Which volume the exchanged working ion counts in V_P' (docs/science.md section 2).

- ``ion_metal``: an ion released counts as its metal, an ion taken up is
  debited its metal's volume (V_P' = V_P + released * v_metal);
- ``reservoir``: the ion's volume is never counted (V_P' = V_P);
- ``released_metal``: the written reaction's products against R alone: an
  ion released counts as its metal, an ion taken up only adds its atoms to
  the products (V_P' = V_P + max(released, 0) * v_metal).
"""

CONVENTIONS: tuple[str, ...] = STRAIN_CONVENTIONS
"""The values of :data:`Convention` (tests check that the two agree)."""

VOLTAGE_RANGE_V = (0.0, 10.0)
"""Accepted voltages vs. the ion metal (V): every battery electrode lies inside."""


@dataclass(frozen=True, eq=False)
class OpenSystem:
    """A chemical system open to a working ion.

    Build it with :func:`open_system`; the fields are checked there.

    Attributes
    ----------
    entry_set : EntrySet
        The entry data.
    cols : tuple of int
        Sorted element columns of the system, the ion's included.
    ion : str
        Working ion (the open element), e.g. ``"Li"``.
    ion_col : int
        Column of the ion in ``entry_set.comp``.
    v_metal_a3 : float
        Volume per atom of the ion metal's ground state (Å³/atom).
    convention : {"ion_metal", "reservoir", "released_metal"}
        Volume convention of the exchanged ion for the reaction strain.
    """

    entry_set: EntrySet
    cols: tuple[int, ...]
    ion: str
    ion_col: int
    v_metal_a3: float
    convention: Convention

    @property
    def chemical_system(self) -> str:
        """'-'-joined sorted element symbols, e.g. ``"Li-O-P-S"``."""
        return self.entry_set.chemical_system(self.cols)


def ion_metal_volume(entry_set: EntrySet, ion: str) -> float:
    """Volume per atom (Å³/atom) of the working ion's elemental ground state.

    Raises
    ------
    MissingElementError, MissingVolumeError
    """
    try:
        row = entry_set.find(ion)
    except (UnknownFormulaError, MissingElementError) as err:
        raise MissingElementError(
            f"the entry data have no {ion} metal entry; add one (--custom) to use {ion} as working ion"
        ) from err
    vol = entry_set.volume_per_atom_a3[row]
    if not np.isfinite(vol):
        raise MissingVolumeError(f"the {ion} metal entry has no volume_per_atom_a3; add it to the data")
    return float(vol)


def check_convention(convention: str) -> Convention:
    """``convention`` if it is one of :data:`CONVENTIONS`, else a ConfigError."""
    if convention not in CONVENTIONS:
        raise ConfigError(f"convention must be one of {', '.join(CONVENTIONS)}, not {convention!r}")
    return convention  # type: ignore[return-value]


def check_voltages(voltages_v) -> list[float]:
    """Voltages as a list of float, each finite and inside ``VOLTAGE_RANGE_V``.

    Raises
    ------
    ConfigError
        Not numbers, none given, or out of range (one line naming the value).
    """
    try:
        volts = [float(v) for v in np.atleast_1d(voltages_v)]
    except (TypeError, ValueError) as err:
        raise ConfigError(f"voltages must be numbers, got {voltages_v!r}") from err
    lo, hi = VOLTAGE_RANGE_V
    if not volts:
        raise ConfigError("no voltage given")
    for v in volts:
        if not (math.isfinite(v) and lo <= v <= hi):
            raise ConfigError(f"voltage {v:.6g} V is outside {lo:g}-{hi:g} V vs. the ion metal")
    return volts


def open_system(
    entry_set: EntrySet,
    elements: np.ndarray | Iterable[int] | Iterable[str],
    ion: str,
    convention: Convention = DEFAULT_CONVENTION,
) -> OpenSystem:
    """The chemical system of ``elements`` plus ``ion``, open to ``ion``.

    Parameters
    ----------
    entry_set : EntrySet
    elements : ndarray of shape (n_elements,), iterable of int or of str
        A composition vector (its non-zero columns), element columns, or
        element symbols.
    ion : str
        Working ion, e.g. ``"Li"`` or ``"Na"``.
    convention : {"ion_metal", "reservoir", "released_metal"}
        Reaction-strain convention (checked here, once).

    Returns
    -------
    OpenSystem

    Raises
    ------
    ConfigError
        Unknown convention.
    MissingElementError, MissingVolumeError
        No ion metal entry, an element outside the data, or an ion metal
        without a volume.
    IonOnlyError
        The system holds no element but the ion (e.g. Li metal open to Li):
        its grand potential is the reservoir's, nothing can decompose.
    """
    convention = check_convention(convention)
    ion_col = entry_set.element_columns([ion])[0]
    if isinstance(elements, np.ndarray) and elements.dtype.kind == "f":
        cols = set(int(c) for c in np.flatnonzero(elements > 0))
    else:
        items = list(elements)
        cols = set(entry_set.element_columns(items)) if items and isinstance(items[0], str) else set(map(int, items))
    if not cols - {ion_col}:
        raise IonOnlyError(
            f"the chemical system {ion} holds only the working ion {ion}: open to {ion} it is the reservoir itself, "
            f"with no window or decomposition; give a phase with another element, or another --ion"
        )
    return OpenSystem(
        entry_set=entry_set,
        cols=tuple(sorted(cols | {ion_col})),
        ion=ion,
        ion_col=ion_col,
        v_metal_a3=ion_metal_volume(entry_set, ion),
        convention=convention,
    )

"""The windows of one phase: unconstrained, and constrained at each Keff, with the scan limit said (science section 4).

:func:`constrict.physics.electrochem.window` and
:func:`constrict.physics.kcrit.constrained_window` work on an open system and a
composition; this module starts from what a user names (a formula, an
entry_id or ``hull:<formula>``) and says when a constrained edge is not an
edge but the top of the voltage scan (:data:`SCAN_LIMIT_V`): Kcrit(V) stayed
<= Keff all the way up, so the window reaches at least that far.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from constrict import DEFAULT_CONVENTION
from constrict.core.errors import ConfigError
from constrict.data.entries import EntrySet
from constrict.physics.electrochem import ground_state, window
from constrict.physics.evaluate import resolve_reactant
from constrict.physics.kcrit import constrained_window
from constrict.physics.opensystem import Convention, open_system

SCAN_LIMIT_V = 6.0
"""Top of the constrained-window scan (V vs. the ion metal): an upper edge here means "above"."""


@dataclass(frozen=True)
class ConstrainedWindow:
    """The constrained window at one Keff.

    Attributes
    ----------
    keff_gpa : float
        Effective modulus (GPa).
    v_low_v, v_high_v : float
        Widest range around the unconstrained window with Kcrit(V) <= Keff
        (V vs. the ion metal); ``v_low_v`` = 0 when it reaches the ion metal.
    high_at_scan_limit : bool
        No upper edge below :data:`SCAN_LIMIT_V`: ``v_high_v`` is the top of
        the scan, and the window reaches above it.
    """

    keff_gpa: float
    v_low_v: float
    v_high_v: float
    high_at_scan_limit: bool

    def as_dict(self) -> dict:
        """Plain dict (JSON output)."""
        return {"keff_gpa": self.keff_gpa, "window_v": [self.v_low_v, self.v_high_v],
                "high_at_scan_limit": self.high_at_scan_limit}


@dataclass(frozen=True)
class PhaseWindow:
    """Unconstrained and constrained windows of one phase.

    Attributes
    ----------
    phase : str
        Formula of the phase (R is the ground state at its composition).
    working_ion : str
    convention : str
        Reaction-strain convention of the constrained windows.
    v_low_v, v_high_v : float
        Unconstrained window (V vs. the ion metal; ``inf`` = no upper limit).
    constrained : tuple of ConstrainedWindow
        One per Keff, in the order given.
    scan_limit_v : float
        :data:`SCAN_LIMIT_V`.
    """

    phase: str
    working_ion: str
    convention: str
    v_low_v: float
    v_high_v: float
    constrained: tuple[ConstrainedWindow, ...]
    scan_limit_v: float = SCAN_LIMIT_V

    def as_dict(self) -> dict:
        """Plain dict (JSON output of ``constrict window``)."""
        return {"phase": self.phase, "working_ion": self.working_ion, "window_v": [self.v_low_v, self.v_high_v],
                "convention": self.convention, "scan_limit_v": self.scan_limit_v,
                "constrained": [c.as_dict() for c in self.constrained]}


def high_edge_text(edge: ConstrainedWindow) -> str:
    """The upper edge as printed: ``"3.759 V"``, or ``"above 6 V (scan limit)"``."""
    if edge.high_at_scan_limit:
        return f"above {edge.v_high_v:g} V (scan limit)"
    return f"{edge.v_high_v:.3f} V"


def phase_system(entry_set: EntrySet, phase, working_ion: str, convention: Convention = DEFAULT_CONVENTION):
    """The phase as (formula, composition vector, open system, ground state R).

    Parameters
    ----------
    entry_set : EntrySet
    phase : str, Composition, Reactant or pymatgen entry
        As :func:`constrict.physics.evaluate.resolve_reactant` reads it
        (``"hull:<formula>"`` for any composition).
    working_ion : str
    convention : {"ion_metal", "reservoir", ...}

    Raises
    ------
    ConstrictError
        Unknown formula or element, missing volume, or a phase that holds
        only the working ion (:class:`~constrict.core.errors.IonOnlyError`).
    """
    reactant, _ = resolve_reactant(entry_set, phase)
    system = open_system(entry_set, reactant.comp, working_ion, convention)
    return reactant.formula, reactant.comp, system, ground_state(entry_set, reactant.comp)


def phase_window(
    entry_set: EntrySet,
    phase,
    *,
    working_ion: str,
    convention: Convention = DEFAULT_CONVENTION,
    keff_gpa: Sequence[float] = (),
) -> PhaseWindow:
    """Unconstrained window of a phase and its constrained window at each Keff.

    Parameters
    ----------
    entry_set : EntrySet
    phase : str, Composition, Reactant or pymatgen entry
        See :func:`phase_system`.
    working_ion : str
        Open element, e.g. ``"Li"``.
    convention : {"ion_metal", "reservoir", ...}
        Reaction-strain convention of the constrained windows.
    keff_gpa : sequence of float
        Effective moduli (GPa, finite, >= 0).

    Returns
    -------
    PhaseWindow

    Raises
    ------
    ConfigError
        A Keff that is negative or not finite.
    ConstrictError
        See :func:`phase_system`.
    """
    keffs = [float(k) for k in keff_gpa]
    for k in keffs:
        if not (k >= 0 and k < float("inf")):
            raise ConfigError(f"Keff must be a finite modulus >= 0 GPa, got {k:g}")
    formula, comp, system, _ = phase_system(entry_set, phase, working_ion, convention)
    lo, hi = window(system, comp)
    edges = []
    for k in keffs:
        c_lo, c_hi = constrained_window(system, comp, k, v_max=SCAN_LIMIT_V)
        edges.append(ConstrainedWindow(k, c_lo, c_hi, bool(c_hi >= SCAN_LIMIT_V)))
    return PhaseWindow(formula, working_ion, convention, lo, hi, tuple(edges))

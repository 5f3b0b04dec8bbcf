"""One cathode | coating | electrolyte stack, and the coating alone (docs/science.md section 7).

The interfaces are :func:`constrict.physics.evaluate.evaluate_interface` rows (the
cathode or the electrolyte as reactant a, the coating as b); the coating
alone is its ground state as R (:func:`constrict.physics.electrochem.ground_state`)
in the system open to the working ion, with its unconstrained window
(:func:`constrict.physics.electrochem.window`) beside.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from constrict import DEFAULT_CONVENTION
from constrict.data.entries import EntrySet
from constrict.physics.electrochem import ground_state, window
from constrict.physics.evaluate import evaluate_interface, resolve_reactant, voltage_rows
from constrict.physics.opensystem import Convention, check_convention, check_voltages, open_system
from constrict.physics.uncertainty import PhaseSigmas, cached_phase_sigmas, determined

SIDES = ("coating", "cathode", "electrolyte")
"""The three Kcrit of a stack; ``limiting`` names the one that sets the required Keff."""


def coating_alone(
    entry_set: EntrySet,
    coating,
    *,
    voltages_v: Sequence[float],
    working_ion: str,
    convention: Convention = DEFAULT_CONVENTION,
    sigmas: PhaseSigmas | None = None,
) -> list[dict]:
    """The coating's own window and self-decomposition at each voltage.

    R is the ground state at the coating's composition (its hull phases and
    hull energy, so a metastable coating counts as its hull phases).

    Parameters
    ----------
    entry_set : EntrySet
    coating : str, Composition, Reactant or pymatgen entry
        As :func:`constrict.physics.evaluate.resolve_reactant` reads it.
    voltages_v : sequence of float
        Voltages vs. the working-ion metal (V).
    working_ion : str
        Open element, e.g. ``"Li"``.
    convention : {"ion_metal", "reservoir", "released_metal"}
        Reaction-strain convention of ``kcrit_gpa``.
    sigmas : PhaseSigmas, optional
        Per-phase uncertainties of the Kcrit interval (default: those of the
        entry set's own table, :func:`constrict.physics.uncertainty.cached_phase_sigmas`).

    Returns
    -------
    list of dict
        One per voltage: coating_id, coating_formula, working_ion,
        convention, window_low_v, window_high_v (V; inf = no limit),
        voltage_v, products (JSON, atoms per atom of R),
        ion_released_per_atom, dg_ev_per_atom (eV per atom of R),
        v_r_a3_per_atom, v_p_a3_per_atom, v_metal_a3_per_atom (Å³), eps_ion_metal,
        eps_reservoir, eps_released_metal, kcrit_gpa and kcrit_sc_gpa (GPa;
        0 = stable at V), the interval columns of
        :data:`constrict.physics.uncertainty.INTERVAL_COLUMNS`, status ("ok") and
        error ("").
    """
    convention = check_convention(convention)
    volts = check_voltages(voltages_v)
    reactant, coating_id = resolve_reactant(entry_set, coating)
    system = open_system(entry_set, reactant.comp, working_ion, convention)
    low_v, high_v = window(system, reactant.comp)
    state = ground_state(entry_set, reactant.comp)
    sigmas = (sigmas or cached_phase_sigmas(entry_set)).for_entry_set(entry_set)
    head = {"coating_id": coating_id, "coating_formula": reactant.formula, "working_ion": working_ion,
            "convention": convention, "window_low_v": low_v, "window_high_v": high_v}
    return [{**head, **row} for row in voltage_rows(system, state, volts, sigmas)]


def interface_kcrit_gpa(kcrit_gpa, reacts):
    """Kcrit an interface needs (GPa): its Kcrit, or 0 where the pair forms no interphase.

    A pair that does not react (``reacts`` false, Kcrit NaN in the screen's
    rows) forms no SEI, so nothing at that interface needs constricting.

    Parameters
    ----------
    kcrit_gpa : float or array_like
        Kcrit of the interface's rows (NaN when not reacting or on error).
    reacts : bool or array_like
        The rows' ``reacts``.

    Returns
    -------
    ndarray of float
        GPa; NaN stays NaN only where the pair reacts (an error row).
    """
    kcrit = np.asarray(kcrit_gpa, dtype=float)
    return np.where(np.asarray(reacts, dtype=bool), kcrit, np.where(np.isnan(kcrit), 0.0, kcrit))


def required_keff_gpa(coating_gpa, cathode_gpa, electrolyte_gpa) -> tuple[np.ndarray, np.ndarray]:
    """Keff a stack needs: the largest of its three Kcrit, and which side sets it.

    Parameters
    ----------
    coating_gpa, cathode_gpa, electrolyte_gpa : float or array_like
        Kcrit (GPa) of the coating alone and of the two interfaces (use
        :func:`interface_kcrit_gpa` for the interfaces). NaN = not known.

    Returns
    -------
    keff_gpa : ndarray of float
        max of the three (GPa); NaN if any is NaN.
    limiting : ndarray of str
        ``"coating"``, ``"cathode"`` or ``"electrolyte"`` (the first of
        :data:`SIDES` at the maximum), ``"none"`` when all three are 0, ``""``
        when unknown.
    """
    stacked = np.stack([np.atleast_1d(np.asarray(x, dtype=float)) for x in (coating_gpa, cathode_gpa, electrolyte_gpa)])
    unknown = np.isnan(stacked).any(axis=0)
    keff = np.where(unknown, np.nan, np.nanmax(np.where(np.isnan(stacked), -np.inf, stacked), axis=0))
    side = np.asarray(SIDES, dtype=object)[np.argmax(np.where(np.isnan(stacked), -np.inf, stacked), axis=0)]
    limiting = np.where(unknown, "", np.where(keff == 0.0, "none", side)).astype(object)
    return keff, limiting


@dataclass(frozen=True)
class Stack:
    """Both interfaces of a coating and the coating alone, at one voltage.

    Attributes
    ----------
    voltage_v : float
        Top-of-charge voltage V_c (V vs. the working-ion metal).
    cathode : dict
        :func:`constrict.physics.evaluate.evaluate_interface` row, cathode as a.
    electrolyte : dict
        The same, electrolyte as a.
    coating : dict
        :func:`coating_alone` row.
    keff_required_gpa : float
        Largest of the three Kcrit (GPa), an interface that forms no SEI
        counting 0.
    limiting : str
        Which of :data:`SIDES` sets it (``"none"`` when all are 0).
    keff_required_sc_gpa : float
        The same with the self-consistent Kcrit_sc.
    keff_required_lo_gpa, keff_required_hi_gpa : float
        Its interval: the largest ``kcrit_lo_gpa`` and the largest
        ``kcrit_hi_gpa`` of the three (GPa).
    keff_required_determined : bool
        That interval passes the determined rule (:func:`constrict.physics.uncertainty.determined`).
    """

    voltage_v: float
    cathode: dict
    electrolyte: dict
    coating: dict
    keff_required_gpa: float
    limiting: str
    keff_required_sc_gpa: float
    keff_required_lo_gpa: float
    keff_required_hi_gpa: float
    keff_required_determined: bool

    def stable_at(self, keff_gpa: float) -> bool:
        """Constriction-stable at ``keff_gpa`` (GPa): all three Kcrit <= Keff."""
        return bool(self.keff_required_gpa <= keff_gpa)


def evaluate_stack(
    entry_set: EntrySet,
    cathode,
    coating,
    electrolyte,
    *,
    voltage_v: float,
    working_ion: str = "Li",
    convention: Convention = DEFAULT_CONVENTION,
    sigmas: PhaseSigmas | None = None,
) -> Stack:
    """One cathode | coating | electrolyte stack at the cathode's voltage.

    Parameters
    ----------
    entry_set : EntrySet
    cathode, coating, electrolyte : str, Composition, Reactant or pymatgen entry
        As :func:`constrict.physics.evaluate.resolve_reactant` reads them; a
        charged cathode is ``"hull:Li0.5CoO2"``.
    voltage_v : float
        Top-of-charge voltage V_c (V vs. the working-ion metal).
    working_ion : str
        Open element (``"Li"`` for Li cathodes).
    convention : {"ion_metal", "reservoir", "released_metal"}
        Reaction-strain convention of every Kcrit.
    sigmas : PhaseSigmas, optional
        Per-phase uncertainties of the Kcrit intervals (default: those of
        the entry set's own table).

    Returns
    -------
    Stack
    """
    sigmas = sigmas or cached_phase_sigmas(entry_set)
    options = {"voltages_v": [voltage_v], "working_ion": working_ion, "convention": convention, "sigmas": sigmas}
    [at_cathode] = evaluate_interface(entry_set, cathode, coating, **options)
    [at_electrolyte] = evaluate_interface(entry_set, electrolyte, coating, **options)
    [alone] = coating_alone(entry_set, coating, **options)
    sides = {
        key: [alone[key], *(interface_kcrit_gpa(r[key], r["reacts"]) for r in (at_cathode, at_electrolyte))]
        for key in ("kcrit_gpa", "kcrit_sc_gpa", "kcrit_lo_gpa", "kcrit_hi_gpa")
    }
    keff, limiting = required_keff_gpa(*sides["kcrit_gpa"])
    keff_sc, _ = required_keff_gpa(*sides["kcrit_sc_gpa"])
    lo, _ = required_keff_gpa(*sides["kcrit_lo_gpa"])
    hi, _ = required_keff_gpa(*sides["kcrit_hi_gpa"])
    return Stack(float(alone["voltage_v"]), at_cathode, at_electrolyte, alone, float(keff[0]), str(limiting[0]),
                 float(keff_sc[0]), float(lo[0]), float(hi[0]),
                 determined(float(lo[0]), float(hi[0]), sigmas.model.max_ratio))

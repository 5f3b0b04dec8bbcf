"""The physics of a designed composition: its own decomposition and its interface with the target electrolyte.

A composition enters as a reactant at its hull energy, made of its hull
phases and their volumes (``"hull:<formula>"``,
:func:`constrict.physics.evaluate.composition_reactant`), so every number here
comes from the engine, never from the surrogate:

- (a) the self-decomposition of the composition's ground state at a
  voltage (:func:`self_decomposition`: the ground state as R in the system
  open to the working ion, as :func:`constrict.cathode.physics.coating_alone`
  has it, without the unconstrained window, which the design does not use);
- (b) its interface with the electrolyte (the electrolyte at its own
  energy, as in the screen): x_m, the SEI, and the SEI's Kcrit
  (:func:`constrict.physics.evaluate.evaluate_interface`).

:class:`InterfaceObjective` is the physics route's objective as a function
of the atom fractions: (b)'s linear Kcrit where the pair forms an SEI;
where it does not (E_rxn = 0 at every mixing ratio), no interphase forms
and the coating itself meets the voltage at the interface, so the value is
(a), the coating's own Kcrit. That is also the limit of (b) as x_m -> 1
(the SEI becomes the coating's ground state), and it keeps an inert but
unstable coating from scoring 0.

The objective is the point value of that Kcrit, not the upper bound of its
interval (docs/science.md, "Uncertainty of Kcrit"; docs/design.md says
why): the upper bound is inf wherever the data cannot fix the strain's
sign, which flattens the landscape the line search walks over, and the
point value is what the SHAP route and the paper optimise, so the two
routes stay comparable. Every computed Kcrit of the design carries its
interval and ``determined`` flag (:func:`verify`), so a best design that
the data do not determine says so.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from constrict import DEFAULT_CONVENTION, EV_PER_A3_TO_GPA
from constrict.core.errors import ConfigError, ConstrictError
from constrict.data.entries import EntrySet
from constrict.physics.electrochem import ground_state
from constrict.physics.evaluate import HULL_PREFIX, amounts_json, composition_reactant, evaluate_interface
from constrict.physics.kcrit import KcritAt, kcrit_at
from constrict.physics.opensystem import Convention, check_convention, check_voltages, open_system
from constrict.physics.uncertainty import PhaseSigmas, cached_phase_sigmas, kcrit_interval

INTERFACE_COLUMNS = (
    "reacts", "mutual", "x_m", "e_rxn_ev_per_atom", "sei_composition", "sei_products", "products",
    "ion_released_per_atom", "dg_ev_per_atom", "v_r_a3_per_atom", "eps_ion_metal", "eps_reservoir",
    "eps_released_metal", "kcrit_gpa", "kcrit_sc_gpa", "kcrit_lo_gpa", "kcrit_hi_gpa", "kcrit_determined",
    "eps_sigma",
)
"""Columns of an :func:`~constrict.physics.evaluate.evaluate_interface` row kept as ``interface_<name>``."""

log = logging.getLogger(__name__)

SELF_COLUMNS = (
    "products", "ion_released_per_atom", "dg_ev_per_atom", "v_r_a3_per_atom", "eps_ion_metal", "eps_reservoir",
    "eps_released_metal", "kcrit_gpa", "kcrit_sc_gpa", "kcrit_lo_gpa", "kcrit_hi_gpa", "kcrit_determined",
    "eps_sigma",
)
"""Columns of (a), the composition alone, kept as ``self_<name>`` (:func:`verify`)."""

DESIGN_BOUNDS = ("kcrit_lo_gpa", "kcrit_hi_gpa", "kcrit_determined")
"""The interval columns that :func:`verify` also writes as ``design_<name>`` (from (b), or (a) where no SEI forms)."""


@dataclass(frozen=True)
class Target:
    """The electrolyte a design is checked (and, in the physics route, optimised) against.

    Attributes
    ----------
    electrolyte : str
        Formula or entry_id of a table entry, e.g. ``"Li10SiP2S12"``.
    working_ion : str
        Open element, e.g. ``"Li"``.
    convention : {"ion_metal", "reservoir", "released_metal"}
        Reaction-strain convention of every Kcrit.
    """

    electrolyte: str
    working_ion: str = "Li"
    convention: Convention = DEFAULT_CONVENTION

    def __post_init__(self):
        check_convention(self.convention)
        if not self.electrolyte.strip():
            raise ConfigError("the design's target electrolyte is empty")


def self_decomposition(entry_set: EntrySet, formula: str, target: Target, voltage_v: float, *,
                       self_consistent: bool = True) -> KcritAt:
    """(a): the decomposition and Kcrit of a composition's own ground state at one voltage.

    R is the ground state at the composition (its hull phases and hull
    energy) in the system open to the working ion; the strain convention
    is the target's.

    Raises
    ------
    ConstrictError
        An element outside the data, no hull, or a phase without a volume.
    """
    reactant = composition_reactant(entry_set, formula)
    system = open_system(entry_set, reactant.comp, target.working_ion, target.convention)
    return kcrit_at(system, ground_state(entry_set, reactant.comp), voltage_v, self_consistent=self_consistent)


def verify(entry_set: EntrySet, formula: str, target: Target, voltages_v: Sequence[float], *,
           sigmas: PhaseSigmas | None = None) -> list[dict]:
    """(a) and (b) of one composition at each voltage, every Kcrit with its interval.

    Parameters
    ----------
    entry_set : EntrySet
    formula : str
        The composition (atom fractions or any formula), taken at its hull energy.
    target : Target
    voltages_v : sequence of float
        Voltages vs. the working-ion metal (V).
    sigmas : PhaseSigmas, optional
        Per-phase uncertainties of the Kcrit intervals (default: those of
        the entry set's own table, :func:`constrict.physics.uncertainty.cached_phase_sigmas`).

    Returns
    -------
    list of dict
        One per voltage: ``formula``, ``electrolyte``, ``voltage_v``,
        ``convention``, ``interface_<c>`` for :data:`INTERFACE_COLUMNS`
        (the :func:`~constrict.physics.evaluate.evaluate_interface` row;
        ``interface_kcrit_gpa`` is NaN when the pair does not react),
        ``self_<c>`` for :data:`SELF_COLUMNS` (:func:`self_decomposition`;
        per atom of the composition), ``design_kcrit_gpa``
        (:func:`design_kcrit_gpa`, what the physics route minimises) and its
        interval ``design_<c>`` for :data:`DESIGN_BOUNDS`.

    Raises
    ------
    ConstrictError
        The composition has an element outside the data, no hull, or a
        hull phase without a volume.
    """
    volts = check_voltages(voltages_v)
    sigmas = (sigmas or cached_phase_sigmas(entry_set)).for_entry_set(entry_set)
    interface = evaluate_interface(entry_set, target.electrolyte, HULL_PREFIX + formula, voltages_v=volts,
                                   working_ion=target.working_ion, convention=target.convention, sigmas=sigmas)
    state = ground_state(entry_set, composition_reactant(entry_set, formula).comp)
    metal_row = entry_set.find(target.working_ion)
    rows = []
    for at_interface in interface:
        at = self_decomposition(entry_set, formula, target, at_interface["voltage_v"])
        dec = at.decomposition
        interval = kcrit_interval(dec, state, sigmas, convention=target.convention, metal_row=metal_row)
        alone = {"products": amounts_json(entry_set, dec.products), "kcrit_gpa": at.kcrit_gpa,
                 "kcrit_sc_gpa": at.kcrit_sc_gpa, **{c: float(getattr(dec, c)) for c in SELF_COLUMNS[1:7]},
                 **{c: interval.as_row()[c] for c in (*DESIGN_BOUNDS, "eps_sigma")}}
        row = {"formula": formula, "electrolyte": at_interface["electrolyte"], "voltage_v": at_interface["voltage_v"],
               "convention": target.convention}
        row.update({f"interface_{c}": at_interface[c] for c in INTERFACE_COLUMNS})
        row.update({f"self_{c}": alone[c] for c in SELF_COLUMNS})
        row["design_kcrit_gpa"] = design_kcrit_gpa(at_interface, alone)
        chosen = at_interface if at_interface["reacts"] else alone
        row.update({f"design_{c}": chosen[c] for c in DESIGN_BOUNDS})
        rows.append(row)
    return rows


def design_kcrit_gpa(interface_row: dict, self_row: dict | None) -> float:
    """Kcrit of the material at the interface (GPa): the SEI's if the pair reacts, else the coating's own.

    Parameters
    ----------
    interface_row : dict
        An :func:`~constrict.physics.evaluate.evaluate_interface` row.
    self_row : dict or None
        (a) at the same voltage (``kcrit_gpa`` at least); only read when
        the pair does not react.
    """
    if interface_row["reacts"]:
        return float(interface_row["kcrit_gpa"])
    return float(self_row["kcrit_gpa"])


def energy_under_keff(dg_ev_per_atom: float, eps: float, v_r_a3_per_atom: float, keff_gpa: float) -> float:
    """Decomposition energy under a constriction Keff with the p = 0 products (eV per atom of R).

    ``min(0, dG + Keff * eps * V_R)`` (docs/science.md section 3); 0 exactly
    when Keff >= Kcrit. NaN stays NaN.
    """
    if any(math.isnan(v) for v in (dg_ev_per_atom, eps, v_r_a3_per_atom)):
        return float("nan")
    return min(0.0, dg_ev_per_atom + keff_gpa / EV_PER_A3_TO_GPA * eps * v_r_a3_per_atom)


@dataclass
class InterfaceObjective:
    """:func:`design_kcrit_gpa` (GPa) of a composition with the target, memoised by formula.

    Calling it with atom fractions over ``elements`` writes the composition
    as a formula (:func:`~constrict.design.parents.formula_of`, 6 decimals),
    so equal formulas are evaluated once. A composition the engine refuses
    (no hull, no volume) or whose LP fails counts +inf, is tallied in
    ``n_failed`` and logged.

    Attributes
    ----------
    entry_set : EntrySet
    target : Target
    voltage_v : float
    elements : tuple of str
    n_evaluations : int
        Distinct compositions evaluated by the engine.
    n_failed : int
        Of those, refused by the engine.
    seconds : float
        Engine time.
    """

    entry_set: EntrySet
    target: Target
    voltage_v: float
    elements: tuple[str, ...]
    n_evaluations: int = 0
    n_failed: int = 0
    seconds: float = 0.0
    _memo: dict = field(default_factory=dict, repr=False)
    _values: list = field(default_factory=list, repr=False)

    def formula(self, x: np.ndarray) -> str:
        """The formula the objective evaluates for ``x``."""
        from constrict.design.parents import formula_of

        return formula_of(dict(zip(self.elements, np.asarray(x, dtype=float), strict=True)))

    def __call__(self, x: np.ndarray) -> float:
        """Interface Kcrit (GPa) of the composition ``x`` (shape (n_elements,))."""
        key = self.formula(x)
        if key in self._memo:
            return self._memo[key]
        started = time.perf_counter()
        try:
            [row] = evaluate_interface(self.entry_set, self.target.electrolyte, HULL_PREFIX + key,
                                       voltages_v=[self.voltage_v], working_ion=self.target.working_ion,
                                       convention=self.target.convention,
                                       sigmas=cached_phase_sigmas(self.entry_set))
            alone = None if row["reacts"] else {"kcrit_gpa": self_decomposition(
                self.entry_set, key, self.target, self.voltage_v, self_consistent=False).kcrit_gpa}
            value = design_kcrit_gpa(row, alone)
        except ConstrictError as err:  # refused by the engine, or an LP that failed (SolverError)
            value = math.inf
            self.n_failed += 1
            log.warning("composition %s not evaluated (counted as failed): %s", key, err)
        self.seconds += time.perf_counter() - started
        self.n_evaluations += 1
        self._memo[key] = value
        self._values.append(value)
        return value

    @property
    def values(self) -> list[float]:
        """Kcrit (GPa) of every engine evaluation, in order (memo hits not repeated)."""
        return list(self._values)

"""One electrolyte/coating interface at several voltages -> screen result rows.

The row layout is the screen result contract (docs/physics.md): one dict
per voltage, every per-atom quantity per atom of the reactant R (the SEI).
"""

from __future__ import annotations

import json

import numpy as np

from constrict import DEFAULT_CONVENTION
from constrict.core.errors import ConstrictError, UnknownFormulaError
from constrict.data.entries import EntrySet, is_composition, parse_composition
from constrict.physics.electrochem import ground_state
from constrict.physics.interface import Reactant, interface_reaction
from constrict.physics.kcrit import kcrit_at
from constrict.physics.opensystem import (
    Convention,
    OpenSystem,
    check_convention,
    check_voltages,
    open_system,
)
from constrict.physics.uncertainty import INTERVAL_COLUMNS, PhaseSigmas, cached_phase_sigmas, kcrit_interval

_FROM_TABLES = ("RESULT_COLUMNS", "RESULT_SCHEMA")


def __getattr__(name: str):
    """Re-export the result schema of :mod:`constrict.data.tables` on first use (it imports pyarrow and pandas)."""
    if name in _FROM_TABLES:
        from constrict.data import tables

        return getattr(tables, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


JSON_DIGITS = 10
"""Decimal places kept for amounts inside the JSON string columns."""


HULL_PREFIX = "hull:"
"""Written form of a composition reactant at its hull energy, e.g. ``"hull:Li0.5CoO2"``.

A plain formula names an entry of the table; only this prefix (or
:func:`composition_reactant`) turns a composition into a reactant, so a
mistyped table formula is an error, never silently a hull composition.
"""


def composition_reactant(entry_set: EntrySet, formula) -> Reactant:
    """Any composition as a reactant: its ground state, at its hull energy.

    The reactant is the set of hull phases at the composition, with the hull
    energy and (where the physics needs it) the volume of those phases
    (docs/science.md section 6): a charged cathode such as ``Li0.5CoO2`` or
    a designed glass such as ``Li0.364P0.110S0.388I0.138``. It needs no
    entry of its own.

    Parameters
    ----------
    entry_set : EntrySet
    formula : str or pymatgen Composition
        Any composition of elements in the data; amounts need not be whole.

    Returns
    -------
    Reactant
        ``row`` None, atom fractions, hull energy (eV/atom), and the formula
        as written (whitespace removed).

    Raises
    ------
    UnknownFormulaError
        The formula cannot be parsed, or the data have no phases spanning
        its chemical system (no hull).
    MissingElementError
        An element is not in the data.
    MissingVolumeError
        A hull phase has no volume.
    """
    comp = parse_composition(formula)
    vec = entry_set.composition_vector(comp)
    energy, phases = entry_set.decompose(vec)
    ground_state(entry_set, vec, phases, energy)  # every hull phase must carry a volume
    name = "".join((comp.formula if is_composition(formula) else str(formula)).split())
    return Reactant(None, vec, float(energy), name)


def resolve_reactant(entry_set: EntrySet, item) -> tuple[Reactant, str]:
    """A reactant and its id from an entry_id, formula, composition, Reactant or pymatgen entry.

    - A string or Composition names an entry of the table: the lowest
      energy of its reduced composition, at its own energy.
    - ``"hull:<formula>"`` (:data:`HULL_PREFIX`) is any composition at its
      hull energy (:func:`composition_reactant`); its id is the same string,
      so a result's ``coating_id`` resolves again to the same reactant.
    - A :class:`~constrict.physics.interface.Reactant` (e.g. from
      :func:`composition_reactant`) is taken as it is.
    - A pymatgen entry brings its own energy per atom, read as a formation
      energy (elements at 0) like the table's.

    Returns
    -------
    (Reactant, str)
        The reactant and its id (entry_id for table entries,
        ``"hull:<formula>"`` for compositions).

    Raises
    ------
    UnknownFormulaError
        Not parseable, or not in the table (the message names the
        ``hull:`` form for a composition that is not an entry).
    MissingElementError, MissingVolumeError
        See :func:`composition_reactant`.
    """
    if isinstance(item, Reactant):
        ident = entry_set.entry_ids[item.row] if item.row is not None else HULL_PREFIX + item.formula
        return item, str(ident)
    if hasattr(item, "composition") and hasattr(item, "energy_per_atom"):
        comp = parse_composition(item.composition)
        vec = entry_set.composition_vector(comp)
        ident = getattr(item, "entry_id", None) or comp.reduced_formula
        return Reactant(None, vec, float(item.energy_per_atom), comp.reduced_formula), str(ident)
    if isinstance(item, str) and item.strip().startswith(HULL_PREFIX):
        reactant = composition_reactant(entry_set, item.strip()[len(HULL_PREFIX):])
        return reactant, HULL_PREFIX + reactant.formula
    if not (isinstance(item, str) or is_composition(item)):
        raise UnknownFormulaError(f"cannot read a reactant from {type(item).__name__}; give a formula or entry_id")
    try:
        row = entry_set.find(item)
    except UnknownFormulaError as err:
        if isinstance(item, str) and _is_composition_in_data(entry_set, item):
            raise UnknownFormulaError(
                f"{err}; to take the composition at its hull energy, write {HULL_PREFIX}{item.strip()}"
            ) from None
        raise
    energy = float(entry_set.energy_per_atom_ev[row])
    return Reactant(row, entry_set.comp[row], energy, entry_set.reduced_formula(row)), entry_set.entry_ids[row]


def _is_composition_in_data(entry_set: EntrySet, text: str) -> bool:
    """True if ``text`` parses as a formula whose elements are all in the data."""
    try:
        entry_set.composition_vector(parse_composition(text))
    except ConstrictError:
        return False
    return True


def amounts_json(entry_set: EntrySet, phases: dict) -> str:
    """Phase amounts as a JSON object keyed by reduced formula (amounts summed, sorted, rounded).

    Parameters
    ----------
    entry_set : EntrySet
    phases : dict
        Entry row -> amount (per atom of reactant).

    Returns
    -------
    str
        E.g. ``{"Li2S": 0.5, "P2S5": 0.25}``, the form of the tables' product columns.
    """
    out: dict[str, float] = {}
    for row, amount in phases.items():
        name = entry_set.reduced_formula(row)
        out[name] = out.get(name, 0.0) + amount
    return json.dumps({k: round(v, JSON_DIGITS) for k, v in sorted(out.items())})


def _composition_json(entry_set: EntrySet, comp: np.ndarray) -> str:
    present = sorted(np.flatnonzero(comp > 0), key=lambda j: entry_set.elements[j])
    return json.dumps({entry_set.elements[j]: round(float(comp[j]), JSON_DIGITS) for j in present})


def evaluate_interface(
    entry_set: EntrySet,
    electrolyte,
    coating,
    *,
    voltages_v,
    working_ion: str,
    convention: Convention = DEFAULT_CONVENTION,
    sigmas: PhaseSigmas | None = None,
) -> list[dict]:
    """Interface reaction, SEI decomposition, strain and Kcrit (with its interval) at each voltage.

    Parameters
    ----------
    entry_set : EntrySet
    electrolyte, coating : str, Composition or pymatgen entry
        Formula or entry_id present in the table (or an entry).
    voltages_v : sequence of float
        Voltages vs. the working-ion metal (V, within ``VOLTAGE_RANGE_V``).
    working_ion : str
        Open element, e.g. "Li" or "Na".
    convention : {"ion_metal", "reservoir", "released_metal"}
        Volume convention of the exchanged ion for ``kcrit_gpa``.
    sigmas : PhaseSigmas, optional
        Per-phase uncertainties for the Kcrit interval
        (:mod:`constrict.physics.uncertainty`); default: those of the entry set's own
        table under the default model.

    Returns
    -------
    list of dict
        One per voltage with the screen result columns (all but
        ``electrolyte_label``).

    Raises
    ------
    ConstrictError
        Unknown formula, element or missing volume.
    """
    convention = check_convention(convention)
    volts = check_voltages(voltages_v)
    a, _ = resolve_reactant(entry_set, electrolyte)
    b, coating_id = resolve_reactant(entry_set, coating)
    system = open_system(entry_set, a.comp + b.comp, working_ion, convention)
    rxn = interface_reaction(entry_set, a, b)
    base = {
        "electrolyte": a.formula,
        "working_ion": working_ion,
        "coating_id": coating_id,
        "coating_formula": b.formula,
        "chemical_system": rxn.chemical_system,
        "convention": convention,
        "reacts": bool(rxn.reacts),
        "mutual": bool(rxn.mutual),
        "x_m": float(rxn.x_m),
        "e_rxn_ev_per_atom": float(rxn.e_rxn_ev_per_atom),
        "e_rxn_mutual_ev_per_atom": float(rxn.e_rxn_mutual_ev_per_atom),
        "sei_composition": _composition_json(entry_set, rxn.sei_comp) if rxn.reacts else "{}",
        "sei_products": amounts_json(entry_set, rxn.sei_phases) if rxn.reacts else "{}",
    }
    nan = float("nan")
    if not rxn.reacts:
        per_v = dict.fromkeys(
            ("ion_released_per_atom", "dg_ev_per_atom", "v_r_a3_per_atom", "v_p_a3_per_atom",
             "v_metal_a3_per_atom", "eps_ion_metal", "eps_reservoir", "eps_released_metal", "kcrit_gpa",
             "kcrit_sc_gpa", *INTERVAL_COLUMNS), nan,
        )
        per_v["kcrit_determined"] = False
        return [{**base, "voltage_v": v, "products": "{}", **per_v, "status": "ok", "error": ""} for v in volts]
    reactant = ground_state(entry_set, rxn.sei_comp, rxn.sei_phases, rxn.sei_energy_per_atom_ev)
    sigmas = (sigmas or cached_phase_sigmas(entry_set)).for_entry_set(entry_set)
    return [{**base, **row} for row in voltage_rows(system, reactant, volts, sigmas)]


def voltage_rows(system: OpenSystem, reactant, voltages_v, sigmas) -> list[dict]:
    """The per-voltage result columns of R: products, strains, Kcrit, Kcrit_sc and the interval.

    Parameters
    ----------
    system : OpenSystem
        The open system (its convention gives Kcrit).
    reactant : GroundState
        R, inside ``system``.
    voltages_v : sequence of float
        Checked voltages vs. the ion metal (V).
    sigmas : PhaseSigmas
        Per-phase uncertainties on the rows of ``system.entry_set``.

    Returns
    -------
    list of dict
        One per voltage: voltage_v, products (JSON), ion_released_per_atom,
        dg_ev_per_atom, v_r/v_p/v_metal_a3_per_atom, the three strains,
        kcrit_gpa, kcrit_sc_gpa, the interval columns, status and error.
    """
    entry_set = system.entry_set
    metal_row = entry_set.find(system.ion)
    out = []
    for v in voltages_v:
        at = kcrit_at(system, reactant, v)
        dec = at.decomposition
        interval = kcrit_interval(dec, reactant, sigmas, convention=system.convention, metal_row=metal_row)
        out.append(
            {
                "voltage_v": v,
                "products": amounts_json(entry_set, dec.products),
                "ion_released_per_atom": dec.ion_released_per_atom,
                "dg_ev_per_atom": dec.dg_ev_per_atom,
                "v_r_a3_per_atom": dec.v_r_a3_per_atom,
                "v_p_a3_per_atom": dec.v_p_a3_per_atom,
                "v_metal_a3_per_atom": dec.v_metal_a3_per_atom,
                "eps_ion_metal": dec.eps_ion_metal,
                "eps_reservoir": dec.eps_reservoir,
                "eps_released_metal": dec.eps_released_metal,
                "kcrit_gpa": at.kcrit_gpa,
                "kcrit_sc_gpa": at.kcrit_sc_gpa,
                **interval.as_row(),
                "status": "ok",
                "error": "",
            }
        )
    return out


def default_working_ion(electrolyte) -> str:
    """Na if the electrolyte contains Na and not Li, else Li.

    Parameters
    ----------
    electrolyte : str, Composition or set of str
        Formula, or the electrolyte's element symbols.
    """
    if isinstance(electrolyte, (set, frozenset)):
        els = electrolyte
    else:
        try:
            els = {el.symbol for el in parse_composition(electrolyte).elements}
        except ConstrictError:
            return "Li"
    return "Na" if "Na" in els and "Li" not in els else "Li"

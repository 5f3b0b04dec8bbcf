"""One electrolyte/coating interface at several voltages -> screen result rows.

The row layout is the screen result contract (docs/physics.md): one dict
per voltage, every per-atom quantity per atom of the reactant R (the SEI).
"""

from __future__ import annotations

import json

import numpy as np
from pymatgen.core import Composition

from constrict.electrochem import ground_state
from constrict.errors import ConstrictError, UnknownFormulaError
from constrict.hull import EntrySet, parse_composition
from constrict.interface import Reactant, interface_reaction
from constrict.kcrit import kcrit_at
from constrict.opensystem import (
    Convention,
    check_convention,
    check_voltages,
    open_system,
)
from constrict.tables import RESULT_COLUMNS, RESULT_SCHEMA  # noqa: F401 - re-exported

JSON_DIGITS = 10
"""Decimal places kept for amounts inside the JSON string columns."""


def resolve_reactant(entry_set: EntrySet, item) -> tuple[Reactant, str]:
    """A reactant and its id from an entry_id, formula, Composition or pymatgen entry.

    Strings and Compositions must be entries of the table (lowest energy of
    the reduced composition). A pymatgen entry brings its own energy per
    atom, read as a formation energy (elements at 0) like the table's.

    Returns
    -------
    (Reactant, str)
        The reactant and its id (entry_id for table entries).
    """
    if hasattr(item, "composition") and hasattr(item, "energy_per_atom"):
        comp = parse_composition(item.composition)
        vec = entry_set.composition_vector(comp)
        ident = getattr(item, "entry_id", None) or comp.reduced_formula
        return Reactant(None, vec, float(item.energy_per_atom), comp.reduced_formula), str(ident)
    if not isinstance(item, (str, Composition)):
        raise UnknownFormulaError(f"cannot read a reactant from {type(item).__name__}; give a formula or entry_id")
    row = entry_set.find(item)
    reactant = Reactant(row, entry_set.comp[row], float(entry_set.energy_per_atom_ev[row]), entry_set.reduced_formula(row))
    return reactant, entry_set.entry_ids[row]


def _amounts_json(entry_set: EntrySet, phases: dict) -> str:
    out: dict[str, float] = {}
    for row, amount in phases.items():
        name = entry_set.reduced_formula(row)
        out[name] = out.get(name, 0.0) + amount
    return json.dumps({k: round(v, JSON_DIGITS) for k, v in sorted(out.items())})


def _composition_json(entry_set: EntrySet, comp: np.ndarray) -> str:
    return json.dumps(
        {entry_set.elements[j]: round(float(comp[j]), JSON_DIGITS) for j in sorted(np.flatnonzero(comp > 0), key=lambda j: entry_set.elements[j])}
    )


def evaluate_interface(
    entry_set: EntrySet,
    electrolyte,
    coating,
    *,
    voltages_v,
    working_ion: str,
    convention: Convention = "ion_metal",
) -> list[dict]:
    """Interface reaction, SEI decomposition, strain and Kcrit at each voltage.

    Parameters
    ----------
    entry_set : EntrySet
    electrolyte, coating : str, Composition or pymatgen entry
        Formula or entry_id present in the table (or an entry).
    voltages_v : sequence of float
        Voltages vs. the working-ion metal (V, within ``VOLTAGE_RANGE_V``).
    working_ion : str
        Open element, e.g. "Li" or "Na".
    convention : {"ion_metal", "reservoir"}
        Volume convention of the exchanged ion for ``kcrit_gpa``.

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
        "sei_products": _amounts_json(entry_set, rxn.sei_phases) if rxn.reacts else "{}",
    }
    nan = float("nan")
    if not rxn.reacts:
        per_v = dict.fromkeys(
            ("ion_released_per_atom", "dg_ev_per_atom", "v_r_a3_per_atom", "eps_ion_metal",
             "eps_reservoir", "kcrit_gpa", "kcrit_sc_gpa"), nan,
        )
        return [{**base, "voltage_v": v, "products": "{}", **per_v, "status": "ok", "error": ""} for v in volts]
    reactant = ground_state(entry_set, rxn.sei_comp, rxn.sei_phases, rxn.sei_energy_per_atom_ev)
    out = []
    for v in volts:
        at = kcrit_at(system, reactant, v)
        dec = at.decomposition
        out.append(
            {
                **base,
                "voltage_v": v,
                "products": _amounts_json(entry_set, dec.products),
                "ion_released_per_atom": dec.ion_released_per_atom,
                "dg_ev_per_atom": dec.dg_ev_per_atom,
                "v_r_a3_per_atom": dec.v_r_a3_per_atom,
                "eps_ion_metal": dec.eps_ion_metal,
                "eps_reservoir": dec.eps_reservoir,
                "kcrit_gpa": at.kcrit_gpa,
                "kcrit_sc_gpa": at.kcrit_sc_gpa,
                "status": "ok",
                "error": "",
            }
        )
    return out


def default_working_ion(electrolyte) -> str:
    """Na if the electrolyte contains Na and not Li, else Li."""
    try:
        els = {el.symbol for el in parse_composition(electrolyte).elements}
    except ConstrictError:
        return "Li"
    return "Na" if "Na" in els and "Li" not in els else "Li"

"""The numbers each figure draws, as plain dicts of arrays (they are also the figures' JSON sidecars).

Every series comes straight from the engine's own functions, so a sidecar
can be checked against them: :func:`interface_data` from
:func:`constrict.physics.evaluate.evaluate_interface` and
:func:`constrict.physics.kinks.reaction_curve`, :func:`window_data` from
:func:`constrict.physics.phasewindow.phase_window` and
:func:`constrict.physics.kcrit.kcrit_at`, :func:`stack_data` from
:func:`constrict.cathode.physics.evaluate_stack`.

Voltage scans copy every per-voltage number of the engine's rows by name
(:func:`scan_fields`): a quantity added to the rows later (e.g. a Kcrit
interval ``kcrit_lo_gpa`` / ``kcrit_hi_gpa``) appears in the sidecar by
itself, and the drawing code draws it where it knows the name.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import fields

import numpy as np

from constrict import DEFAULT_CONVENTION, __version__
from constrict.core.errors import ConfigError
from constrict.data.entries import EntrySet
from constrict.design.physics import energy_under_keff
from constrict.physics.evaluate import evaluate_interface, resolve_reactant
from constrict.physics.kcrit import kcrit_at
from constrict.physics.kinks import reaction_curve
from constrict.physics.opensystem import Convention, check_voltages
from constrict.physics.phasewindow import SCAN_LIMIT_V, phase_system, phase_window
from constrict.physics.uncertainty import cached_phase_sigmas, kcrit_interval

DEFAULT_KEFF_GPA = (5.0, 10.0, 15.0)
"""Keff lines (GPa) drawn when none are given: the default campaign's window Keff values."""

DEFAULT_VOLTAGE_RANGE_V = (0.0, 5.0)
"""Voltage axis (V vs. the ion metal) of the interface figure unless told otherwise."""

STEP_V = 0.02
"""Spacing of the voltage scans (V)."""

N_KEFF = 241
"""Points of the Keff scan of the stack figure."""

PER_VOLTAGE = ("ion_released_per_atom", "dg_ev_per_atom", "v_r_a3_per_atom")
"""Per-voltage row fields copied besides every ``eps_*`` and ``kcrit_*`` field."""


def scan_fields(row: dict) -> list[str]:
    """Names of the per-voltage numbers of an engine row: :data:`PER_VOLTAGE`, ``eps_*`` and ``kcrit_*``."""
    return [k for k in row if k in PER_VOLTAGE or k.startswith(("eps_", "kcrit_"))]


def _columns(rows: Sequence[dict]) -> dict:
    """Rows of one interface -> {"voltage_v": [...], field: [...]} over :func:`scan_fields`."""
    names = ["voltage_v", *scan_fields(rows[0])]
    return {name: np.array([float(r[name]) for r in rows]) for name in names}


def voltage_grid(v_min: float, v_max: float, step_v: float = STEP_V) -> np.ndarray:
    """Voltages from ``v_min`` to ``v_max`` (both included) about ``step_v`` apart (V)."""
    check_voltages([v_min, v_max])
    if not v_max > v_min:
        raise ConfigError(f"the voltage range must rise: got {v_min:g} to {v_max:g} V")
    return np.linspace(v_min, v_max, int(round((v_max - v_min) / step_v)) + 1)


def _check_keffs(keff_gpa) -> list[float]:
    keffs = [float(k) for k in keff_gpa]
    for k in keffs:
        if not (math.isfinite(k) and k >= 0):
            raise ConfigError(f"Keff must be a finite modulus >= 0 GPa, got {k:g}")
    return keffs


def interface_data(
    entry_set: EntrySet,
    electrolyte,
    coating,
    *,
    working_ion: str,
    convention: Convention = DEFAULT_CONVENTION,
    voltages_v: Sequence[float] = (2.0, 3.0, 4.0),
    voltage_range_v: tuple[float, float] = DEFAULT_VOLTAGE_RANGE_V,
    keff_gpa: Sequence[float] = DEFAULT_KEFF_GPA,
) -> dict:
    """Everything the interface figure draws.

    Parameters
    ----------
    entry_set : EntrySet
    electrolyte, coating : str, Composition, Reactant or pymatgen entry
        As :func:`constrict.physics.evaluate.resolve_reactant` reads them.
    working_ion : str
    convention : {"ion_metal", "reservoir", ...}
        Strain convention of Kcrit.
    voltages_v : sequence of float
        The table's voltages (V), marked on the voltage axis.
    voltage_range_v : (float, float)
        Voltage axis (V), scanned every :data:`STEP_V`.
    keff_gpa : sequence of float
        Keff lines (GPa).

    Returns
    -------
    dict
        ``kind`` "interface"; the pair, ion and convention; ``reaction``: the
        kinks of E_rxn(x) (``x``, ``e_rxn_ev_per_atom``, ``products`` per
        kink as formula -> atoms per atom of mixture), ``x_m``,
        ``e_rxn_m_ev_per_atom``, ``reacts``, ``mutual``, ``sei_products``;
        ``scan``: ``voltage_v`` of shape (n_v,) and every per-voltage field of
        :func:`~constrict.physics.evaluate.evaluate_interface` (:func:`scan_fields`),
        each of shape (n_v,); ``table``: the same at ``voltages_v``;
        ``keff_gpa``; ``voltage_range_v``.
    """
    keffs = _check_keffs(keff_gpa)
    grid = voltage_grid(*voltage_range_v)
    table_v = check_voltages(voltages_v)
    a, _ = resolve_reactant(entry_set, electrolyte)
    b, _ = resolve_reactant(entry_set, coating)
    options = {"working_ion": working_ion, "convention": convention}
    scan = evaluate_interface(entry_set, a, coating, voltages_v=grid, **options)
    table = evaluate_interface(entry_set, a, coating, voltages_v=table_v, **options)
    curve = reaction_curve(entry_set, a, b)
    first = scan[0]
    return {
        "kind": "interface", "constrict_version": __version__,
        "electrolyte": first["electrolyte"], "coating": first["coating_formula"], "coating_id": first["coating_id"],
        "chemical_system": first["chemical_system"], "working_ion": working_ion, "convention": first["convention"],
        "reaction": {
            "x": curve.x, "e_rxn_ev_per_atom": curve.e_rxn_ev_per_atom,
            "products": [_names(entry_set, p) for p in curve.products],
            "x_m": first["x_m"], "e_rxn_m_ev_per_atom": first["e_rxn_ev_per_atom"],
            "e_rxn_mutual_ev_per_atom": first["e_rxn_mutual_ev_per_atom"],
            "reacts": first["reacts"], "mutual": first["mutual"], "sei_products": json.loads(first["sei_products"]),
        },
        "scan": _columns(scan),
        "table": _columns(table),
        "keff_gpa": keffs,
        "voltage_range_v": [float(grid[0]), float(grid[-1])],
    }


def _names(entry_set: EntrySet, phases: dict) -> dict:
    """Entry row -> amount as reduced formula -> amount (polymorphs summed)."""
    out: dict[str, float] = {}
    for row, amount in phases.items():
        name = entry_set.reduced_formula(row)
        out[name] = out.get(name, 0.0) + float(amount)
    return dict(sorted(out.items()))


def window_data(
    entry_set: EntrySet,
    phase,
    *,
    working_ion: str,
    convention: Convention = DEFAULT_CONVENTION,
    keff_gpa: Sequence[float] = DEFAULT_KEFF_GPA,
) -> dict:
    """Everything the window figure draws: Kcrit(V) of the phase and its windows.

    Parameters
    ----------
    entry_set : EntrySet
    phase : str, Composition, Reactant or pymatgen entry
        R is the ground state at its composition (``hull:<formula>`` for any
        composition).
    working_ion : str
    convention : {"ion_metal", "reservoir", ...}
    keff_gpa : sequence of float
        Keff (GPa) of the constrained windows.

    Returns
    -------
    dict
        ``kind`` "window"; :meth:`constrict.physics.phasewindow.PhaseWindow.as_dict`
        (``window_v``, ``constrained`` per Keff with ``high_at_scan_limit``,
        ``scan_limit_v``); ``scan``: ``voltage_v`` of shape (n_v,) from 0 to
        the scan limit and, each of shape (n_v,), ``dg_ev_per_atom``,
        ``ion_released_per_atom``, ``eps`` (the convention's strain) and
        every ``kcrit_*`` number of :func:`constrict.physics.kcrit.kcrit_at` (linear
        Kcrit, GPa) with its interval (``kcrit_lo_gpa``, ``kcrit_hi_gpa``,
        ``kcrit_determined``; :func:`constrict.physics.uncertainty.kcrit_interval`).
    """
    keffs = _check_keffs(keff_gpa)
    windows = phase_window(entry_set, phase, working_ion=working_ion, convention=convention, keff_gpa=keffs)
    _, _, system, reactant = phase_system(entry_set, phase, working_ion, convention)
    grid = voltage_grid(0.0, SCAN_LIMIT_V)
    sigmas = cached_phase_sigmas(entry_set)
    metal_row = entry_set.find(working_ion)
    rows = []
    for v in grid:
        at = kcrit_at(system, reactant, float(v), self_consistent=False)
        dec = at.decomposition
        row = {"voltage_v": float(v), "dg_ev_per_atom": dec.dg_ev_per_atom,
               "ion_released_per_atom": dec.ion_released_per_atom, "eps": dec.eps(system.convention)}
        row.update({f.name: getattr(at, f.name) for f in fields(at) if f.name.startswith("kcrit_")})
        row.pop("kcrit_sc_gpa", None)  # not computed here (NaN)
        interval = kcrit_interval(dec, reactant, sigmas, convention=system.convention, metal_row=metal_row)
        row.update({k: interval.as_row()[k] for k in ("kcrit_lo_gpa", "kcrit_hi_gpa", "kcrit_determined")})
        rows.append(row)
    scan = {name: np.array([float(r[name]) for r in rows]) for name in rows[0]}
    return {"kind": "window", "constrict_version": __version__, **windows.as_dict(), "scan": scan}


SIDE_LABELS = {"cathode": "cathode | coating", "coating": "coating alone", "electrolyte": "coating | electrolyte"}
"""How the stack figure names the three Kcrit (:data:`constrict.cathode.physics.SIDES`)."""


def stack_data(stack, *, keff_gpa: float) -> dict:
    """Everything the stack figure draws: the three Kcrit and dG(Keff) of each side.

    Parameters
    ----------
    stack : constrict.cathode.physics.Stack
        :func:`constrict.cathode.physics.evaluate_stack` of the three reactants.
    keff_gpa : float
        Keff of the verdict (GPa).

    Returns
    -------
    dict
        ``kind`` "stack"; ``voltage_v``, ``keff_gpa``,
        ``keff_required_gpa``, ``keff_required_sc_gpa``, ``limiting``;
        ``sides``: per side (cathode, coating, electrolyte) its ``label``,
        ``reacts``, ``kcrit_gpa`` (0 for an interface that forms no SEI, as
        the verdict counts it), ``kcrit_sc_gpa``, ``dg_ev_per_atom``,
        ``eps``, ``v_r_a3_per_atom``; ``scan``: ``keff_gpa`` of shape (n_k,)
        and ``dg_<side>_ev_per_atom`` of shape (n_k,), the decomposition
        energy under Keff with the p = 0 products held,
        ``min(0, dG + Keff eps V_R)``.
    """
    [keff] = _check_keffs([keff_gpa])
    convention = stack.coating["convention"]
    rows = {"cathode": stack.cathode, "coating": stack.coating, "electrolyte": stack.electrolyte}
    sides = {}
    for side, row in rows.items():
        reacts = bool(row.get("reacts", True))
        names = (row["electrolyte"], row["coating_formula"]) if side != "coating" else (row["coating_formula"],)
        sides[side] = {
            "label": f"{SIDE_LABELS[side]}: {' | '.join(names)}", "reacts": reacts,
            "kcrit_gpa": float(row["kcrit_gpa"]) if reacts else 0.0,
            "kcrit_sc_gpa": float(row["kcrit_sc_gpa"]) if reacts else 0.0,
            "dg_ev_per_atom": float(row["dg_ev_per_atom"]) if reacts else 0.0,
            "eps": float(row["eps_" + convention]) if reacts else 0.0,
            "v_r_a3_per_atom": float(row["v_r_a3_per_atom"]) if reacts else float("nan"),
        }
    finite = [s["kcrit_gpa"] for s in sides.values() if math.isfinite(s["kcrit_gpa"])]
    top = max([1.6 * max(finite, default=0.0), 2.0 * keff, 10.0])
    grid = np.linspace(0.0, top, N_KEFF)
    scan = {"keff_gpa": grid}
    for side, s in sides.items():
        scan[f"dg_{side}_ev_per_atom"] = np.array(
            [0.0 if not s["reacts"] else energy_under_keff(s["dg_ev_per_atom"], s["eps"], s["v_r_a3_per_atom"], k)
             for k in grid])
    return {
        "kind": "stack", "constrict_version": __version__, "voltage_v": stack.voltage_v, "convention": convention,
        "keff_gpa": keff, "keff_required_gpa": stack.keff_required_gpa,
        "keff_required_sc_gpa": stack.keff_required_sc_gpa, "limiting": stack.limiting, "sides": sides, "scan": scan,
    }

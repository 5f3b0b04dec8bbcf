"""constrict's Python API for notebooks and scripts: one import, stable names.

::

    from constrict import api

    entries = api.load_entries()                               # the offline MP snapshot
    rows = api.evaluate_interface(entries, "Li7P3S11", "LiNbO3", voltages_v=[2, 3, 4])
    api.window(entries, "Li10GeP2S12", keff_gpa=[15])          # unconstrained + constrained
    api.kcrit_at(entries, "hull:Li0.364P0.110S0.388I0.138", 4.0).kcrit_gpa
    api.interface_figure(entries, "Li7P3S11", "LiNbO3", "li7p3s11_linbo3.png")

Every function is a thin wrapper of the engine's own (named in its
docstring), so the numbers are those of the CLI and the campaign. Reactants
are written as in the CLI: a formula or entry_id of the data, or any
composition at its hull energy as ``"hull:<formula>"``. Where
``working_ion`` is None it is Na for a phase with Na and no Li, else Li (the
first reactant decides). Voltages are V vs. the working-ion metal, energies
eV per atom, moduli GPa.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from constrict import DEFAULT_CONVENTION
from constrict.core.errors import ConstrictError
from constrict.data.entries import EntrySet
from constrict.figures import DEFAULT_KEFF_GPA, DEFAULT_VOLTAGE_RANGE_V, Plot, read_sidecar
from constrict.physics.evaluate import HULL_PREFIX, default_working_ion, resolve_reactant
from constrict.physics.evaluate import evaluate_interface as _evaluate_interface
from constrict.physics.kcrit import KcritAt
from constrict.physics.opensystem import Convention
from constrict.physics.phasewindow import PhaseWindow, phase_window

__all__ = [
    "DEFAULT_KEFF_GPA",
    "HULL_PREFIX",
    "design_physics",
    "evaluate_interface",
    "interface_figure",
    "kcrit_at",
    "load_entries",
    "load_model",
    "read_screen",
    "read_sidecar",
    "screen",
    "stack",
    "stack_figure",
    "window",
    "window_figure",
]


def load_entries(source: str = "mp_offline", *, custom: str | Path | None = None,
                 data_dir: str | Path | None = None) -> EntrySet:
    """The entry data: formation energies and volumes of every phase.

    See :func:`constrict.data.entry_cache.load_entry_set`.

    Parameters
    ----------
    source : {"mp_offline", "oqmd_offline", "mp_api"}
        The offline Materials Project or OQMD snapshot, or mp-api (needs MP_API_KEY).
    custom : str or Path, optional
        CSV or YAML of your own phases (docs/schema.md), merged in.
    data_dir : str or Path, optional
        Folder of the offline snapshots (default: $CONSTRICT_DATA_DIR, else the package's).

    Returns
    -------
    EntrySet
        Built once and cached on disk (the first call takes seconds).
    """
    from constrict.data.entry_cache import load_entry_set

    return load_entry_set(source, custom=None if custom is None else str(custom),
                          data_dir=None if data_dir is None else str(data_dir))


def _ion(entries: EntrySet, reactant, working_ion: str | None) -> str:
    if working_ion:
        return working_ion
    r, _ = resolve_reactant(entries, reactant)
    return default_working_ion({entries.elements[j] for j in np.flatnonzero(r.comp > 0)})


def evaluate_interface(entries: EntrySet, electrolyte, coating, *, voltages_v: Sequence[float] = (2.0, 3.0, 4.0),
                       working_ion: str | None = None, convention: Convention = DEFAULT_CONVENTION) -> list[dict]:
    """Interface reaction (x_m, E_rxn, the SEI) and the SEI's dG, strain, Kcrit and Kcrit_sc at each voltage.

    :func:`constrict.physics.evaluate.evaluate_interface`; ``pandas.DataFrame(rows)``
    makes a table of it.

    Returns
    -------
    list of dict
        One per voltage, the screen's result columns (docs/reference.md).
    """
    ion = _ion(entries, electrolyte, working_ion)
    return _evaluate_interface(entries, electrolyte, coating, voltages_v=voltages_v, working_ion=ion,
                               convention=convention)


def window(entries: EntrySet, phase, *, keff_gpa: Sequence[float] = (), working_ion: str | None = None,
           convention: Convention = DEFAULT_CONVENTION) -> PhaseWindow:
    """Unconstrained window of a phase and its constrained window at each Keff.

    :func:`constrict.physics.phasewindow.phase_window`. ``.v_low_v``, ``.v_high_v``
    (V; inf = no limit); ``.constrained`` per Keff with ``v_low_v``,
    ``v_high_v`` and ``high_at_scan_limit`` (the window reaches above the
    6 V scan); ``.as_dict()``.
    """
    return phase_window(entries, phase, working_ion=_ion(entries, phase, working_ion), convention=convention,
                        keff_gpa=keff_gpa)


def kcrit_at(entries: EntrySet, phase, voltage_v: float, *, working_ion: str | None = None,
             convention: Convention = DEFAULT_CONVENTION, self_consistent: bool = True) -> KcritAt:
    """Decomposition, Kcrit and Kcrit_sc of a phase's ground state at one voltage.

    R is the ground state at the phase's composition (:func:`constrict.physics.kcrit.kcrit_at`
    in the system open to the working ion).

    Returns
    -------
    KcritAt
        ``.kcrit_gpa``, ``.kcrit_sc_gpa`` (GPa) and ``.decomposition``
        (products, ``dg_ev_per_atom``, strains, per atom of R).
    """
    from constrict.physics.kcrit import kcrit_at as engine_kcrit_at
    from constrict.physics.opensystem import check_voltages
    from constrict.physics.phasewindow import phase_system

    [v] = check_voltages([voltage_v])
    _, _, system, reactant = phase_system(entries, phase, _ion(entries, phase, working_ion), convention)
    return engine_kcrit_at(system, reactant, v, self_consistent=self_consistent)


def stack(entries: EntrySet, cathode, coating, electrolyte, *, voltage_v: float, working_ion: str = "Li",
          convention: Convention = DEFAULT_CONVENTION):
    """Cathode | coating | electrolyte at the cathode's voltage (:func:`constrict.cathode.physics.evaluate_stack`).

    Returns
    -------
    Stack
        ``.cathode``, ``.electrolyte`` (interface rows), ``.coating`` (the
        coating alone), ``.keff_required_gpa``, ``.limiting``, ``.stable_at(keff_gpa)``.
    """
    from constrict.cathode.physics import evaluate_stack

    return evaluate_stack(entries, cathode, coating, electrolyte, voltage_v=voltage_v, working_ion=working_ion,
                          convention=convention)


def screen(entries: EntrySet, electrolyte, coatings: Sequence[str], *, voltages_v: Sequence[float] = (2.0, 3.0, 4.0),
           working_ion: str | None = None, convention: Convention = DEFAULT_CONVENTION,
           path: str | Path | None = None) -> pd.DataFrame:
    """A small screen of one electrolyte against some coatings, in the campaign's table format.

    Each pair is :func:`constrict.physics.evaluate.evaluate_interface`; a pair the
    engine refuses gets rows with ``status`` "error" and the reason, as in
    the campaign. For thousands of coatings, run the workflow (``make run``).

    Parameters
    ----------
    path : str or Path, optional
        Also write the table to this Parquet file, as the campaign writes
        ``results/screen/screen.parquet`` (:func:`constrict.data.tables.write_table`).

    Returns
    -------
    pandas.DataFrame
        The screen's result columns, one row per coating and voltage, sorted.
    """
    from constrict.data.tables import RESULT_SCHEMA, error_rows, results_frame, write_table

    ion = _ion(entries, electrolyte, working_ion)
    a, _ = resolve_reactant(entries, electrolyte)
    rows = []
    for coating in coatings:
        try:
            part = _evaluate_interface(entries, a, coating, voltages_v=voltages_v, working_ion=ion,
                                       convention=convention)
        except ConstrictError as err:
            pair = {"electrolyte": a.formula, "electrolyte_label": a.formula, "working_ion": ion,
                    "coating_id": str(coating), "coating_formula": str(coating), "chemical_system": ""}
            part = error_rows(pair, voltages_v, convention, err)
        rows += [{**r, "electrolyte_label": a.formula} for r in part]
    table = results_frame(rows)
    if path is not None:
        write_table(table, path, RESULT_SCHEMA)
    return table


def read_screen(path: str | Path) -> pd.DataFrame:
    """A screen table (a shard, the gathered ``screen.parquet`` or :func:`screen`'s file), schema checked."""
    from constrict.data.tables import read_results

    return read_results(path)


def design_physics(entries: EntrySet, parent: str, *, electrolyte: str = "Li10SiP2S12", voltage_v: float = 4.0,
                   max_change: float | None = 0.05, entering: Sequence[str] = ("O", "F", "Cl", "Br", "I"),
                   working_ion: str | None = None, convention: Convention = DEFAULT_CONVENTION, evaluations: int = 400,
                   starts: int = 3, line_points: int = 9, zoom_levels: int = 3, random_state: int = 0) -> dict:
    """One child of a parent composition designed by physics in the loop (docs/design.md), both checked.

    The computed interface Kcrit with ``electrolyte`` at ``voltage_v`` is
    minimised directly (:func:`constrict.design.physics_route.physics_route`)
    within ``max_change`` of the parent per element; parent and child are
    then checked by :func:`constrict.design.physics.verify`.

    Returns
    -------
    dict
        ``parent``, ``child`` (formulas), ``parent_check``, ``child_check``
        (verify rows: ``interface_kcrit_gpa``, ``self_kcrit_gpa``,
        ``design_kcrit_gpa`` ...), ``starts``, ``n_evaluations``, ``seconds``.
    """
    from constrict.design.parents import composition_fractions
    from constrict.design.physics import InterfaceObjective, Target, verify
    from constrict.design.physics_route import PhysicsOptions, physics_route
    from constrict.design.region import make_region
    from constrict.physics.opensystem import check_voltages

    [v] = check_voltages([voltage_v])
    region = make_region(composition_fractions(parent), max_change, entering=entering, known=list(entries.elements))
    target = Target(electrolyte, _ion(entries, electrolyte, working_ion), convention)
    options = PhysicsOptions(starts=starts, line_points=line_points, zoom_levels=zoom_levels,
                             max_evaluations=evaluations, random_state=random_state)
    result = physics_route(InterfaceObjective(entries, target, v, region.elements), region, options)
    out = {"parent": region.formula(region.parent), "child": region.formula(result.fractions),
           "starts": list(result.starts), "n_evaluations": result.n_evaluations, "seconds": result.seconds}
    for name in ("parent", "child"):
        [out[f"{name}_check"]] = verify(entries, out[name], target, [v])
    return out


def load_model(voltage_v: float = 4.0, models: str | Path | None = None):
    """The trained Kcrit surrogate of one voltage (after ``make run``; :mod:`constrict.surrogate`).

    Parameters
    ----------
    voltage_v : float
        Its voltage (V).
    models : str or Path, optional
        Folder of ``kcrit_<V>V.skops`` files (default: results/surrogate/models).

    Returns
    -------
    KcritSurrogate
        ``.predict(compositions)`` (GPa), ``.explain(compositions)`` (SHAP).
    """
    from constrict.surrogate import find_model
    from constrict.surrogate import load_model as load

    return load(find_model(voltage_v, None if models is None else str(models)))


def interface_figure(entries: EntrySet, electrolyte, coating, path: str | Path | None = None, *,
                     voltages_v: Sequence[float] = (2.0, 3.0, 4.0),
                     voltage_range_v: tuple[float, float] = DEFAULT_VOLTAGE_RANGE_V,
                     keff_gpa: Sequence[float] = DEFAULT_KEFF_GPA, working_ion: str | None = None,
                     convention: Convention = DEFAULT_CONVENTION) -> Plot:
    """E_rxn(x) with its kinks and x_m, and the SEI's dG, strain and Kcrit against voltage.

    :func:`constrict.figures.interface_figure`; ``path`` (``.png``/``.svg``)
    also writes the image and its JSON sidecar. In a notebook the returned
    :class:`~constrict.figures.Plot` shows itself; ``.data`` holds the numbers.
    """
    from constrict.figures import interface_figure as draw

    return draw(entries, electrolyte, coating, path, working_ion=_ion(entries, electrolyte, working_ion),
                convention=convention, voltages_v=voltages_v, voltage_range_v=voltage_range_v, keff_gpa=keff_gpa)


def window_figure(entries: EntrySet, phase, path: str | Path | None = None, *,
                  keff_gpa: Sequence[float] = DEFAULT_KEFF_GPA, working_ion: str | None = None,
                  convention: Convention = DEFAULT_CONVENTION) -> Plot:
    """Kcrit(V) of a phase, its unconstrained window and the constrained window at each Keff (Fig. 2).

    :func:`constrict.figures.window_figure`; see :func:`interface_figure`.
    """
    from constrict.figures import window_figure as draw

    return draw(entries, phase, path, working_ion=_ion(entries, phase, working_ion), convention=convention,
                keff_gpa=keff_gpa)


def stack_figure(stack_result, path: str | Path | None = None, *, keff_gpa: float = 15.0) -> Plot:
    """The three Kcrit of a :func:`stack` (cathode side, coating alone, electrolyte side) against Keff.

    :func:`constrict.figures.stack_figure`; ``keff_gpa`` is the Keff of the
    verdict (GPa).
    """
    from constrict.figures import stack_figure as draw

    return draw(stack_result, path, keff_gpa=keff_gpa)

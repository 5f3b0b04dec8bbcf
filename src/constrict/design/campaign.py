"""The design stage end to end: both routes for every parent and level, the physics check, Fig. 5's data.

Each function returns tables (pandas DataFrames) and writes nothing; the
Snakemake adapters in workflow/scripts/design_*.py write them. Columns
are listed in docs/design.md.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from constrict.data.entries import EntrySet
from constrict.design.config import DesignConfig
from constrict.design.distance import data_distance
from constrict.design.grid import grid_optimum
from constrict.design.parents import PAPER_GLASS, Parent, composition_fractions, formula_of
from constrict.design.physics import DESIGN_BOUNDS, InterfaceObjective, energy_under_keff, verify
from constrict.design.physics_route import physics_route
from constrict.design.region import Region, level_label, make_region
from constrict.design.shap_route import Surrogate, shap_route
from constrict.physics.uncertainty import cached_phase_sigmas

log = logging.getLogger(__name__)

PAPER_KCRIT_GPA = {"parent": 16.07, "A": 12.07, "B": 6.89, "C": 2.05}
"""The paper's predicted Kcrit of its first parent glass and children A, B, C (GPa; Table S1, Fig. 4c)."""

PAPER_CHILD_A = "Li0.324P0.098S0.346I0.138Cl0.026F0.042O0.040"
"""The paper's child A of its first glass (the only child whose composition the main text gives)."""

KEY = ["parent", "level"]
"""Columns that identify one design run (a parent at one level)."""


def _max_change(level: float | None) -> float:
    return math.nan if level is None else float(level)


def _levels_of(config: DesignConfig, index: int) -> list[float | None]:
    """The design levels, and for the first parent also Fig. 5's levels (each once)."""
    levels = list(config.levels)
    if index == 0:
        levels += [lv for lv in config.fig5_levels if lv not in levels]
    return levels


def region_of(parent: Parent, level: float | None, config: DesignConfig, known: Sequence[str] | None) -> Region:
    """The region of a parent at one level under the config's entering elements."""
    return make_region(parent.fractions, level, entering=config.entering, known=known)


_WORK: dict = {}
"""What the worker processes of :func:`_map` read (set before they fork, so the model and the entry set are shared)."""


def _map(function, items: Sequence, processes: int) -> list:
    """``[function(i) for i in items]``, in ``processes`` forked worker processes when > 1."""
    if processes <= 1 or len(items) <= 1:
        return [function(i) for i in items]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=min(processes, len(items)), mp_context=context) as pool:
        return list(pool.map(function, items))


def shap_children(model: Surrogate, config: DesignConfig, *, processes: int = 1) -> dict[str, pd.DataFrame]:
    """The SHAP-guided route and the grid optimum for every parent and level.

    Parameters
    ----------
    model : Surrogate
        The surrogate of the design voltage.
    config : DesignConfig
    processes : int
        Worker processes (parents are shared out among them).

    Returns
    -------
    dict of str to pandas.DataFrame
        ``children``: one row per parent and level (the route's end point,
        its grid optimum and the greedy shortfall); ``steps``: one row per
        step; ``shap``: one row per step and model element.
    """
    _WORK.update(model=model, config=config)
    parts = _map(_shap_parent, range(len(config.parents)), processes)
    return {"children": pd.DataFrame([row for rows, _, _ in parts for row in rows]),
            "steps": pd.concat([f for _, frames, _ in parts for f in frames], ignore_index=True),
            "shap": pd.concat([f for _, _, frames in parts for f in frames], ignore_index=True)}


def _shap_parent(index: int) -> tuple[list[dict], list[pd.DataFrame], list[pd.DataFrame]]:
    """Both SHAP-route tables of one parent at all its levels."""
    model, config = _WORK["model"], _WORK["config"]
    parent = config.parents[index]
    children, steps, shap = [], [], []
    unknown = sorted(set(parent.fractions) - set(model.features))
    if unknown:
        log.warning("%s skipped by the SHAP route: the surrogate never saw %s", parent.name, ", ".join(unknown))
        return children, steps, shap
    entering = [el for el in config.entering if el in model.features]
    if len(entering) < len(config.entering):
        log.warning("%s: %s may not enter (unknown to the surrogate)", parent.name,
                    ", ".join(el for el in config.entering if el not in entering))
    for level in _levels_of(config, index):
        region = make_region(parent.fractions, level, entering=entering, known=model.features)
        route = shap_route(model, region, config.shap)
        path = np.array([s.fractions for s in route.steps])
        grid = grid_optimum(model, region, step=config.grid_step, max_points=config.grid_max_points,
                            extra=path, reference_gpa=route.end.kcrit_pred_gpa)
        label = {"parent": parent.name, "level": level_label(level), "child": config.child_name(level)}
        children.append({
            **label, "parent_formula": parent.formula, "max_change": _max_change(level), "route": "shap",
            "formula": region.formula(route.end.fractions), "kcrit_pred_gpa": route.end.kcrit_pred_gpa,
            "parent_kcrit_pred_gpa": route.steps[0].kcrit_pred_gpa, "n_steps": len(route.steps) - 1,
            "n_predictions": route.n_predictions, "stop_reason": route.stop_reason,
            "max_abs_change": region.max_abs_change(route.end.fractions),
            "grid_step": grid.step, "grid_points": grid.n_points, "grid_formula": region.formula(grid.fractions),
            "grid_kcrit_pred_gpa": grid.kcrit_pred_gpa,
            "greedy_shortfall_gpa": route.end.kcrit_pred_gpa - grid.kcrit_pred_gpa,
            "grid_n_below": grid.n_below,
        })
        steps.append(route.frame().assign(**label))
        shap.append(route.shap_frame().assign(**label))
        log.info("%s level %s: %d steps, %.2f -> %.2f GPa predicted (%s, %.1f s); grid %.2f GPa at step %.4g "
                 "(%d points, %.1f s)", parent.name, label["level"], len(route.steps) - 1,
                 route.steps[0].kcrit_pred_gpa, route.end.kcrit_pred_gpa, route.stop_reason, route.seconds,
                 grid.kcrit_pred_gpa, grid.step, grid.n_points, grid.seconds)
    return children, steps, shap


def physics_children(
    entry_set: EntrySet, config: DesignConfig, shap: pd.DataFrame, *, processes: int = 1
) -> dict[str, pd.DataFrame]:
    """The physics-in-the-loop route for the configured parents at the design levels.

    Parameters
    ----------
    entry_set : EntrySet
    config : DesignConfig
    shap : pandas.DataFrame
        :func:`shap_children`'s ``children``; each SHAP child is a start of
        the physics route at its level.
    processes : int
        Worker processes (parents are shared out among them).

    Returns
    -------
    dict of str to pandas.DataFrame
        ``children``: one row per parent and level (best composition, its
        computed Kcrit, evaluations, failures, the starts; wall time only in the log);
        ``trace``: best Kcrit so far after each evaluation.
    """
    _WORK.update(entry_set=entry_set, config=config, seeds=shap.set_index(KEY)["formula"].to_dict())
    names = [i for i, p in enumerate(config.parents) if p.name in config.physics_parent_names]
    parts = _map(_physics_parent, names, processes)
    children = [row for rows, _ in parts for row in rows]
    traces = [frame for _, frames in parts for frame in frames]
    trace = pd.concat(traces, ignore_index=True) if traces else pd.DataFrame(
        columns=["evaluation", "best_design_kcrit_gpa", "parent", "level", "child"])
    return {"children": pd.DataFrame(children), "trace": trace}


def _physics_parent(index: int) -> tuple[list[dict], list[pd.DataFrame]]:
    """The physics route of one parent at every design level."""
    entry_set, config, seeds = _WORK["entry_set"], _WORK["config"], _WORK["seeds"]
    parent = config.parents[index]
    children, traces, objective = [], [], None
    for level in config.levels:
        region = region_of(parent, level, config, None)
        if objective is None:  # one memo per parent: a child A point is also in B's and C's regions
            objective = InterfaceObjective(entry_set, config.target, config.voltage_v, region.elements)
        seed = seeds.get((parent.name, level_label(level)))
        given = [fractions_in(region, seed)] if seed else []
        result = physics_route(objective, region, config.physics, given=given)
        children.append({
            "parent": parent.name, "level": level_label(level), "child": config.child_name(level),
            "parent_formula": parent.formula, "max_change": _max_change(level), "route": "physics",
            "formula": region.formula(result.fractions), "design_kcrit_gpa": result.kcrit_gpa,
            "start": result.start.replace("given-0", "shap"), "n_evaluations": result.n_evaluations,
            "n_failed": result.n_failed,
            "max_abs_change": region.max_abs_change(result.fractions),
            "starts": json.dumps([{k: _finite(v) for k, v in s.items()} for s in result.starts]),
        })
        traces.append(pd.DataFrame(result.trace, columns=["evaluation", "best_design_kcrit_gpa"]).assign(
            parent=parent.name, level=level_label(level), child=config.child_name(level)))
        log.info("%s level %s (physics): %.2f GPa after %d evaluations (%d failed), %.1f s, from %s",
                 parent.name, level_label(level), result.kcrit_gpa, result.n_evaluations, result.n_failed,
                 result.seconds, result.start)
    return children, traces


def _finite(value):
    return value if not isinstance(value, float) or math.isfinite(value) else str(value)


def fractions_in(region: Region, formula: str) -> np.ndarray:
    """Atom fractions of ``formula`` over the region's elements (shape (n_elements,)).

    Raises
    ------
    ConstrictError
        The formula has an element outside the region.
    """
    from constrict.core.errors import ConstrictError

    fractions = composition_fractions(formula)
    outside = sorted(set(fractions) - set(region.elements))
    if outside:
        raise ConstrictError(f"{formula} has element(s) {', '.join(outside)} outside the region")
    return np.array([fractions.get(el, 0.0) for el in region.elements])


def _candidates(config: DesignConfig, shap: pd.DataFrame, physics: pd.DataFrame | None) -> pd.DataFrame:
    """Rows of the design table before the physics: parents, the paper's child A, SHAP and physics children."""
    rows = [{"parent": p.name, "parent_formula": p.formula, "child": "parent", "level": "", "max_change": 0.0,
             "route": "parent", "formula": p.formula, "source": p.source} for p in config.parents]
    first = config.parents[0]
    if composition_fractions(first.formula) == composition_fractions(PAPER_GLASS):
        rows.append({"parent": first.name, "parent_formula": first.formula, "child": "A", "level": "0.05",
                     "max_change": 0.05, "route": "paper", "formula": formula_of(composition_fractions(PAPER_CHILD_A)),
                     "source": "Fitzhugh et al., child A of the first glass (main text)"})
    design = shap[shap["child"].isin(["A", "B", "C"])]
    frames = [pd.DataFrame(rows), design.assign(source="")]
    if physics is not None and len(physics):
        frames.append(physics.assign(source=""))
    return pd.concat(frames, ignore_index=True)


def design_table(
    entry_set: EntrySet,
    model: Surrogate,
    config: DesignConfig,
    shap: pd.DataFrame,
    physics: pd.DataFrame | None = None,
    training: np.ndarray | None = None,
) -> dict[str, pd.DataFrame]:
    """Every parent and child, predicted and computed side by side (the paper's Table S1 and beyond).

    Parameters
    ----------
    entry_set : EntrySet
    model : Surrogate
        The surrogate of the design voltage.
    config : DesignConfig
    shap, physics : pandas.DataFrame
        ``children`` of :func:`shap_children` and :func:`physics_children`.
    training : ndarray of shape (n_rows, n_features), optional
        Training compositions (:func:`~constrict.design.distance.training_compositions`).

    Returns
    -------
    dict of str to pandas.DataFrame
        ``table``: one row per parent / child and route at the design
        voltage; ``verification``: (a) and (b) of every distinct
        composition at every verification voltage.
    """
    started = time.perf_counter()
    sigmas = cached_phase_sigmas(entry_set, config.uncertainty)
    table = _candidates(config, shap, physics)
    formulas = list(dict.fromkeys(table["formula"]))
    checks = []
    for formula in formulas:
        try:
            checks.extend(verify(entry_set, formula, config.target, config.voltages_v, sigmas=sigmas))
        except Exception as err:
            log.warning("verification of %s failed: %s", formula, err)
            checks.append({"formula": formula, "voltage_v": config.voltage_v, "error": str(err)})
    verification = pd.DataFrame(checks)
    at_design = verification[np.isclose(verification["voltage_v"], config.voltage_v)].drop_duplicates("formula")
    predicted = _predicted(model, formulas, training, config.far_distance)
    keep = ["formula", "self_kcrit_gpa", "self_dg_ev_per_atom", "self_products", "interface_reacts",
            "interface_x_m", "interface_sei_products", "interface_kcrit_gpa", "interface_kcrit_sc_gpa",
            "design_kcrit_gpa", *(f"{side}_{c}" for side in ("self", "interface", "design") for c in DESIGN_BOUNDS)]
    table = table.drop(columns=[c for c in ("kcrit_pred_gpa", "design_kcrit_gpa") if c in table.columns])
    table = table.merge(predicted, on="formula", how="left").merge(
        at_design.reindex(columns=keep), on="formula", how="left")
    parents = table[table["route"] == "parent"].set_index("parent")
    for column in ("kcrit_pred_gpa", "self_kcrit_gpa", "design_kcrit_gpa"):
        table[f"{column}_change"] = table[column] - table["parent"].map(parents[column])
    table["prediction_falls"] = table["kcrit_pred_gpa_change"] < 0
    table["computed_falls"] = table["design_kcrit_gpa_change"] < 0
    holds = (table["prediction_falls"] & table["computed_falls"]).astype("boolean")
    table["promise_holds"] = holds.where(table["route"].isin(["shap", "paper"]))
    first = (table["parent"] == config.parents[0].name) & table["route"].isin(["parent", "shap"])
    table["paper_kcrit_pred_gpa"] = table["child"].map(PAPER_KCRIT_GPA).where(first)
    table["electrolyte"] = config.target.electrolyte
    table["voltage_v"] = config.voltage_v
    table["convention"] = config.target.convention
    log.info("design table: %d rows, %d compositions verified at %d voltages in %.1f s", len(table), len(formulas),
             len(config.voltages_v), time.perf_counter() - started)
    return {"table": table[_table_columns(table)], "verification": verification}


def _predicted(model: Surrogate, formulas: list[str], training: np.ndarray | None, far_distance: float) -> pd.DataFrame:
    """Prediction, tree spread and distance to the data of each formula (NaN where the surrogate lacks an element)."""
    known = [f for f in formulas if set(composition_fractions(f)) <= set(model.features)]
    out = pd.DataFrame({"formula": known, "kcrit_pred_gpa": model.predict(known) if known else np.empty(0)})
    spread = data_distance(model, known, training) if known else pd.DataFrame(
        columns=["tree_std_gpa", "nearest_distance"], dtype=float)
    out = pd.concat([out, spread], axis=1)
    out["far_from_data"] = out["nearest_distance"] > far_distance
    return out


TABLE_FIRST = (
    "parent", "child", "route", "level", "max_change", "formula", "kcrit_pred_gpa", "paper_kcrit_pred_gpa",
    "self_kcrit_gpa", "interface_reacts", "interface_x_m", "interface_kcrit_gpa", "design_kcrit_gpa",
    "design_kcrit_lo_gpa", "design_kcrit_hi_gpa", "design_kcrit_determined", "prediction_falls", "computed_falls",
    "promise_holds", "tree_std_gpa", "nearest_distance", "far_from_data",
    "n_steps", "stop_reason", "n_evaluations", "n_failed", "greedy_shortfall_gpa", "grid_kcrit_pred_gpa",
    "grid_step", "grid_points",
)
"""Leading columns of the design table (the rest follow in their order)."""


def _table_columns(table: pd.DataFrame) -> list[str]:
    first = [c for c in TABLE_FIRST if c in table.columns]
    return first + [c for c in table.columns if c not in first]


FIG5_FORMS = ("own", "hull")
"""The Fig. 5 electrolyte at its own energy (as in the screen) and at its hull energy (``hull:<formula>``)."""


def fig5_table(
    entry_set: EntrySet,
    config: DesignConfig,
    shap: pd.DataFrame,
    models: Mapping[float, Surrogate] | None = None,
) -> pd.DataFrame:
    """Fig. 5 and Fig. S4: the first parent's SHAP children at Fig. 5's levels against the Fig. 5 electrolyte.

    The electrolyte enters twice (column ``electrolyte_energy``): at its own
    energy, as in the screen and the design table, and at its hull energy
    (the mutual reaction of Zhu, He and Mo). A metastable electrolyte such
    as Li10GeP2S12 (0.019 eV/atom above the hull on the offline data) at its
    own energy reacts alone (x_m = 0) with these glasses, so its interface
    is the same at every level; at its hull energy the coating takes part.

    Parameters
    ----------
    entry_set : EntrySet
    config : DesignConfig
    shap : pandas.DataFrame
        :func:`shap_children`'s ``children`` (the first parent has a row
        per Fig. 5 level).
    models : mapping of float to Surrogate, optional
        Surrogates by voltage (V) for the predicted Kcrit beside the computed one.

    Returns
    -------
    pandas.DataFrame
        One row per electrolyte energy, level and voltage (the design
        voltage, the extra voltages and the self-decomposition voltage):
        the level, the composition, the interface's x_m, dG, strain, V_R
        and Kcrit, the energy under each Keff
        (``energy_keff_<K>_ev_per_atom``), the coating's own dG and Kcrit,
        the predicted Kcrit where a model exists.
    """
    from dataclasses import replace

    from constrict.physics.evaluate import HULL_PREFIX

    first = config.parents[0]
    rows = shap[(shap["parent"] == first.name)].set_index("level")
    voltages = sorted({*config.voltages_v, config.self_voltage_v})
    plain = config.fig5_electrolyte.removeprefix(HULL_PREFIX)
    out = []
    for form, electrolyte in zip(FIG5_FORMS, (plain, HULL_PREFIX + plain), strict=True):
        target = replace(config.target, electrolyte=electrolyte)
        for level in config.fig5_levels:
            formula = rows.loc[level_label(level), "formula"] if level > 0 else first.formula
            for row in verify(entry_set, formula, target, voltages,
                              sigmas=cached_phase_sigmas(entry_set, config.uncertainty)):
                out.append({**_fig5_row(row, form, level, first.name, config, models), "electrolyte": electrolyte})
    return pd.DataFrame(out)


def _fig5_row(row: dict, form: str, level: float, parent: str, config: DesignConfig,
              models: Mapping[float, Surrogate] | None) -> dict:
    """One Fig. 5 row from a :func:`~constrict.design.physics.verify` row."""
    eps = row[f"interface_eps_{config.target.convention}"]
    record = {"parent": parent, "electrolyte_energy": form, "level": level_label(level), "max_change": level}
    record.update({k: row[k] for k in ("formula", "electrolyte", "voltage_v", "convention")})
    record.update({f"interface_{k}": row[f"interface_{k}"] for k in FIG5_INTERFACE})
    record.update(interface_eps=eps, self_dg_ev_per_atom=row["self_dg_ev_per_atom"],
                  self_kcrit_gpa=row["self_kcrit_gpa"], **{f"self_{c}": row[f"self_{c}"] for c in DESIGN_BOUNDS})
    for keff in config.keff_gpa:
        record[f"energy_keff_{keff:g}_ev_per_atom"] = energy_under_keff(
            row["interface_dg_ev_per_atom"], eps, row["interface_v_r_a3_per_atom"], keff)
    model = (models or {}).get(row["voltage_v"])
    record["kcrit_pred_gpa"] = float(model.predict([row["formula"]])[0]) if model is not None else math.nan
    return record


FIG5_INTERFACE = ("reacts", "x_m", "dg_ev_per_atom", "v_r_a3_per_atom", "kcrit_gpa", "kcrit_lo_gpa", "kcrit_hi_gpa",
                  "kcrit_determined")
"""Interface columns of a Fig. 5 row (``interface_<name>``; the strain of the convention is ``interface_eps``)."""

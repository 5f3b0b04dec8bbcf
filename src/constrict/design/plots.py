"""Figures of the design stage: SHAP steps (Fig. 4c), routes, predicted vs computed, Fig. 5a/b and Fig. S4.

matplotlib runs with the Agg backend (files only). Every function writes
one PNG and returns its path. Kcrit values off the axes (infinite ones
included) sit on the panel's edge and are counted in its title or legend.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

DPI = 150
POSITIVE, NEGATIVE = "#d62728", "#1f77b4"
"""Bar colours of SHAP values that raise (red) and lower (blue) Kcrit, as in the paper's Fig. 4c."""

ROUTE_STYLE = {
    "parent": {"marker": "s", "color": "#444444"},
    "shap": {"marker": "o", "color": "#1f77b4"},
    "physics": {"marker": "^", "color": "#2ca02c"},
    "paper": {"marker": "*", "color": "#d62728"},
}
DISPLAY_CAP_GPA = 50.0
"""Axis range (GPa) of the predicted-vs-computed figure; larger and infinite values sit on its edge."""
MAX_STEP_PANELS = 10
"""Most SHAP panels per child in Fig. 4c: the parent, the first steps, the last ones."""


def _save(fig, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return path


def _shown_steps(n_steps: int, most: int = MAX_STEP_PANELS) -> list[int]:
    """Steps drawn when a route has ``n_steps + 1`` compositions: all, or the first and last ones."""
    if n_steps + 1 <= most:
        return list(range(n_steps + 1))
    head = list(range(most // 2))
    return head + list(range(n_steps + 1 - (most - len(head)), n_steps + 1))


def shap_steps_figure(shap: pd.DataFrame, steps: pd.DataFrame, parent: str, path, *, top: int = 8) -> Path:
    """The paper's Fig. 4c: SHAP bars at each step of the first parent's routes to children A, B, C.

    Parameters
    ----------
    shap : pandas.DataFrame
        Long SHAP table (parent, child, step, element, fraction, shap, unit).
    steps : pandas.DataFrame
        Route steps (parent, child, step, element, kcrit_pred_gpa).
    parent : str
        The parent drawn.
    path : str or Path
    top : int
        Elements per panel (largest |SHAP|).
    """
    children = [c for c in ("A", "B", "C") if ((steps["parent"] == parent) & (steps["child"] == c)).any()]
    shown = {c: _shown_steps(int(steps[(steps["parent"] == parent) & (steps["child"] == c)]["step"].max()))
             for c in children}
    n_rows = max((len(s) for s in shown.values()), default=1)
    fig, axes = plt.subplots(n_rows, max(len(children), 1), figsize=(4.2 * max(len(children), 1), 1.9 * n_rows),
                             squeeze=False)
    unit = str(shap["unit"].iloc[0]) if len(shap) else "kcrit_gpa"
    for j, child in enumerate(children):
        route = steps[(steps["parent"] == parent) & (steps["child"] == child)].set_index("step")
        values = shap[(shap["parent"] == parent) & (shap["child"] == child)]
        for i in range(n_rows):
            ax = axes[i, j]
            if i >= len(shown[child]):
                ax.axis("off")
                continue
            step = shown[child][i]
            here = values[values["step"] == step]
            here = here.reindex(here["shap"].abs().sort_values(ascending=False).index).head(top)[::-1]
            labels = [f"{el} = {fr:.3f}" for el, fr in zip(here["element"], here["fraction"], strict=True)]
            ax.barh(labels, here["shap"], color=np.where(here["shap"] > 0, POSITIVE, NEGATIVE))
            ax.axvline(0, color="black", lw=0.6)
            moved = route.loc[step, "element"]
            title = "parent" if step == 0 else f"step {step}: {moved} moved"
            ax.set_title(f"child {child}, {title}; {route.loc[step, 'kcrit_pred_gpa']:.2f} GPa", fontsize=8)
            ax.tick_params(labelsize=7)
            if i == len(shown[child]) - 1:
                ax.set_xlabel(f"SHAP value ({'GPa' if unit == 'kcrit_gpa' else unit})", fontsize=8)
    fig.suptitle(f"SHAP values along the SHAP-guided routes of {parent} (red raises, blue lowers Kcrit)", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.4 / n_rows))
    return _save(fig, path)


def routes_figure(steps: pd.DataFrame, trace: pd.DataFrame, path) -> Path:
    """Predicted Kcrit along each SHAP route (top) and the physics route's best computed Kcrit (bottom).

    Parameters
    ----------
    steps : pandas.DataFrame
        Route steps (parent, child, step, kcrit_pred_gpa).
    trace : pandas.DataFrame
        Physics trace (parent, child, evaluation, best_design_kcrit_gpa).
    path : str or Path
    """
    children = ["A", "B", "C"]
    fig, axes = plt.subplots(2, 3, figsize=(13, 7.5), squeeze=False)
    parents = list(dict.fromkeys(steps["parent"]))
    colours = {p: plt.cm.tab10(i % 10) for i, p in enumerate(parents)}
    for j, child in enumerate(children):
        ax = axes[0, j]
        for parent, rows in steps[steps["child"] == child].groupby("parent", sort=False):
            ax.plot(rows["step"], rows["kcrit_pred_gpa"], marker=".", color=colours[parent], label=parent)
        ax.set_title(f"child {child}: SHAP-guided route (surrogate)", fontsize=9)
        ax.set_xlabel("step")
        ax.set_ylabel("predicted Kcrit (GPa)")
        ax = axes[1, j]
        for parent, rows in trace[trace["child"] == child].groupby("parent", sort=False):
            finite = rows[np.isfinite(rows["best_design_kcrit_gpa"])]
            ax.plot(finite["evaluation"], finite["best_design_kcrit_gpa"], color=colours.get(parent, "k"), label=parent)
        ax.set_title(f"child {child}: physics in the loop (engine)", fontsize=9)
        ax.set_xlabel("engine evaluations")
        ax.set_ylabel("best computed Kcrit (GPa)")
    axes[0, 0].legend(fontsize=6, ncol=2)
    if len(trace):
        axes[1, 0].legend(fontsize=6, ncol=2)
    fig.tight_layout()
    return _save(fig, path)


def predicted_vs_computed_figure(table: pd.DataFrame, path, *, cap_gpa: float = DISPLAY_CAP_GPA) -> Path:
    """Predicted Kcrit against the computed (a) self-decomposition and (b) interface Kcrit, every design row.

    Parameters
    ----------
    table : pandas.DataFrame
        The design table (route, kcrit_pred_gpa, self_kcrit_gpa, design_kcrit_gpa).
    path : str or Path
    cap_gpa : float
        Axis range (GPa); computed values above it, infinite ones included,
        sit on the top edge and are counted in the title.
    """
    fig, axes = plt.subplots(1, 2, figsize=(11, 5))
    for ax, column, title in ((axes[0], "self_kcrit_gpa", "(a) own ground state"),
                              (axes[1], "design_kcrit_gpa", "(b) interface (own where no SEI forms)")):
        computed = table[column].to_numpy(dtype=float)
        above = computed > cap_gpa
        for route, style in ROUTE_STYLE.items():
            rows = (table["route"] == route).to_numpy()
            if not rows.any():
                continue
            y = np.where(above[rows], cap_gpa, computed[rows])
            ax.scatter(table.loc[rows, "kcrit_pred_gpa"], y, label=f"{route} ({int(rows.sum())})", **style, s=36,
                       alpha=0.8, clip_on=False)
        ax.plot([0, cap_gpa], [0, cap_gpa], color="grey", lw=0.8, ls="--")
        n_inf, n_above = int(np.isinf(computed).sum()), int(above.sum())
        note = f"; {n_above} above {cap_gpa:g} GPa ({n_inf} infinite) on the top edge" if n_above else ""
        ax.set_title(title + note, fontsize=9)
        ax.set_xlabel("predicted Kcrit, surrogate (GPa)")
        ax.set_ylabel("computed Kcrit, engine (GPa)")
        ax.set_xlim(0, cap_gpa)
        ax.set_ylim(0, cap_gpa)
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return _save(fig, path)


def _percent(levels) -> np.ndarray:
    return 100.0 * np.asarray(levels, dtype=float)


FORM_TITLE = {"own": "at its own energy", "hull": "at its hull energy"}
"""How each ``electrolyte_energy`` of the Fig. 5 table is named in titles."""


def _energy_panel(ax, rows: pd.DataFrame, keff_gpa, voltage_v: float) -> None:
    """Interface decomposition energy under each Keff against the modification level."""
    for keff in keff_gpa:
        ax.plot(_percent(rows["max_change"]), rows[f"energy_keff_{keff:g}_ev_per_atom"], marker="o",
                label=f"Keff = {keff:g} GPa")
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xlabel("modification level (% max change per element)")
    ax.set_ylabel("interface decomposition energy (eV/atom)")
    electrolyte = rows["electrolyte"].iloc[0].removeprefix("hull:")
    form = FORM_TITLE[rows["electrolyte_energy"].iloc[0]]
    ax.set_title(f"interface to {electrolyte} {form}, {voltage_v:g} V", fontsize=9)
    ax.legend(fontsize=7)


def _kcrit_panel(ax, rows: pd.DataFrame, self_rows: pd.DataFrame, voltage_v: float, self_voltage_v: float) -> None:
    """Interface Kcrit (computed, and predicted if known) and the coating's own dG at Keff = 0 against the level."""
    finite = rows[np.isfinite(rows["interface_kcrit_gpa"])]
    ax.plot(_percent(finite["max_change"]), finite["interface_kcrit_gpa"], marker="o", color=NEGATIVE,
            label=f"interface Kcrit, computed ({voltage_v:g} V)")
    n_inf = int(np.isinf(rows["interface_kcrit_gpa"]).sum())
    if n_inf:
        ax.plot([], [], " ", label=f"{n_inf} level(s) with infinite Kcrit not drawn")
    if rows["kcrit_pred_gpa"].notna().any():
        ax.plot(_percent(rows["max_change"]), rows["kcrit_pred_gpa"], marker="o", ls="--", color=NEGATIVE, alpha=0.5,
                label="Kcrit predicted by the surrogate (coating composition)")
    ax.set_xlabel("modification level (% max change per element)")
    ax.set_ylabel("Kcrit (GPa)", color=NEGATIVE)
    twin = ax.twinx()
    twin.plot(_percent(self_rows["max_change"]), self_rows["self_dg_ev_per_atom"], marker="s", color="#ff7f0e",
              label=f"coating's self-decomposition dG, Keff = 0 ({self_voltage_v:g} V)")
    twin.set_ylabel("self-decomposition energy (eV/atom)", color="#ff7f0e")
    lines = ax.get_legend_handles_labels()
    more = twin.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize=7, loc="best")
    electrolyte = rows["electrolyte"].iloc[0].removeprefix("hull:")
    ax.set_title(f"interface Kcrit to {electrolyte} {FORM_TITLE[rows['electrolyte_energy'].iloc[0]]}", fontsize=9)


def _at(fig5: pd.DataFrame, voltage_v: float, form: str) -> pd.DataFrame:
    rows = fig5[np.isclose(fig5["voltage_v"], voltage_v) & (fig5["electrolyte_energy"] == form)]
    return rows.sort_values("max_change")


def _forms(fig5: pd.DataFrame) -> list[str]:
    return [f for f in FORM_TITLE if (fig5["electrolyte_energy"] == f).any()]


def fig5a_figure(fig5: pd.DataFrame, voltage_v: float, keff_gpa, path) -> Path:
    """The paper's Fig. 5a: interface decomposition energy at ``voltage_v`` under each Keff against the level.

    One panel per electrolyte energy (own, hull).

    Parameters
    ----------
    fig5 : pandas.DataFrame
        :func:`~constrict.design.campaign.fig5_table`.
    voltage_v : float
    keff_gpa : sequence of float
    path : str or Path
    """
    forms = _forms(fig5)
    fig, axes = plt.subplots(1, len(forms), figsize=(6 * len(forms), 4.5), squeeze=False)
    for ax, form in zip(axes[0], forms, strict=True):
        _energy_panel(ax, _at(fig5, voltage_v, form), keff_gpa, voltage_v)
    fig.tight_layout()
    return _save(fig, path)


def fig5b_figure(fig5: pd.DataFrame, voltage_v: float, self_voltage_v: float, path) -> Path:
    """The paper's Fig. 5b: interface Kcrit at ``voltage_v`` and self-decomposition energy at ``self_voltage_v``."""
    forms = _forms(fig5)
    fig, axes = plt.subplots(1, len(forms), figsize=(6.8 * len(forms), 4.5), squeeze=False)
    for ax, form in zip(axes[0], forms, strict=True):
        _kcrit_panel(ax, _at(fig5, voltage_v, form), _at(fig5, self_voltage_v, form), voltage_v, self_voltage_v)
    fig.tight_layout()
    return _save(fig, path)


def figs4_figure(fig5: pd.DataFrame, voltages_v, keff_gpa, path) -> Path:
    """The paper's Fig. S4: Fig. 5a and 5b at other voltages, one row each (self-decomposition at the same voltage)."""
    voltages_v, forms = list(voltages_v), _forms(fig5)
    fig, axes = plt.subplots(len(voltages_v), 2 * len(forms), figsize=(6.3 * 2 * len(forms), 4.5 * len(voltages_v)),
                             squeeze=False)
    for i, v in enumerate(voltages_v):
        for j, form in enumerate(forms):
            rows = _at(fig5, v, form)
            _energy_panel(axes[i, j], rows, keff_gpa, v)
            _kcrit_panel(axes[i, len(forms) + j], rows, rows, v, v)
    fig.tight_layout()
    return _save(fig, path)

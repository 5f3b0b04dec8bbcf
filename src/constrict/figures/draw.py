"""Drawing the three figures from their data dicts (:mod:`constrict.figures.data`).

Figures are made with :class:`matplotlib.figure.Figure` directly, never
through pyplot: no backend is switched and no global state is kept, so
they work the same in a script, a Snakemake job and a notebook.

Kcrit spans 0 to thousands of GPa and may be infinite. Its axes are linear
(where the Keff lines are read) up to :func:`kcrit_top`; larger values and
infinity are drawn as open triangles on the top edge. The sidecar keeps
the true values.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

KEFF_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02")
CURVE = "#1f4e79"
SIDE_COLOURS = {"cathode": "#c44e52", "coating": "#8172b2", "electrolyte": "#4c72b0"}
MAX_KINK_LABELS = 12
"""Kinks listed by their products beside the reaction panel at most (the sidecar lists all)."""


def kcrit_top(kcrit_gpa: np.ndarray, keff_gpa) -> float:
    """Top of a linear Kcrit axis (GPa): twice the largest Keff, or the finite values' 90th percentile if higher.

    At least 10 GPa, at most 5 times the largest Keff, rounded up to 5 GPa.
    """
    keff = max(keff_gpa, default=10.0)
    finite = kcrit_gpa[np.isfinite(kcrit_gpa) & (kcrit_gpa > 0)]
    spread = float(np.percentile(finite, 90)) * 1.1 if finite.size else 0.0
    top = max(10.0, min(max(2.0 * keff, spread), 5.0 * max(keff, 2.0)))
    return float(5.0 * math.ceil(top / 5.0))


def _kcrit_axis(ax, v: np.ndarray, kcrit: np.ndarray, top: float, *, label: str, colour: str, ls="-") -> None:
    """Kcrit against V on a linear axis up to ``top``; where it is above (or inf), a band along the top edge."""
    shown = np.where(kcrit <= top, kcrit, np.nan)
    ax.plot(v, shown, color=colour, lw=1.6, ls=ls, label=label)
    above = ~(kcrit <= top) & ~np.isnan(kcrit)
    if above.any():
        ax.plot(v, np.where(above, top, np.nan), color=colour, lw=5, alpha=0.35, solid_capstyle="butt",
                clip_on=False, label=f"{label.split(' (')[0]} above {top:g} GPa or inf")
    ax.set_ylim(0, top)


def _keff_lines(ax, keffs, *, label: bool = True) -> None:
    for i, k in enumerate(keffs):
        ax.axhline(k, color=KEFF_COLOURS[i % len(KEFF_COLOURS)], lw=1.0, ls="--",
                   label=f"Keff = {k:g} GPa" if label else None)


def _fmt_phases(products: dict, limit: int = 4) -> str:
    items = sorted(products.items(), key=lambda kv: -kv[1])
    text = " + ".join(f"{a:.3g} {name}" for name, a in items[:limit])
    return text + (" + ..." if len(items) > limit else "") if text else "-"


def draw_interface(data: dict) -> Figure:
    """Reaction energy against x (top) and the SEI's dG, strain and Kcrit against voltage (below).

    Parameters
    ----------
    data : dict
        :func:`constrict.figures.data.interface_data`.
    """
    fig = Figure(figsize=(10.0, 10.5), layout="constrained")
    upper, lower = fig.subfigures(2, 1, height_ratios=[1.2, 2.6])
    ax_r, ax_list = upper.subplots(1, 2, width_ratios=[2.2, 1])
    rxn = data["reaction"]
    x, e = np.asarray(rxn["x"], float), np.asarray(rxn["e_rxn_ev_per_atom"], float)
    ax_r.plot(x, e, color=CURVE, lw=1.6, marker="o", ms=4, label="E_rxn(x), kinks marked")
    for i, (xi, ei) in enumerate(zip(x, e, strict=True)):
        ax_r.annotate(str(i + 1), (xi, ei), xytext=(0, -11), textcoords="offset points", ha="center", fontsize=7)
    if rxn["reacts"]:
        ax_r.plot([rxn["x_m"]], [rxn["e_rxn_m_ev_per_atom"]], marker="*", ms=14, color="#c44e52", ls="none",
                  label=f"x_m = {rxn['x_m']:.4f}, E_rxn = {rxn['e_rxn_m_ev_per_atom']:.4f} eV/atom")
        ax_r.axvline(rxn["x_m"], color="#c44e52", lw=0.8, ls=":")
    ax_r.axhline(0.0, color="grey", lw=0.6)
    ax_r.set_xlim(0, 1)
    ax_r.set_xlabel(f"mixing ratio x (atom fraction of {data['coating']}; x = 0 is {data['electrolyte']})")
    ax_r.set_ylabel("E_rxn (eV/atom)")
    ax_r.set_title(f"{data['electrolyte']} | {data['coating']} ({data['chemical_system']}), each reactant at its "
                   f"own energy", fontsize=10)
    ax_r.legend(loc="lower left", fontsize=7)
    kinks = [f"{i + 1:>2} x={xi:.3f} {_fmt_phases(p, 2)}" for i, (xi, p) in enumerate(zip(x, rxn["products"],
                                                                                               strict=True))]
    if len(kinks) > MAX_KINK_LABELS:
        kinks = kinks[:MAX_KINK_LABELS] + [f"... {len(x) - MAX_KINK_LABELS} more in the sidecar"]
    ax_list.axis("off")
    ax_list.set_title("kinks: ground state along the mixing line", fontsize=8, loc="left")
    ax_list.text(0.0, 1.0, "\n".join(kinks), transform=ax_list.transAxes, ha="left", va="top", fontsize=6,
                 family="monospace")

    scan, table = data["scan"], data["table"]
    v = np.asarray(scan["voltage_v"], float)
    ax_g, ax_s, ax_k = lower.subplots(3, 1, sharex=True, height_ratios=[1, 1, 1.3])
    convention = data["convention"]
    if not rxn["reacts"]:
        for ax in (ax_g, ax_s, ax_k):
            ax.text(0.5, 0.5, "no reaction: no SEI forms, nothing to decompose", transform=ax.transAxes,
                    ha="center", va="center")
    else:
        ax_g.plot(v, scan["dg_ev_per_atom"], color=CURVE, lw=1.6, label="dG of the SEI (p = 0 products)")
        ax_g.axhline(0.0, color="grey", lw=0.6)
        for name in (k for k in scan if k.startswith("eps_")):
            own = name == f"eps_{convention}"
            ax_s.plot(v, scan[name], lw=1.8 if own else 0.9, ls="-" if own else ":",
                      label=f"{name[4:]}{' (used for Kcrit)' if own else ''}")
        ax_s.axhline(0.0, color="grey", lw=0.6)
        kcrit = np.asarray(scan["kcrit_gpa"], float)
        top = kcrit_top(kcrit, data["keff_gpa"])
        if "kcrit_lo_gpa" in scan and "kcrit_hi_gpa" in scan:
            ax_k.fill_between(v, np.minimum(scan["kcrit_lo_gpa"], top), np.minimum(scan["kcrit_hi_gpa"], top),
                              color=CURVE, alpha=0.2, lw=0, label="Kcrit interval")
        if "kcrit_sc_gpa" in scan:
            _kcrit_axis(ax_k, v, np.asarray(scan["kcrit_sc_gpa"], float), top, label="Kcrit_sc (self-consistent)",
                        colour="#999999", ls="--")
        _kcrit_axis(ax_k, v, kcrit, top, label=f"Kcrit ({convention})", colour=CURVE)
        _keff_lines(ax_k, data["keff_gpa"])
        for ax, name in ((ax_g, "dg_ev_per_atom"), (ax_s, f"eps_{convention}"), (ax_k, "kcrit_gpa")):
            values = np.asarray(table[name], float)
            if name == "kcrit_gpa":
                values = np.where(values <= top, values, top)
            ax.plot(table["voltage_v"], values, ls="none", marker="o", mfc="white", color="black", ms=5,
                    clip_on=False, label="the table's voltages")
    for ax in (ax_g, ax_s, ax_k):
        for tv in table["voltage_v"]:
            ax.axvline(tv, color="black", lw=0.5, ls=":")
        ax.set_xlim(*data["voltage_range_v"])
    ax_g.set_ylabel("dG (eV/atom of SEI)")
    ax_s.set_ylabel("reaction strain eps")
    ax_k.set_ylabel("Kcrit (GPa)")
    ax_k.set_xlabel(f"voltage vs. {data['working_ion']}/{data['working_ion']}+ (V)")
    for ax in (ax_g, ax_s, ax_k):
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


def draw_window(data: dict) -> Figure:
    """Kcrit(V) of a phase with its unconstrained window shaded and the constrained window at each Keff.

    Parameters
    ----------
    data : dict
        :func:`constrict.figures.data.window_data`.
    """
    fig = Figure(figsize=(8.0, 4.8), layout="constrained")
    ax = fig.add_subplot()
    scan = data["scan"]
    v, kcrit = np.asarray(scan["voltage_v"], float), np.asarray(scan["kcrit_gpa"], float)
    keffs = [c["keff_gpa"] for c in data["constrained"]]
    top = kcrit_top(kcrit, keffs)
    limit = data["scan_limit_v"]
    lo, hi = data["window_v"]
    ion = data["working_ion"]
    hi_text = "inf" if not math.isfinite(hi) else f"{hi:.3f}"
    ax.axvspan(lo, min(hi, limit), color="#bbbbbb", alpha=0.5, lw=0,
               label=f"unconstrained window {lo:.3f} - {hi_text} V")
    if "kcrit_lo_gpa" in scan and "kcrit_hi_gpa" in scan:
        ax.fill_between(v, np.minimum(scan["kcrit_lo_gpa"], top), np.minimum(scan["kcrit_hi_gpa"], top),
                        color=CURVE, alpha=0.2, lw=0, label="Kcrit interval")
    _kcrit_axis(ax, v, kcrit, top, label=f"Kcrit(V) ({data['convention']})", colour=CURVE)
    for i, c in enumerate(data["constrained"]):
        colour = KEFF_COLOURS[i % len(KEFF_COLOURS)]
        c_lo, c_hi = c["window_v"]
        edge = f"above {c_hi:g} V (scan limit)" if c["high_at_scan_limit"] else f"{c_hi:.3f} V"
        ax.axhline(c["keff_gpa"], color=colour, lw=0.8, ls="--")
        ax.plot([c_lo, c_hi], [c["keff_gpa"]] * 2, color=colour, lw=3.5, solid_capstyle="butt",
                marker="|", ms=12, label=f"Keff = {c['keff_gpa']:g} GPa: {c_lo:.3f} V - {edge}")
        if c["high_at_scan_limit"]:
            ax.annotate("", xy=(limit, c["keff_gpa"]), xytext=(limit - 0.25, c["keff_gpa"]),
                        arrowprops={"arrowstyle": "->", "color": colour, "lw": 1.5})
    ax.set_xlim(0, limit)
    ax.set_xlabel(f"voltage vs. {ion}/{ion}+ (V); scan limit {limit:g} V")
    ax.set_ylabel("Kcrit of the phase (GPa)")
    ax.set_title(f"{data['phase']}: electrochemical window, unconstrained and under constriction", fontsize=10)
    ax.legend(fontsize=7, loc="upper center")
    return fig


def draw_stack(data: dict) -> Figure:
    """The three Kcrit of a cathode | coating | electrolyte stack against Keff.

    Each side's decomposition energy under Keff, ``min(0, dG + Keff eps
    V_R)``, reaches 0 at its Kcrit; the stack is constriction-stable from
    the largest of the three.

    Parameters
    ----------
    data : dict
        :func:`constrict.figures.data.stack_data`.
    """
    fig = Figure(figsize=(8.0, 4.8), layout="constrained")
    ax = fig.add_subplot()
    k = np.asarray(data["scan"]["keff_gpa"], float)
    for side, s in data["sides"].items():
        colour = SIDE_COLOURS[side]
        kcrit = s["kcrit_gpa"]
        text = "inf" if not math.isfinite(kcrit) else f"{kcrit:.2f} GPa"
        ax.plot(k, data["scan"][f"dg_{side}_ev_per_atom"], color=colour, lw=1.6, label=f"{s['label']}: Kcrit {text}")
        if math.isfinite(kcrit) and kcrit <= k[-1]:
            ax.axvline(kcrit, color=colour, lw=0.9, ls=":")
            ax.plot([kcrit], [0.0], marker="o", color=colour, ms=6, clip_on=False)
            ax.annotate(f"{kcrit:.2f}", (kcrit, 0.0), xytext=(3, 6), textcoords="offset points", fontsize=7,
                        color=colour)
    need = data["keff_required_gpa"]
    if math.isfinite(need) and need <= k[-1]:
        ax.axvspan(need, k[-1], color="#2ca02c", alpha=0.12, lw=0,
                   label=f"constriction-stable: Keff >= {need:.2f} GPa (set by {data['limiting']})")
    ax.axvline(data["keff_gpa"], color="black", lw=1.2, ls="--", label=f"Keff = {data['keff_gpa']:g} GPa (verdict)")
    ax.axhline(0.0, color="grey", lw=0.6)
    ax.set_xlim(0, k[-1])
    ax.set_xlabel("effective modulus Keff (GPa)")
    ax.set_ylabel("dG under Keff (eV per atom of reactant)")
    ax.set_title(f"Cathode stack at {data['voltage_v']:g} V ({data['convention']}): required Keff "
                 f"{'inf' if not math.isfinite(need) else f'{need:.2f} GPa'}", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    return fig

"""All plotting: Kcrit histograms (Fig. 3a, S1), element correlations (Fig. 3b), Kcrit against strain.

matplotlib runs with the Agg backend (files only, no display). Every
function writes one PNG and returns its path.
"""

from __future__ import annotations

import functools
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import Normalize
from matplotlib.patches import Rectangle
from pymatgen.core import Element

from constrict.campaign.statistics import finite_kcrit_gpa, kcrit_counts

DPI = 150
N_BINS = 40
OVERFLOW_PERCENTILE = 99.0
"""Histogram x axes end at this percentile of the finite values; the values
beyond it are counted in the panel's legend, not drawn."""

ABSENT_COLOUR = "#d9d9d9"
LANTHANOID_ROW = 9
ACTINOID_ROW = 10
"""Display rows of the f-block strips (row 8 stays empty as a gap)."""


def table_position(element: str | Element) -> tuple[int, int]:
    """Row and column of an element in the usual 18-column periodic table.

    Main-table elements sit at (period, group) as pymatgen gives them. The
    lanthanoids La-Lu and actinoids Ac-Lr go to two strips below the table
    (display rows 9 and 10), columns 3 to 17.

    Parameters
    ----------
    element : str or pymatgen Element

    Returns
    -------
    tuple of int
        (display row, column), both 1-based.
    """
    el = Element(element) if isinstance(element, str) else element
    if el.is_lanthanoid:
        return LANTHANOID_ROW, 3 + el.Z - 57
    if el.is_actinoid:
        return ACTINOID_ROW, 3 + el.Z - 89
    return el.row, el.group


@functools.cache
def _all_elements() -> tuple[Element, ...]:
    """H to Og, by atomic number."""
    return tuple(Element.from_Z(z) for z in range(1, 119))


def periodic_table_heatmap(
    values: pd.Series,
    path: str | Path,
    *,
    title: str = "",
    n_present: pd.Series | None = None,
    label: str = "Pearson r",
    cmap: str = "RdBu",
    symmetric: bool = True,
) -> Path:
    """Draw one value per element on a periodic table.

    Parameters
    ----------
    values : pandas.Series
        Element symbol -> value; NaN or missing elements are drawn grey.
    path : str or Path
        PNG to write.
    title : str
        Figure title.
    n_present : pandas.Series, optional
        Element symbol -> number of rows behind the value, printed small in
        each coloured box.
    label : str
        Colour-bar label.
    cmap : str
        Matplotlib colormap. The default RdBu draws negative values red and
        positive ones blue, as the paper's Fig. 3b does (red lowers Kcrit).
    symmetric : bool
        Centre the colour scale on 0 (vmin = -vmax).

    Returns
    -------
    Path
        The PNG written.
    """
    path = Path(path)
    finite = values[np.isfinite(values.to_numpy(dtype=float))]
    vmax = float(np.abs(finite).max()) if len(finite) else 1.0
    vmax = vmax if vmax > 0 else 1.0
    norm = Normalize(-vmax, vmax) if symmetric else Normalize(float(finite.min()), float(finite.max()))
    colormap = plt.get_cmap(cmap)

    fig, ax = plt.subplots(figsize=(13, 7.2))
    for el in _all_elements():
        row, col = table_position(el)
        value = values.get(el.symbol, np.nan)
        has_value = value is not None and np.isfinite(value)
        face = colormap(norm(value)) if has_value else ABSENT_COLOUR
        ax.add_patch(Rectangle((col - 0.48, row - 0.48), 0.96, 0.96, facecolor=face, edgecolor="white", lw=1))
        # dark text on light boxes, white text on saturated ones
        dark = not has_value or abs(norm(value) - 0.5) < 0.3
        colour = "black" if dark else "white"
        ax.text(col, row - 0.12, el.symbol, ha="center", va="center", fontsize=10, weight="bold", color=colour)
        if has_value:
            ax.text(col, row + 0.22, f"{value:+.2f}", ha="center", va="center", fontsize=6.5, color=colour)
            if n_present is not None and el.symbol in n_present.index:
                ax.text(col + 0.42, row - 0.4, f"{int(n_present[el.symbol])}", ha="right", va="top",
                        fontsize=4.5, color=colour)
    # placeholders for the f-block in the main table
    for row, text in ((6, "57-71"), (7, "89-103")):
        ax.add_patch(Rectangle((3 - 0.48, row - 0.48), 0.96, 0.96, facecolor="white", edgecolor=ABSENT_COLOUR, lw=1))
        ax.text(3, row, text, ha="center", va="center", fontsize=6, color="#555555")

    ax.set_xlim(0.4, 18.6)
    ax.set_ylim(ACTINOID_ROW + 0.6, 0.4)
    ax.set_aspect("equal")
    ax.axis("off")
    mappable = plt.cm.ScalarMappable(norm=norm, cmap=colormap)
    cbar = fig.colorbar(mappable, ax=ax, orientation="horizontal", fraction=0.04, pad=0.02, aspect=40, shrink=0.6)
    cbar.set_label(label)
    note = "grey: not in the data or too few rows"
    if n_present is not None:
        note += "; small number: rows with the element"
    ax.text(0.6, LANTHANOID_ROW - 1, note, fontsize=7, color="#555555", va="center")
    ax.set_title(title, fontsize=11)
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return path


def _panel_text(counts: dict, n_overflow: int, x_max_gpa: float) -> str:
    """The counts shown in one histogram panel."""
    lines = [
        f"rows: {counts['n_rows']}",
        f"finite: {counts['n_finite']} (of which 0: {counts['n_stable']})",
        f"inf: {counts['n_inf']}",
        f"not reacting: {counts['n_not_reacting']}",
        f"errors: {counts['n_error']}",
    ]
    if counts["n_nan"]:
        lines.append(f"NaN: {counts['n_nan']}")
    if counts["n_finite"]:
        lines.append(f"mean {counts['mean_gpa']:.1f}, median {counts['median_gpa']:.1f}")
        if np.isfinite(counts["std_gpa"]):
            lines[-1] += f", std {counts['std_gpa']:.1f} GPa"
    if n_overflow:
        lines.append(f"> {x_max_gpa:.0f} GPa (not drawn): {n_overflow}")
    return "\n".join(lines)


def kcrit_histograms(
    rows: pd.DataFrame,
    path: str | Path,
    *,
    title: str = "",
    quantity: str = "kcrit_gpa",
) -> Path:
    """Histogram of the finite Kcrit values, one panel per voltage.

    Parameters
    ----------
    rows : pandas.DataFrame
        Screen rows of one electrolyte and one convention, any voltages.
    path : str or Path
        PNG to write.
    title : str
        Figure title (electrolyte label and convention).
    quantity : str
        ``"kcrit_gpa"`` (the paper's) or ``"kcrit_sc_gpa"``.

    Returns
    -------
    Path
        The PNG written.

    Notes
    -----
    Zeros (stable interfaces) are drawn in the first bin and counted in the
    panel text, as are inf, not-reacting and error rows. All panels share
    bins from 0 to the 99th percentile of the finite values; the values
    beyond are counted, not drawn.
    """
    path = Path(path)
    voltages_v = sorted(rows["voltage_v"].dropna().unique())
    all_finite = finite_kcrit_gpa(rows, quantity)
    x_max_gpa = float(np.percentile(all_finite, OVERFLOW_PERCENTILE)) if all_finite.size else 1.0
    x_max_gpa = x_max_gpa if x_max_gpa > 0 else 1.0
    bins = np.linspace(0.0, x_max_gpa, N_BINS + 1)

    n_panels = max(len(voltages_v), 1)
    n_cols = min(n_panels, 3)
    n_rows = -(-n_panels // n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(4.6 * n_cols, 3.6 * n_rows), squeeze=False)
    for ax in axes.flat[n_panels:]:
        ax.axis("off")
    for ax, voltage_v in zip(axes.flat, voltages_v, strict=False):
        at_v = rows[np.isclose(rows["voltage_v"].to_numpy(dtype=float), voltage_v)]
        counts = kcrit_counts(at_v, quantity)
        values = finite_kcrit_gpa(at_v, quantity)
        drawn = values[values <= x_max_gpa]
        heights, _, _ = ax.hist(drawn, bins=bins, color="#4c72b0", edgecolor="white", lw=0.4)
        # head room above the bars for the counts and the legend
        ax.set_ylim(0, max(heights.max(initial=0), 1) * 1.7)
        if counts["n_finite"]:
            ax.axvline(counts["mean_gpa"], color="#c44e52", lw=1, label="mean")
            ax.axvline(counts["median_gpa"], color="#55a868", lw=1, ls="--", label="median")
            ax.legend(loc="upper left", fontsize=7, frameon=False)
        ax.text(
            0.97, 0.97, _panel_text(counts, int((values > x_max_gpa).sum()), x_max_gpa),
            transform=ax.transAxes, ha="right", va="top", fontsize=7,
        )
        ax.set_title(f"{voltage_v:g} V", fontsize=10)
        ax.set_xlim(0, x_max_gpa)
        ax.set_ylabel("interfaces")
        ax.set_xlabel("Kcrit (GPa)" if quantity == "kcrit_gpa" else "Kcrit, self-consistent (GPa)")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def kcrit_strain_figure(rows: pd.DataFrame, path: str | Path, *, convention: str, title: str = "") -> Path:
    """Kcrit against the reaction strain with both intervals, log axes; undetermined rows in grey.

    Parameters
    ----------
    rows : pandas.DataFrame
        Screen rows of one electrolyte, convention and voltage (kcrit_gpa,
        kcrit_lo_gpa, kcrit_hi_gpa, kcrit_determined, eps_sigma and the
        strain ``eps_<convention>``).
    path : str or Path
        PNG to write.
    convention : str
        Whose strain is on the x axis.
    title : str
        Figure title.

    Returns
    -------
    Path
        The PNG written.

    Notes
    -----
    Drawn: the ok, reacting rows with 0 < Kcrit < inf (so strain > 0).
    Vertical bars are the Kcrit interval [kcrit_lo_gpa, kcrit_hi_gpa]; an
    upper bound of inf runs to the top of the axes and ends in a caret.
    Horizontal bars are the strain +- one standard deviation (clipped at
    the left edge); a lower bound below the axes (0 included) ends in a
    caret at the bottom. The rows not drawn (Kcrit 0 or inf, not reacting,
    errors) are counted in the legend.
    """
    path = Path(path)
    ok = (rows["status"] == "ok").to_numpy() & rows["reacts"].fillna(False).astype(bool).to_numpy()
    k = rows["kcrit_gpa"].to_numpy(dtype=float)
    drawn = ok & (k > 0) & np.isfinite(k)
    eps = rows[f"eps_{convention}"].to_numpy(dtype=float)
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    sub = rows[drawn]
    values = k[drawn] if drawn.any() else np.array([1.0])
    y_top = 10 ** np.ceil(np.log10(max(float(values.max()), 1.0) * 3))
    y_bottom = 10 ** np.floor(np.log10(float(np.percentile(values, 0.5)))) / 10
    x_left = 10 ** np.floor(np.log10(max(float(np.nanmin(eps[drawn], initial=1e-3)), 1e-6)))
    for determined, colour, label in ((False, "#a0a0a0", "not determined"), (True, "#4c72b0", "determined")):
        part = sub[sub["kcrit_determined"].astype(bool) == determined]
        if part.empty:
            continue
        x = part[f"eps_{convention}"].to_numpy(dtype=float)
        y = part["kcrit_gpa"].to_numpy(dtype=float)
        lo = np.maximum(part["kcrit_lo_gpa"].to_numpy(dtype=float), y_bottom)
        hi = np.minimum(part["kcrit_hi_gpa"].to_numpy(dtype=float), y_top)
        sx = part["eps_sigma"].to_numpy(dtype=float)
        xerr = [np.minimum(sx, x - x_left), sx]
        ax.errorbar(x, y, xerr=xerr, yerr=[np.maximum(y - lo, 0), hi - y], fmt="o", ms=2.5, color=colour,
                    ecolor=colour, elinewidth=0.4 if determined else 0.3, alpha=0.7 if determined else 0.35,
                    label=f"{label} ({len(part)})", zorder=3 if determined else 2)
        open_top = np.isposinf(part["kcrit_hi_gpa"].to_numpy(dtype=float))
        ax.scatter(x[open_top], np.full(open_top.sum(), y_top), marker="^", s=10, color=colour, zorder=2)
        below = part["kcrit_lo_gpa"].to_numpy(dtype=float) < y_bottom
        ax.scatter(x[below], np.full(below.sum(), y_bottom), marker="v", s=10, color=colour, zorder=2)
    n_zero = int((ok & (k == 0)).sum())
    n_inf = int((ok & np.isposinf(k)).sum())
    n_rest = int((~ok).sum())
    ax.plot([], [], " ", label=f"not drawn: Kcrit 0 ({n_zero}), inf ({n_inf}), no reaction or error ({n_rest})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(left=x_left)
    ax.set_ylim(y_bottom / 1.5, y_top * 1.5)
    ax.set_xlabel(f"reaction strain ({convention})")
    ax.set_ylabel("Kcrit (GPa)")
    ax.legend(loc="lower left", fontsize=7, frameon=False)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def electrolyte_windows_figure(windows: pd.DataFrame, path, *, v_max: float = 6.0) -> Path:
    """Horizontal bars: each electrolyte's window, unconstrained and at each Keff.

    Parameters
    ----------
    windows : pandas.DataFrame
        :func:`constrict.physics.windows.electrolyte_windows` rows.
    path : str or Path
        PNG to write.
    v_max : float
        Right edge of the axis (V); an open upper edge is drawn to it.
    """
    labels = list(dict.fromkeys(windows["electrolyte_label"]))
    keffs = sorted({k for k in windows["keff_gpa"] if np.isfinite(k)}, reverse=True)
    levels = [np.nan, *keffs]
    colours = plt.cm.viridis(np.linspace(0.15, 0.85, max(len(keffs), 1)))
    height = 0.8 / len(levels)
    fig, ax = plt.subplots(figsize=(8.0, 1.6 + 0.9 * len(labels)))
    for i, label in enumerate(labels):
        rows = windows[windows["electrolyte_label"] == label]
        for j, keff in enumerate(levels):
            match = rows[rows["keff_gpa"].isna()] if np.isnan(keff) else rows[np.isclose(rows["keff_gpa"], keff)]
            if match.empty:
                continue
            lo, hi = float(match["v_low_v"].iloc[0]), min(float(match["v_high_v"].iloc[0]), v_max)
            y = i + (j - (len(levels) - 1) / 2) * height
            colour = "black" if np.isnan(keff) else colours[j - 1]
            name = "unconstrained" if np.isnan(keff) else f"Keff = {keff:g} GPa"
            ax.barh(y, hi - lo, left=lo, height=height * 0.9, color=colour, label=name if i == 0 else None)
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xlim(0, v_max)
    convention = ", ".join(sorted(windows["convention"].unique()))
    ax.set_xlabel("voltage vs. the working-ion metal (V)")
    ax.set_title(f"Electrochemical windows, unconstrained and at Keff ({convention})", fontsize=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=len(levels), fontsize=8, frameon=False)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def kcrit_sc_figure(summary: dict, envelope: pd.DataFrame, path) -> Path:
    """Why Kcrit_sc is infinite: ``g(K)`` against the p = 0 products' line.

    Parameters
    ----------
    summary : dict
        :attr:`constrict.physics.sc_example.KcritScExample.summary`.
    envelope : pandas.DataFrame
        :attr:`constrict.physics.sc_example.KcritScExample.envelope`.
    path : str or Path
        PNG to write.
    """
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    k = envelope["k_gpa"].to_numpy(dtype=float)
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.plot(k, envelope["linear_ev_per_atom"], color="tab:blue",
            label=f"p = 0 products only: dG + K eps V_R (Kcrit = {summary['kcrit_gpa']:.2f} GPa)")
    sc = summary["kcrit_sc_gpa"]
    sc_text = "inf" if not np.isfinite(sc) else f"{sc:.2f} GPa"
    ax.plot(k, envelope["g_ev_per_atom"], color="tab:red", lw=2,
            label=f"best products at each K: g(K) (Kcrit_sc = {sc_text})")
    if np.isfinite(summary["kcrit_gpa"]):
        ax.axvline(summary["kcrit_gpa"], color="tab:blue", ls=":", lw=1)
    ax.set_xlabel("K (GPa)")
    ax.set_ylabel("Phi_P + K (V_P' - V_R) - Phi_R (eV per atom of SEI)")
    ax.set_title(f"{summary['electrolyte']} | {summary['coating']} at {summary['voltage_v']:g} V "
                 f"({summary['convention']})", fontsize=10)
    note = ""
    if summary.get("defeating_products"):
        note = (f"wins at large K: {summary['defeating_products']}\n"
                f"  V_P' - V_R = {summary['defeating_dv_a3_per_atom']:.2f} Å³/atom (no expansion to push against)")
    if summary.get("push_only_products"):
        note += (f"\nno expansion at all: {summary['push_only_products']}\n"
                 f"  Phi_P - Phi_R = {summary['push_only_dphi_ev_per_atom']:.3f} eV/atom")
    if note:
        ax.text(0.01, 0.02, note, transform=ax.transAxes, fontsize=7, va="bottom", family="monospace")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path

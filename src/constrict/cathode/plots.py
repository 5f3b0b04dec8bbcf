"""Figures of the cathode-stack ranking (docs/cathode.md).

Both figures have one panel per cathode state (rows) and electrolyte
(columns). Kcrit spans 0 to thousands of GPa and may be infinite, so the
axes are symmetric-logarithmic (linear below 1 GPa), and infinite values
sit on a line marked "inf" just beyond the largest finite value. The known
coatings are labelled in every panel.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import SymLogNorm
from matplotlib.ticker import NullLocator

DPI = 150
LINTHRESH_GPA = 1.0
"""Below this (GPa) the axes are linear, so Kcrit = 0 is drawn."""

KNOWN_STYLE = {"s": 46, "facecolors": "none", "edgecolors": "#c44e52", "linewidths": 1.3, "zorder": 4}


def _inf_position(*columns: pd.Series) -> float:
    """Where inf is drawn (GPa): one decade above the largest finite value, at least 100 GPa."""
    finite = np.concatenate([c.to_numpy(dtype=float) for c in columns])
    finite = finite[np.isfinite(finite)]
    top = float(finite.max()) if finite.size else 10.0
    return float(10 ** np.ceil(np.log10(max(top, 10.0)) + 1))


def _placed(values: pd.Series, inf_at: float) -> np.ndarray:
    """Values with +inf moved to ``inf_at``."""
    out = values.to_numpy(dtype=float).copy()
    out[np.isposinf(out)] = inf_at
    return out


def _mark_inf(axis, inf_at: float) -> None:
    """Symlog ticks with the last one written "inf"."""
    ticks = [0.0] + [10.0**k for k in range(0, int(np.log10(inf_at)))] + [inf_at]
    labels = ["0"] + [f"{t:g}" for t in ticks[1:-1]] + ["inf"]
    axis.set_ticks(ticks, labels)


def _label_known(ax, x: np.ndarray, y: np.ndarray, names: list[str]) -> None:
    """Label points in a column to their right, ordered by height, each joined to its point by a thin line."""
    order = np.argsort(-y, kind="stable")
    for k, i in enumerate(order):
        ax.annotate(names[i], (x[i], y[i]), xycoords="data", xytext=(0.66, 0.93 - 0.065 * k),
                    textcoords="axes fraction", fontsize=6, color="#c44e52", va="center",
                    arrowprops={"arrowstyle": "-", "color": "#c44e52", "lw": 0.4, "alpha": 0.6, "patchA": None,
                                "shrinkA": 0, "shrinkB": 0})


def _panels(ranking: pd.DataFrame):
    """A figure with one panel per cathode state (rows) and electrolyte (columns).

    Returns the figure, its axes and a list of (axes, that panel's rows,
    errors included); panels without rows are switched off and left out.
    """
    cathodes = list(dict.fromkeys(ranking["cathode"]))
    electrolytes = list(dict.fromkeys(ranking["electrolyte"]))
    fig, axes = plt.subplots(len(cathodes), len(electrolytes), figsize=(4.4 * len(electrolytes), 3.9 * len(cathodes)),
                             squeeze=False)
    panels = []
    for i, cathode in enumerate(cathodes):
        for j, electrolyte in enumerate(electrolytes):
            group = ranking[(ranking["cathode"] == cathode) & (ranking["electrolyte"] == electrolyte)]
            if group.empty:
                axes[i, j].axis("off")
            else:
                panels.append((axes[i, j], group))
    return fig, axes, panels


def _title(ax, group: pd.DataFrame) -> None:
    ax.set_title(f"{group['cathode'].iloc[0]}\n| coating | {group['electrolyte'].iloc[0]} at "
                 f"{group['voltage_v'].iloc[0]:g} V", fontsize=8)
    ax.tick_params(labelsize=7)


def kcrit_interfaces_figure(ranking: pd.DataFrame, path: str | Path) -> Path:
    """Kcrit at the cathode interface against Kcrit at the electrolyte interface, coloured by the coating's own Kcrit.

    One point per coating; the known coatings are circled and labelled; the
    dashed lines mark the ranking's Keff (the stacks inside the lower-left
    box with a dark enough colour are constriction-stable at it).

    Parameters
    ----------
    ranking : DataFrame
        The ranking (``constrict.cathode.ranking.RANKING_SCHEMA``).
    path : str or Path
        PNG to write.

    Returns
    -------
    Path
    """
    path = Path(path)
    ok = ranking[ranking["status"] == "ok"]
    inf_at = _inf_position(ok["cathode_kcrit_gpa"], ok["electrolyte_kcrit_gpa"], ok["coating_kcrit_gpa"])
    norm = SymLogNorm(linthresh=LINTHRESH_GPA, vmin=0.0, vmax=inf_at / 10, base=10)
    cmap = plt.get_cmap("viridis").with_extremes(over="#222222")
    fig, axes, panels = _panels(ranking)
    keff_gpa = float(ranking["keff_gpa"].iloc[0]) if len(ranking) else np.nan
    for ax, group in panels:
        rows = group[group["status"] == "ok"]
        x, y = _placed(rows["cathode_kcrit_gpa"], inf_at), _placed(rows["electrolyte_kcrit_gpa"], inf_at)
        colour = rows["coating_kcrit_gpa"].to_numpy(dtype=float)
        points = ax.scatter(x, y, c=np.where(np.isinf(colour), inf_at, colour), cmap=cmap, norm=norm, s=9,
                            alpha=0.8, linewidths=0)
        known = rows["known_coating"].to_numpy(dtype=bool)
        ax.scatter(x[known], y[known], **KNOWN_STYLE)
        _label_known(ax, x[known], y[known], rows.loc[known, "coating_formula"].tolist())
        if np.isfinite(keff_gpa):
            ax.axvline(keff_gpa, color="grey", lw=0.8, ls="--")
            ax.axhline(keff_gpa, color="grey", lw=0.8, ls="--")
        for axis_scale in (ax.set_xscale, ax.set_yscale):
            axis_scale("symlog", linthresh=LINTHRESH_GPA)
        ax.set_xlim(-0.3, inf_at * 1.6)
        ax.set_ylim(-0.3, inf_at * 1.6)
        for axis in (ax.xaxis, ax.yaxis):
            _mark_inf(axis, inf_at)
            axis.set_minor_locator(NullLocator())
        _title(ax, group)
        ax.set_xlabel("Kcrit, cathode interface (GPa)", fontsize=8)
        ax.set_ylabel("Kcrit, electrolyte interface (GPa)", fontsize=8)
        ax.text(0.02, 0.98, f"{len(rows)} coatings", transform=ax.transAxes, fontsize=6.5, va="top")
    fig.subplots_adjust(hspace=0.45, wspace=0.32)
    bar = fig.colorbar(points, ax=axes, extend="max", shrink=0.5, pad=0.02)
    bar.set_label("Kcrit of the coating alone (GPa; black = inf)")
    fig.suptitle(f"Both interfaces of each coating at the cathode's voltage (dashed: Keff = {keff_gpa:g} GPa; "
                 f"{ranking['convention'].iloc[0] if len(ranking) else ''})", fontsize=10, y=0.92)
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return path


def keff_required_figure(ranking: pd.DataFrame, path: str | Path) -> Path:
    """Histogram of the Keff each stack needs, with the known coatings marked.

    Logarithmic bins over the finite, positive values; stacks needing
    Keff = 0 or inf and errors are counted in each panel.

    Parameters
    ----------
    ranking : DataFrame
        The ranking (``constrict.cathode.ranking.RANKING_SCHEMA``).
    path : str or Path
        PNG to write.

    Returns
    -------
    Path
    """
    path = Path(path)
    ok = ranking[ranking["status"] == "ok"]
    keff = ok["keff_required_gpa"].to_numpy(dtype=float)
    positive = keff[np.isfinite(keff) & (keff > 0)]
    lo = 10 ** np.floor(np.log10(positive.min())) if positive.size else 0.1
    hi = 10 ** np.ceil(np.log10(positive.max())) if positive.size else 100.0
    bins = np.logspace(np.log10(lo), np.log10(hi), 41)
    fig, axes, panels = _panels(ranking)
    keff_gpa = float(ranking["keff_gpa"].iloc[0]) if len(ranking) else np.nan
    for ax, group in panels:
        rows = group[group["status"] == "ok"]
        values = rows["keff_required_gpa"].to_numpy(dtype=float)
        heights, _, _ = ax.hist(values[np.isfinite(values) & (values > 0)], bins=bins, color="#4c72b0",
                                edgecolor="white", lw=0.3)
        top = max(heights.max(initial=0), 1) * 1.9
        ax.set_ylim(0, top)
        ax.set_xscale("log")
        ax.xaxis.set_minor_locator(NullLocator())  # minor log ticks: slow to lay out, little to read
        if np.isfinite(keff_gpa) and keff_gpa > 0:
            ax.axvline(keff_gpa, color="grey", lw=0.9, ls="--")
        known = rows[rows["known_coating"]]
        for k, row in enumerate(known.itertuples(index=False)):
            value = row.keff_required_gpa
            x = min(max(value, lo), hi) if np.isfinite(value) else hi
            ax.plot([x, x], [0, top * 0.5], color="#c44e52", lw=0.7)
            ax.text(x, top * (0.52 + 0.045 * (k % 9)), f"{row.coating_formula} #{row.rank}", fontsize=5.5,
                    color="#c44e52", ha="center", va="bottom")
        stable = int(rows["constriction_stable"].sum())
        ax.text(0.98, 0.98, f"{len(group)} stacks\nKeff = 0: {int((values == 0).sum())}\n"
                f"inf: {int(np.isinf(values).sum())}\nerrors: {len(group) - len(rows)}\n"
                f"stable at {keff_gpa:g} GPa: {stable}", transform=ax.transAxes, ha="right", va="top",
                fontsize=6.5)
        _title(ax, group)
        ax.set_xlabel("required Keff (GPa)", fontsize=8)
        ax.set_ylabel("stacks", fontsize=8)
    fig.suptitle("Keff each cathode | coating | electrolyte stack needs (red: known coatings, #rank; dashed: "
                 f"Keff = {keff_gpa:g} GPa)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def stack_figures(ranking_path: str | Path, kcrit_path: str | Path, keff_path: str | Path) -> list[Path]:
    """Both figures from ``ranking.parquet``."""
    ranking = pd.read_parquet(ranking_path)
    return [kcrit_interfaces_figure(ranking, kcrit_path), keff_required_figure(ranking, keff_path)]

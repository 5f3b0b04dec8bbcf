"""Parity plots of the Kcrit surrogate (the paper's Fig. 4b), in the style of :mod:`constrict.campaign.plots`.

matplotlib runs with the Agg backend (files only). The function writes one
PNG and returns its path.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from constrict.surrogate.evaluation import regression_metrics

DPI = 150

PANELS = (
    ("random", "random holdout (the paper's protocol)"),
    ("grouped", "grouped holdout (no coating system on both sides)"),
)
"""(split, panel title) of the two panels."""


def parity_plot(predictions: pd.DataFrame, path: str | Path, *, voltage_v: float, cap_gpa: float = 100.0) -> Path:
    """Predicted vs computed Kcrit on the random holdout, the grouped holdout beside it.

    Parameters
    ----------
    predictions : pandas.DataFrame
        Test rows of the default model (columns split, kcrit_gpa,
        predicted_gpa; GPa), as ``VoltageEvaluation.predictions``.
    path : str or Path
        PNG to write.
    voltage_v : float
        The model's voltage (V), for the title.
    cap_gpa : float
        The axes run from 0 to this (GPa): the points drawn are the test
        rows with computed Kcrit <= cap_gpa (the ``capped`` target set).
        The legend gives the RMSE over these and over all finite test rows,
        and counts the rows beyond the cap (not drawn).

    Returns
    -------
    Path
        The PNG written.
    """
    path = Path(path)
    fig, axes = plt.subplots(1, len(PANELS), figsize=(5.2 * len(PANELS), 5.0), squeeze=False)
    for ax, (split, title) in zip(axes.flat, PANELS, strict=True):
        rows = predictions[predictions["split"] == split]
        computed = rows["kcrit_gpa"].to_numpy(dtype=float)
        predicted = rows["predicted_gpa"].to_numpy(dtype=float)
        drawn = computed <= cap_gpa
        capped = regression_metrics(computed[drawn], predicted[drawn])
        every = regression_metrics(computed, predicted)
        label = (f"test rows <= {cap_gpa:g} GPa: {int(drawn.sum())}\n"
                 f"RMSE {capped['rmse_gpa']:.2f} GPa ({capped['rmse_over_std']:.2f} std), R$^2$ {capped['r2']:.2f}\n"
                 f"all finite ({len(computed)}): RMSE {every['rmse_gpa']:.1f} GPa\n"
                 f"> {cap_gpa:g} GPa (not drawn): {int((~drawn).sum())}")
        ax.scatter(computed[drawn], np.clip(predicted[drawn], 0, cap_gpa), s=3, alpha=0.35, color="#4c72b0",
                   edgecolors="none", label=label)
        ax.plot([0, cap_gpa], [0, cap_gpa], color="#c44e52", lw=1, ls="--")
        ax.set_xlim(0, cap_gpa)
        ax.set_ylim(0, cap_gpa)
        ax.set_aspect("equal")
        ax.set_xlabel("computed Kcrit (GPa)")
        ax.set_ylabel("predicted Kcrit (GPa)")
        ax.set_title(title, fontsize=10)
        ax.legend(loc="upper left", fontsize=7, frameon=False, markerscale=0, handlelength=0)
    fig.suptitle(f"Kcrit surrogate at {voltage_v:g} V (ExtraTrees on SEI element fractions)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path

"""Write a screen's summary folder: the Kcrit statistics, correlations and figures.

The statistics come from :mod:`constrict.campaign.statistics` (no plotting there), the
figures from :mod:`constrict.campaign.plots`.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from constrict.campaign import plots
from constrict.campaign.statistics import (
    PAPER_REFERENCE,
    element_kcrit_correlation,
    format_stats,
    kcrit_stats,
    paper_comparison,
    read_screen,
    undetermined_counts,
)

log = logging.getLogger(__name__)


def _slug(text: str) -> str:
    """A file-name-safe version of a label."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")


def _correlation_voltage(screen: pd.DataFrame, preferred_v: float) -> float:
    """The preferred voltage when screened, else the highest screened one."""
    voltages_v = np.unique(screen["voltage_v"].dropna().to_numpy(dtype=float))
    if np.isclose(voltages_v, preferred_v).any():
        return float(preferred_v)
    return float(voltages_v.max())


def summarise(
    screen_parquet: str | Path,
    out_dir: str | Path,
    *,
    correlation_voltage_v: float = 4.0,
) -> dict[str, Path]:
    """Write the Kcrit statistics, the element correlations and the figures.

    Parameters
    ----------
    screen_parquet : str or Path
        The gathered screen table.
    out_dir : str or Path
        Output folder (created). Files written, all with fixed names except
        the per-electrolyte histograms:

        - ``kcrit_stats.tsv`` and ``kcrit_stats.parquet``: :func:`kcrit_stats`;
        - ``paper_comparison.tsv``: :func:`paper_comparison` (may be empty);
        - ``element_correlation_<convention>.tsv``: Pearson and Spearman
          correlation of each element's SEI fraction with Kcrit at the
          correlation voltage, pooled over electrolytes;
        - ``element_correlation_<convention>.png`` (Spearman) and
          ``element_correlation_pearson_<convention>.png`` (Pearson, as the
          paper): the same on a periodic table;
        - ``element_correlation_within_<convention>.tsv`` and ``.png``
          (Spearman): the same within each electrolyte (its mean removed,
          :func:`~constrict.campaign.statistics.element_kcrit_correlation` ``view="within"``);
        - ``kcrit_hist_<electrolyte>_<convention>.png``: Kcrit histograms,
          one panel per voltage;
        - ``undetermined.tsv``: :func:`~constrict.campaign.statistics.undetermined_counts`;
        - ``kcrit_vs_strain_<electrolyte>_<V>V_<convention>.png``: Kcrit
          against strain with their intervals at the correlation voltage,
          undetermined rows in grey, for the paper's electrolyte (Li7P3S11)
          when screened, else the first one.
    correlation_voltage_v : float
        Voltage of the correlation figure (V); the highest screened voltage
        is used when this one was not screened.

    Returns
    -------
    dict of str to Path
        Every file written, keyed by a short name.
    """
    screen = read_screen(screen_parquet)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}

    stats = kcrit_stats(screen)
    written["kcrit_stats_tsv"] = out_dir / "kcrit_stats.tsv"
    stats.to_csv(written["kcrit_stats_tsv"], sep="\t", index=False, float_format="%.6g")
    written["kcrit_stats_parquet"] = out_dir / "kcrit_stats.parquet"
    stats.to_parquet(written["kcrit_stats_parquet"], index=False)
    print(format_stats(stats))
    log.info("Kcrit statistics:\n%s", format_stats(stats))

    comparison = paper_comparison(stats)
    written["paper_comparison"] = out_dir / "paper_comparison.tsv"
    comparison.to_csv(written["paper_comparison"], sep="\t", index=False, float_format="%.6g")
    if not comparison.empty:
        print("\nbeside the paper (GPa):")
        print(format_stats(comparison))
        log.info("beside the paper (GPa):\n%s", format_stats(comparison))

    undetermined = undetermined_counts(screen)
    written["undetermined"] = out_dir / "undetermined.tsv"
    undetermined.to_csv(written["undetermined"], sep="\t", index=False, float_format="%.6g")
    log.info("linear Kcrit not determined by the data:\n%s", format_stats(undetermined))

    for (label, electrolyte, convention), group in screen.groupby(
        ["electrolyte_label", "electrolyte", "convention"], sort=True
    ):
        name = f"kcrit_hist_{_slug(electrolyte)}_{convention}"
        title = f"{label}, {convention} convention"
        written[name] = plots.kcrit_histograms(group, out_dir / f"{name}.png", title=title)

    if not screen.empty:
        voltage_v = _correlation_voltage(screen, correlation_voltage_v)
        written.update(_strain_figures(screen, voltage_v, out_dir))
        labels = ", ".join(sorted(screen["electrolyte_label"].unique()))
        for convention in sorted(screen["convention"].unique()):
            for view, suffix, what in (("pooled", "", labels), ("within", "_within", "within each electrolyte")):
                corr = element_kcrit_correlation(screen, voltage_v=voltage_v, convention=convention, view=view)
                name = f"element_correlation{suffix}_{convention}"
                written[f"{name}_tsv"] = out_dir / f"{name}.tsv"
                corr.to_csv(written[f"{name}_tsv"], sep="\t", index=False, float_format="%.6g")
                by_element = corr.set_index("element")
                figures = [("spearman", name)]
                if view == "pooled":
                    figures.append(("pearson", f"element_correlation_pearson_{convention}"))
                for coefficient, png in figures:
                    title = (
                        f"{coefficient.capitalize()} correlation of SEI element fraction with Kcrit"
                        f" at {voltage_v:g} V\n({convention}; {what})"
                    )
                    written[png] = plots.periodic_table_heatmap(
                        by_element[f"{coefficient}_r"],
                        out_dir / f"{png}.png",
                        title=title,
                        n_present=by_element["n_present"],
                        label=f"{coefficient.capitalize()} r (red: more of the element, lower Kcrit)",
                    )
    log.info("summary written to %s", out_dir)
    return written


def _strain_figures(screen: pd.DataFrame, voltage_v: float, out_dir: Path) -> dict[str, Path]:
    """Kcrit against strain for one electrolyte (the paper's when screened) at ``voltage_v``, per convention."""
    paper = set(PAPER_REFERENCE["electrolyte"])
    electrolytes = sorted(screen["electrolyte"].unique(), key=lambda e: (e not in paper, e))
    electrolyte = electrolytes[0]
    rows = screen[(screen["electrolyte"] == electrolyte) & np.isclose(screen["voltage_v"], voltage_v)]
    written = {}
    for convention, group in rows.groupby("convention", sort=True):
        name = f"kcrit_vs_strain_{_slug(electrolyte)}_{voltage_v:g}V_{convention}"
        label = group["electrolyte_label"].iloc[0]
        written[name] = plots.kcrit_strain_figure(group, out_dir / f"{name}.png", convention=convention,
                                                  title=f"{label} at {voltage_v:g} V ({convention}): Kcrit "
                                                  "and its interval against the strain")
    return written

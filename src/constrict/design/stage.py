"""The design stage's file in/file out steps, one per Snakemake rule (workflow/rules/design.smk).

Each function reads its inputs, calls :mod:`constrict.design.campaign`
and writes Parquet (and TSV where a person reads the table), atomically
through :func:`constrict.data.tables.write_table`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from constrict.data.tables import write_table
from constrict.design import campaign
from constrict.design.config import DesignConfig, design_config

log = logging.getLogger(__name__)

FIGURES = {
    "shap_steps": ("fig4c_shap_steps.png", "SHAP steps (Fig. 4c)"),
    "routes": ("routes.png", "routes"),
    "predicted_vs_computed": ("predicted_vs_computed.png", "predicted vs computed"),
    "fig5a": ("fig5a_energy_keff.png", "Fig. 5a"),
    "fig5b": ("fig5b_kcrit_level.png", "Fig. 5b"),
    "figs4": ("figS4_voltages.png", "Fig. S4"),
}
"""The design figures: key -> (file name in results/design/, report label); caption workflow/report/design_<key>.rst."""


def config_of(design: Mapping, convention: str, random_state: int, uncertainty: Mapping | None = None) -> DesignConfig:
    """The :class:`DesignConfig` from a rule's params (design block, convention, seed, uncertainty block)."""
    return design_config({"design": design, "convention": convention, "random_state": random_state,
                          "uncertainty": uncertainty})


def entry_set_of(entries_path: str | Path):
    """The engine's EntrySet of the campaign's entry table (built arrays cached on disk)."""
    from constrict.data.entry_cache import entry_set_from_frame

    return entry_set_from_frame(pd.read_parquet(entries_path).reset_index(drop=True))


def _write(frame: pd.DataFrame, parquet: str | Path, tsv: str | Path | None = None) -> None:
    write_table(frame.reset_index(drop=True), parquet)
    if tsv is not None:
        Path(tsv).parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(tsv, sep="\t", index=False, float_format="%.6g")


def run_shap(model_path: str | Path, config: DesignConfig, *, processes: int = 1, children: str, steps: str,
             shap: str) -> None:
    """SHAP-guided route and grid optimum of every parent and level -> three Parquet tables."""
    from constrict.surrogate import load_model

    started = time.perf_counter()
    out = campaign.shap_children(load_model(model_path), config, processes=processes)
    _write(out["children"], children)
    _write(out["steps"], steps)
    _write(out["shap"], shap)
    log.info("SHAP route: %d parent x level runs in %.1f s", len(out["children"]), time.perf_counter() - started)


def run_physics(entries_path: str | Path, shap_children: str | Path, config: DesignConfig, *, processes: int = 1,
                children: str, trace: str) -> None:
    """Physics-in-the-loop route of the configured parents -> children and trace tables."""
    started = time.perf_counter()
    out = campaign.physics_children(entry_set_of(entries_path), config, pd.read_parquet(shap_children),
                                    processes=processes)
    _write(out["children"], children)
    _write(out["trace"], trace)
    log.info("physics route: %d parent x level runs, %d evaluations in %.1f s", len(out["children"]),
             int(out["children"]["n_evaluations"].sum()) if len(out["children"]) else 0,
             time.perf_counter() - started)


def run_table(entries_path: str | Path, model_path: str | Path, training_table: str | Path, shap_children: str | Path,
              physics_children: str | Path, config: DesignConfig, *, table: str, tsv: str, verification: str) -> None:
    """The design table (predicted and computed side by side) and the verification at every voltage."""
    from constrict.design.distance import training_compositions
    from constrict.surrogate import load_model

    model = load_model(model_path)
    training = training_compositions(training_table, config.voltage_v, list(model.features))
    out = campaign.design_table(entry_set_of(entries_path), model, config, pd.read_parquet(shap_children),
                                pd.read_parquet(physics_children), training)
    _write(out["table"], table, tsv)
    _write(out["verification"], verification)


def run_fig5(entries_path: str | Path, model_paths: Mapping[float, str | Path], shap_children: str | Path,
             config: DesignConfig, *, table: str, tsv: str) -> None:
    """Fig. 5 and Fig. S4 data: the first parent's children against the Fig. 5 electrolyte."""
    from constrict.surrogate import load_model

    models = {float(v): load_model(p) for v, p in model_paths.items()}
    out = campaign.fig5_table(entry_set_of(entries_path), config, pd.read_parquet(shap_children), models)
    _write(out, table, tsv)


def run_figures(paths: Mapping[str, str | Path], config: DesignConfig, out: Mapping[str, str | Path]) -> None:
    """Every design figure from the stage's tables.

    Parameters
    ----------
    paths : mapping
        ``steps``, ``shap``, ``trace``, ``table``, ``fig5``: Parquet tables.
    config : DesignConfig
    out : mapping
        ``shap_steps``, ``routes``, ``predicted_vs_computed``, ``fig5a``,
        ``fig5b``, ``figs4``: PNG paths.
    """
    from constrict.design import plots

    steps, shap = pd.read_parquet(paths["steps"]), pd.read_parquet(paths["shap"])
    fig5 = pd.read_parquet(paths["fig5"])
    plots.shap_steps_figure(shap, steps, config.parents[0].name, out["shap_steps"])
    plots.routes_figure(steps, pd.read_parquet(paths["trace"]), out["routes"])
    plots.predicted_vs_computed_figure(pd.read_parquet(paths["table"]), out["predicted_vs_computed"])
    plots.fig5a_figure(fig5, config.voltage_v, config.keff_gpa, out["fig5a"])
    plots.fig5b_figure(fig5, config.voltage_v, config.self_voltage_v, out["fig5b"])
    plots.figs4_figure(fig5, config.extra_voltages_v, config.keff_gpa, out["figs4"])

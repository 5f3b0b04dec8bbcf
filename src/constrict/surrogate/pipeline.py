"""The surrogate stage of the campaign: the steps that the Snakemake rules call.

1. :func:`prepare` - gathered screen -> training table + exclusion counts;
2. :func:`train_voltage` - one voltage: every model on every split
   (:func:`~constrict.surrogate.evaluation.evaluate_voltage`), the default
   model saved with its metadata, its metrics and test predictions;
3. :func:`parity` - the parity plot of one voltage;
4. :func:`collect_metrics` - one metrics table over the voltages;
5. :func:`study` - not in the default run: how the target transform and
   the tree size were chosen (:mod:`constrict.surrogate.study`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from constrict.campaign.provenance import file_sha256
from constrict.core.errors import ConstrictError
from constrict.data.tables import write_table
from constrict.surrogate.data import at_voltage, element_columns, read_screen, training_table
from constrict.surrogate.evaluation import METRIC_COLUMNS, SurrogateOptions, evaluate_voltage

log = logging.getLogger(__name__)

SOURCE_KEYS = ("screen", "screen_sha256", "convention", "electrolytes")
"""Parquet metadata of the training table, copied into each model's ``info_["training_data"]``."""


def prepare(screen_path: str | Path, table_path: str | Path, exclusions_path: str | Path) -> pd.DataFrame:
    """Write the training table (Parquet) and the exclusion counts (TSV) of a gathered screen.

    The table's Parquet metadata records where it came from: the screen
    path, its SHA-256, the convention and the electrolytes.

    Returns
    -------
    pandas.DataFrame
        The exclusion counts (:data:`~constrict.surrogate.data.COUNT_COLUMNS`).
    """
    screen = read_screen(screen_path)
    table, counts = training_table(screen)
    source = {
        "screen": str(screen_path),
        "screen_sha256": file_sha256(screen_path),
        "convention": ";".join(sorted(screen["convention"].dropna().unique())),
        "electrolytes": ";".join(sorted(screen["electrolyte"].unique())),
    }
    write_table(table, table_path, metadata=source)
    Path(exclusions_path).parent.mkdir(parents=True, exist_ok=True)
    counts.to_csv(exclusions_path, sep="\t", index=False)
    log.info("training table: %d rows, %d elements, %d groups", len(table), len(element_columns(table)),
             table["group"].nunique())
    return counts


def _source(table_path: str | Path) -> dict[str, str]:
    import pyarrow.parquet as pq

    metadata = pq.read_schema(table_path).metadata or {}
    return {k: metadata.get(k.encode(), b"").decode() for k in SOURCE_KEYS}


def train_voltage(
    table_path: str | Path,
    voltage_v: float,
    options: SurrogateOptions,
    *,
    model_path: str | Path,
    metrics_path: str | Path,
    predictions_path: str | Path,
) -> pd.DataFrame:
    """Evaluate every model on every split at one voltage; save the default model.

    The saved model is the default one fitted on the random split's
    training rows, so the holdout RMSE it carries (``info_["holdout"]``) is
    honest. Its ``info_["training_data"]`` names the screen (path, SHA-256,
    convention, electrolytes) and the options.

    Returns
    -------
    pandas.DataFrame
        The metrics rows (:data:`~constrict.surrogate.evaluation.METRIC_COLUMNS`).
    """
    table = pd.read_parquet(table_path)
    features = element_columns(table)
    if not np.isclose(table["voltage_v"].to_numpy(dtype=float), voltage_v).any():
        raise ConstrictError(
            f"no finite Kcrit at {voltage_v:g} V to train on (exclusions.tsv counts why); "
            "leave the voltage out of voltages_v or set surrogate.enabled: false"
        )
    rows = at_voltage(table, voltage_v)
    log.info("%g V: %d rows, %d elements; options %s", voltage_v, len(rows), len(features), options)
    with threadpool_limits(options.n_jobs):  # BLAS and OpenMP (HistGradientBoosting) keep to the rule's threads
        result = evaluate_voltage(rows, features, voltage_v, options)
    model = result.model
    model.set_info(training_data={**_source(table_path), "table": str(table_path), "n_rows": len(rows)})
    model.save(model_path)
    Path(metrics_path).parent.mkdir(parents=True, exist_ok=True)
    result.metrics.to_csv(metrics_path, sep="\t", index=False, float_format="%.6g")
    write_table(result.predictions, predictions_path)
    log.info("saved %s (largest tree %d nodes)", model_path, model.max_tree_nodes_)
    return result.metrics


def parity(predictions_path: str | Path, png_path: str | Path, *, voltage_v: float, cap_gpa: float) -> Path:
    """Draw the parity plot of one voltage (:func:`constrict.surrogate.plots.parity_plot`)."""
    from constrict.surrogate.plots import parity_plot

    return parity_plot(pd.read_parquet(predictions_path), png_path, voltage_v=voltage_v, cap_gpa=cap_gpa)


def collect_metrics(metrics_paths: Sequence[str | Path], out_path: str | Path) -> pd.DataFrame:
    """Concatenate the per-voltage metrics into one TSV, sorted; return it."""
    metrics = pd.concat([pd.read_csv(p, sep="\t") for p in metrics_paths], ignore_index=True)
    metrics = metrics[list(METRIC_COLUMNS)].sort_values(
        ["voltage_v", "split", "fold", "model", "target_transform", "target_set", "training_rows"], kind="mergesort")
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    metrics.to_csv(out_path, sep="\t", index=False, float_format="%.6g")
    summary = metrics[(metrics["fold"] == "holdout") & (metrics["model"] == "extra_trees")]
    log.info("extra_trees holdout metrics:\n%s", summary.to_string(index=False))
    return metrics


def study(table_path: str | Path, voltage_v: float, options: SurrogateOptions, out_path: str | Path) -> pd.DataFrame:
    """Write the tree-size and target-transform study of one voltage (TSV) and return it."""
    from constrict.surrogate.study import tree_size_study

    table = pd.read_parquet(table_path)
    with threadpool_limits(options.n_jobs):
        result = tree_size_study(at_voltage(table, voltage_v), element_columns(table), voltage_v, options)
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    result.to_csv(out_path, sep="\t", index=False, float_format="%.6g")
    return result

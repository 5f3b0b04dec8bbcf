"""The surrogate's task as the paper may have posed it: which rows, trees, cap and test set.

The paper (Fig. 4b) reports an RMSE of 2.59 GPa on a test set of 10,000
SEIs at the interface to LSPS at 4 V, with 30 (or 50) extremely randomised
trees. Our default task (docs/surrogate.md) differs in several ways, each
a variant here (:class:`TaskVariant`): pooled or one electrolyte's rows,
the number of trees, bounded or fully grown trees, one row per distinct
SEI or every screen row, the cap of the metrics, the test-set size, and
the convention and normalisation of the target.

Every variant: its rows at one voltage (:func:`constrict.surrogate.data.training_table`
de-duplicated, or every finite screen row with
:func:`constrict.campaign.statistics.element_fractions`), a seeded random test set
(:func:`constrict.surrogate.splits.random_split`, or exactly
``test_rows`` rows), the training rows subsampled to ``max_train_rows``
when set (to keep ``make run`` small; the log and the table say so), the
forest of :class:`constrict.surrogate.model.KcritSurrogate` (scikit-learn's
ExtraTreesRegressor on the element fractions, the capped target), and
:func:`constrict.surrogate.evaluation.metric_rows` on the test rows. The
forest is built directly because fully grown trees exceed the node limit
that KcritSurrogate checks for SHAP, which no variant needs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd
from sklearn.ensemble import ExtraTreesRegressor
from sklearn.model_selection import train_test_split

from constrict.campaign.statistics import element_fractions
from constrict.core.errors import ConfigError
from constrict.reproduction.variants import DEFAULT_NORMALISATION, ion_fraction, kcrit_variant
from constrict.surrogate.data import element_columns, training_table
from constrict.surrogate.evaluation import metric_rows
from constrict.surrogate.splits import random_split

log = logging.getLogger(__name__)

POOLED = "pooled"
"""``rows`` of a variant that takes every electrolyte's rows."""

MIN_TASK_ROWS = 4
"""A task with fewer rows is left out (logged): too few to split."""


@dataclass(frozen=True)
class TaskVariant:
    """One surrogate task (a ``reproduction.surrogate.variants`` item, campaign settings filled in).

    Attributes
    ----------
    name : str
    rows : str
        ``"pooled"`` or an electrolyte formula as screened (e.g. Li10SiP2S12).
    convention, normalisation : str
        Of the target Kcrit (:mod:`constrict.reproduction.variants`).
    n_estimators, min_samples_leaf : int
        Trees; rows per leaf (1: fully grown).
    max_features : float
        Share of the elements drawn at each split.
    deduplicate : bool
        One row per distinct SEI composition (ours), or every screen row.
    cap_gpa : float
        Cap of the target (what the trees learn: min(Kcrit, cap)) and of
        the ``capped`` metrics (GPa).
    test_rows : int or None
        Exactly this many test rows; None: the campaign's holdout rule
        (``holdout_size`` or 1/8 of the rows).
    holdout_size : int
        The campaign's ``surrogate.holdout_size``.
    """

    name: str
    rows: str
    convention: str
    normalisation: str
    n_estimators: int
    min_samples_leaf: int
    max_features: float
    deduplicate: bool
    cap_gpa: float
    test_rows: int | None
    holdout_size: int

    @classmethod
    def from_config(cls, item: dict, *, surrogate: dict, convention: str) -> TaskVariant:
        """A variant from a config item; null or missing keys take the campaign's ``surrogate`` block."""
        defaults = {
            "rows": POOLED, "convention": convention, "normalisation": DEFAULT_NORMALISATION,
            "n_estimators": surrogate["n_estimators"], "min_samples_leaf": surrogate["min_samples_leaf"],
            "max_features": surrogate["max_features"], "deduplicate": True, "cap_gpa": surrogate["cap_gpa"],
            "test_rows": None, "holdout_size": surrogate["holdout_size"],
        }
        unknown = sorted(set(item) - {f.name for f in fields(cls)})
        if unknown:
            raise ConfigError(f"config.reproduction.surrogate.variants: unknown key(s) {', '.join(unknown)}")
        values = {k: (item.get(k) if item.get(k) is not None else v) for k, v in defaults.items()}
        return cls(name=str(item["name"]), **values)


TASK_COLUMNS = (*(f.name for f in fields(TaskVariant)), "voltage_v", "n_rows", "n_train", "n_train_available",
                "target_set", "n_test", "rmse_gpa", "mae_gpa", "r2", "std_gpa", "rmse_over_std")
"""Columns of :func:`surrogate_variants` (results/reproduction/surrogate.parquet): the variant, then its metrics."""


def task_rows(screen: pd.DataFrame, variant: TaskVariant, voltage_v: float) -> pd.DataFrame | None:
    """The variant's rows at one voltage: ``kcrit_gpa`` (the variant's target, finite) and element fractions.

    Parameters
    ----------
    screen : pandas.DataFrame
        Screen result rows (every column the surrogate and the variants read).

    Returns
    -------
    pandas.DataFrame or None
        None (logged) when the screen has no reacting rows of the variant's
        electrolyte at that voltage (e.g. LSPS in a campaign without it).
    """
    rows = screen[np.isclose(screen["voltage_v"].to_numpy(dtype=float), voltage_v)]
    if variant.rows != POOLED:
        rows = rows[rows["electrolyte"] == variant.rows]
    ok = (rows["status"] == "ok") & rows["reacts"].fillna(False).astype(bool)
    rows = rows[ok].copy()
    if rows.empty:
        log.warning("surrogate variant %s: no reacting screen rows of %s at %g V; left out", variant.name,
                    variant.rows, voltage_v)
        return None
    rows["kcrit_gpa"] = kcrit_variant(rows, variant.convention, variant.normalisation, x_ion=ion_fraction(rows))
    rows["convention"] = variant.convention
    if variant.deduplicate:
        table, _ = training_table(rows)
        return table[["kcrit_gpa", *element_columns(table)]].reset_index(drop=True)
    rows = rows[np.isfinite(rows["kcrit_gpa"].to_numpy(dtype=float))]
    fractions = element_fractions(rows["sei_composition"].tolist())
    return pd.concat([rows[["kcrit_gpa"]].reset_index(drop=True), fractions], axis=1)


def split(n_rows: int, variant: TaskVariant, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """Training and test positions: exactly ``test_rows`` test rows if fewer than the rows, else the campaign rule."""
    if variant.test_rows is not None and variant.test_rows < n_rows:
        train, test = train_test_split(np.arange(n_rows), test_size=variant.test_rows, random_state=random_state)
        return np.sort(train), np.sort(test)
    if variant.test_rows is not None:
        log.warning("variant %s: %d rows, not more than test_rows %d; the campaign's holdout rule instead",
                    variant.name, n_rows, variant.test_rows)
    return random_split(n_rows, holdout_size=variant.holdout_size, random_state=random_state)


def evaluate_task(table: pd.DataFrame, variant: TaskVariant, *, voltage_v: float, random_state: int,
                  max_train_rows: int | None, n_jobs: int = 1) -> list[dict]:
    """Fit the variant's forest and score it on its test rows: one metrics row per target set.

    Returns
    -------
    list of dict
        The variant's settings, n_rows, n_train (after subsampling),
        n_train_available, n_test and the metrics of
        :func:`~constrict.surrogate.evaluation.metric_rows`.
    """
    features = [c for c in table.columns if c != "kcrit_gpa"]
    kcrit_gpa = table["kcrit_gpa"].to_numpy(dtype=float)
    train, test = split(len(table), variant, random_state)
    available = len(train)
    if max_train_rows is not None and len(train) > max_train_rows:
        rng = np.random.default_rng(random_state)
        train = np.sort(rng.choice(train, size=max_train_rows, replace=False))
    forest = ExtraTreesRegressor(n_estimators=variant.n_estimators, min_samples_leaf=variant.min_samples_leaf,
                                 max_features=variant.max_features, random_state=random_state, n_jobs=n_jobs)
    X = table[features].to_numpy(dtype=float)
    forest.fit(X[train], np.minimum(kcrit_gpa[train], variant.cap_gpa))
    forest.set_params(n_jobs=1)
    predicted_gpa = forest.predict(X[test])
    labels = {**asdict(variant), "voltage_v": float(voltage_v), "n_rows": len(table), "n_train": len(train),
              "n_train_available": available}
    cap_gpa = labels.pop("cap_gpa")
    rows = [{**row, "cap_gpa": cap_gpa} for row in metric_rows(kcrit_gpa[test], predicted_gpa, cap_gpa, **labels)]
    log.info("surrogate variant %s: %d rows, trained on %d of %d, RMSE %.2f GPa (<= %g GPa), %.2f GPa (all)",
             variant.name, len(table), len(train), available, rows[1]["rmse_gpa"], variant.cap_gpa,
             rows[0]["rmse_gpa"])
    return rows


def task_key(variant: TaskVariant) -> tuple:
    """What a variant's rows depend on: (rows, convention, normalisation, deduplicate)."""
    return (variant.rows, variant.convention, variant.normalisation, variant.deduplicate)


def campaign_task_key(config: dict) -> tuple:
    """The :func:`task_key` of the campaign's own task (its surrogate stage's training table)."""
    return (POOLED, config["convention"], DEFAULT_NORMALISATION, True)


def surrogate_variants(screen: pd.DataFrame, variants: Sequence[TaskVariant], *, voltage_v: float,
                       random_state: int, max_train_rows: int | None, n_jobs: int = 1,
                       tables: dict | None = None) -> pd.DataFrame:
    """Metrics of every variant at one voltage; rows shared by variants are built once.

    Parameters
    ----------
    tables : dict, optional
        :func:`task_key` -> rows (``kcrit_gpa`` and element fractions)
        already at hand, e.g. the surrogate stage's training table.

    Returns
    -------
    pandas.DataFrame
        One row per variant and target set (``all_finite``, ``capped``).
    """
    tables = dict(tables or {})
    out = []
    for variant in variants:
        key = task_key(variant)
        if key not in tables:
            tables[key] = task_rows(screen, variant, voltage_v)
        if tables[key] is None or len(tables[key]) < MIN_TASK_ROWS:
            log.warning("surrogate variant %s: fewer than %d rows; left out", variant.name, MIN_TASK_ROWS)
            continue
        out += evaluate_task(tables[key], variant, voltage_v=voltage_v, random_state=random_state,
                             max_train_rows=max_train_rows, n_jobs=n_jobs)
    return pd.DataFrame(out, columns=list(TASK_COLUMNS))

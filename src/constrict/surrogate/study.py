"""How the default model's settings were chosen: target transform and tree size on the grouped split.

Each setting (:data:`DEFAULT_GRID`) is fitted on the grouped split's
training rows of one voltage and scored on its holdout over both target
sets, with its fit time and the node count of its largest tree. The
default settings (config ``surrogate``) are the ones with the lowest
grouped-split RMSE on the capped target set among those whose trees stay
below :data:`~constrict.surrogate.model.MAX_TREE_NODES` nodes; the numbers
are in docs/surrogate.md.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import numpy as np
import pandas as pd

from constrict.core.errors import ConstrictError
from constrict.surrogate.evaluation import SurrogateOptions, metric_rows
from constrict.surrogate.splits import grouped_split

log = logging.getLogger(__name__)

DEFAULT_GRID: tuple[dict, ...] = (
    {"target_transform": "raw", "min_samples_leaf": 5},
    {"target_transform": "capped", "min_samples_leaf": 5},
    {"target_transform": "log1p", "min_samples_leaf": 5},
    *({"target_transform": t, "min_samples_leaf": 1, "max_leaf_nodes": 16_383} for t in ("capped", "log1p")),
    {"target_transform": "capped", "min_samples_leaf": 2},
    *({"target_transform": t, "min_samples_leaf": m} for t in ("capped", "log1p") for m in (10, 20)),
    *({"target_transform": t, "min_samples_leaf": 5, "max_features": f}
      for t in ("capped", "log1p") for f in (0.33, 0.5)),
)
"""Settings compared: overrides of the KcritSurrogate constructor."""


def tree_size_study(
    table: pd.DataFrame,
    features: list[str],
    voltage_v: float,
    options: SurrogateOptions,
    grid: Sequence[dict] = DEFAULT_GRID,
) -> pd.DataFrame:
    """Grouped-split error, fit time and tree size of each setting at one voltage.

    Parameters
    ----------
    table : pandas.DataFrame
        Training rows of one voltage.
    features : list of str
        Element-fraction columns.
    voltage_v : float
        The voltage (V), a label.
    options : SurrogateOptions
        Everything not in a grid entry.
    grid : sequence of dict
        Constructor overrides, one per setting.

    Returns
    -------
    pandas.DataFrame
        One row per setting and target set: the setting's keys,
        ``max_tree_nodes``, ``fit_s`` and the metrics of
        :func:`~constrict.surrogate.evaluation.metric_rows`; a setting whose
        trees reach :data:`~constrict.surrogate.model.MAX_TREE_NODES` nodes
        gets one row with target_set ``"too_many_nodes"`` and no metrics.
    """
    train, test = grouped_split(table["group"], holdout_size=options.holdout_size, random_state=options.random_state)
    X = table[features]
    kcrit_gpa = table["kcrit_gpa"].to_numpy(dtype=float)
    rows = []
    for setting in grid:
        setting = {"max_leaf_nodes": None, "max_features": 1.0, **setting}
        start = time.perf_counter()
        try:
            model = options.surrogate(voltage_v, **setting).fit(X.iloc[train], kcrit_gpa[train])
        except ConstrictError as error:  # a tree too large for SHAP: the setting is out
            log.info("%g V %s: %s", voltage_v, setting, error)
            rows.append(dict(voltage_v=voltage_v, **setting, max_tree_nodes=np.nan, fit_s=np.nan,
                             n_train=len(train), target_set="too_many_nodes"))
            continue
        fit_s = time.perf_counter() - start
        labels = dict(voltage_v=voltage_v, **setting, max_tree_nodes=model.max_tree_nodes_, fit_s=fit_s,
                      n_train=len(train))
        got = metric_rows(kcrit_gpa[test], model.predict(X.iloc[test]), options.cap_gpa, **labels)
        log.info("%g V %s: fit %.1f s, %d nodes, RMSE %.2f GPa all, %.2f GPa capped", voltage_v, setting, fit_s,
                 model.max_tree_nodes_, got[0]["rmse_gpa"], got[1]["rmse_gpa"])
        rows += got
    return pd.DataFrame(rows)

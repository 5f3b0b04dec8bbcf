"""Honest evaluation: every model on every split, metrics over two target sets.

Models (:data:`MODELS`), all fitted on the same training rows and target
transform (so the baselines are fair):

- ``extra_trees``: :class:`~constrict.surrogate.model.KcritSurrogate`, the
  paper's model on element fractions (the default);
- ``mean``: predicts the training mean (of the transformed target);
- ``knn``: k nearest neighbours in element-fraction space (Euclidean,
  uniform weights, brute force);
- ``hist_gradient_boosting``: scikit-learn's HistGradientBoostingRegressor
  on element fractions (beyond the paper);
- ``extra_trees_magpie``: the same ExtraTrees on element fractions plus
  Magpie-style descriptors (:mod:`constrict.surrogate.descriptors`; beyond
  the paper).

Target sets (:data:`TARGET_SETS`): ``all_finite`` (every test row),
``capped`` (test rows with computed Kcrit <= cap_gpa) and ``determined``
(test rows whose linear Kcrit the data determine, docs/science.md
"Uncertainty of Kcrit"). The cap and the flag only select test rows.

Training rows (``training_rows``): ``all`` (every finite row, the runs of
:func:`plan`), and ``determined``: the default model and the mean baseline
trained and scored on the determined rows only, on the splits of
``determined_splits`` (the random one by default: the paper's protocol).
Their ``split`` reads ``<split>_determined`` (e.g. ``random_determined``:
the random split of the determined rows), so every existing selection of
the table, by split, model and target set, still finds one row.

Metrics (:func:`regression_metrics`): RMSE, MAE (GPa), R^2, the standard
deviation of the computed test values (GPa, ddof = 0) and RMSE / std
(= sqrt(1 - R^2)).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import pandas as pd
from sklearn.compose import TransformedTargetRegressor
from sklearn.dummy import DummyRegressor
from sklearn.ensemble import ExtraTreesRegressor, HistGradientBoostingRegressor
from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from threadpoolctl import threadpool_limits

from constrict.core.errors import ConfigError
from constrict.surrogate.descriptors import with_magpie
from constrict.surrogate.model import KcritSurrogate
from constrict.surrogate.splits import split_folds

log = logging.getLogger(__name__)

Model = Literal["extra_trees", "mean", "knn", "hist_gradient_boosting", "extra_trees_magpie"]
MODELS: tuple[str, ...] = get_args(Model)

TargetSet = Literal["all_finite", "capped", "determined"]
TARGET_SETS: tuple[str, ...] = get_args(TargetSet)

METRIC_COLUMNS = (
    "voltage_v", "split", "fold", "model", "target_transform", "target_set", "n_train", "n_test",
    "rmse_gpa", "mae_gpa", "r2", "std_gpa", "rmse_over_std", "fit_s", "training_rows",
)
"""Columns of the metrics table, one row per voltage x split x fold x model x transform x target set x training rows.

``fold`` is ``"holdout"`` for the random and grouped splits, the electrolyte
left out for the ``electrolyte`` split, plus ``"pooled"``: the metrics over
the test rows of all its folds together (n_train empty, fit_s summed)."""

PREDICTION_COLUMNS = ("split", "fold", "sei_composition", "kcrit_gpa", "predicted_gpa", "tree_std_gpa")
"""Columns of the test predictions of the default model."""


@dataclass(frozen=True)
class SurrogateOptions:
    """The surrogate block of the campaign config (defaults as in the schema).

    Attributes mirror ``workflow/schemas/config.schema.yaml`` (``surrogate``);
    ``random_state`` is the campaign's one seed.
    """

    n_estimators: int = 50
    min_samples_leaf: int = 5
    max_leaf_nodes: int | None = None
    max_features: float = 0.33
    target_transform: str = "capped"
    cap_gpa: float = 100.0
    holdout_size: int = 10_000
    n_neighbors: int = 5
    background_size: int = 100
    compare_transforms: tuple[str, ...] = ()
    compare_models: tuple[str, ...] = ()
    determined_splits: tuple[str, ...] = ("random",)
    random_state: int = 0
    n_jobs: int = 1

    @classmethod
    def from_config(cls, block: dict, *, random_state: int = 0, n_jobs: int = 1) -> SurrogateOptions:
        """Options from the ``surrogate`` block of a validated campaign config.

        Parameters
        ----------
        block : dict
            ``config["surrogate"]`` (``enabled`` and ``threads`` are the
            workflow's and are ignored here).
        random_state : int
            The campaign's ``random_state``.
        n_jobs : int
            Threads of the fits (the rule's ``threads``).
        """
        block = {k: v for k, v in block.items() if k not in ("enabled", "threads")}
        unknown = sorted(set(block) - set(cls.__dataclass_fields__))
        if unknown:
            raise ConfigError(f"config.surrogate: unknown key(s) {', '.join(unknown)}")
        for key in ("compare_transforms", "compare_models", "determined_splits"):
            if key in block:
                block[key] = tuple(block[key])
        return cls(**block, random_state=random_state, n_jobs=n_jobs)

    def surrogate(self, voltage_v: float | None = None, **overrides) -> KcritSurrogate:
        """The default model with these options (``overrides`` replace constructor arguments)."""
        params = dict(
            voltage_v=voltage_v, n_estimators=self.n_estimators, min_samples_leaf=self.min_samples_leaf,
            max_leaf_nodes=self.max_leaf_nodes, max_features=self.max_features,
            target_transform=self.target_transform, cap_gpa=self.cap_gpa,
            background_size=self.background_size, random_state=self.random_state, n_jobs=self.n_jobs,
        )
        return KcritSurrogate(**{**params, **overrides})


def _transformed(regressor, transform: str, cap_gpa: float) -> TransformedTargetRegressor:
    """``regressor`` learning the transformed target, answering in GPa."""
    if transform == "log1p":
        return TransformedTargetRegressor(regressor, func=np.log1p, inverse_func=np.expm1, check_inverse=False)
    if transform == "capped":
        cap = functools.partial(np.minimum, cap_gpa)
        return TransformedTargetRegressor(regressor, func=cap, inverse_func=np.asarray, check_inverse=False)
    return TransformedTargetRegressor(regressor)


def make_model(name: str, options: SurrogateOptions, *, voltage_v: float | None = None,
               target_transform: str | None = None, n_train: int | None = None):
    """An unfitted model of :data:`MODELS` taking a DataFrame of element fractions, predicting GPa.

    ``n_train`` (rows it will be fitted on) caps kNN's neighbours on tiny data.
    """
    transform = target_transform or options.target_transform
    if name == "extra_trees":
        return options.surrogate(voltage_v, target_transform=transform)
    if name == "mean":
        regressor = DummyRegressor()
    elif name == "knn":
        # brute force: exact, and faster than tree indices on ~80 sparse dimensions
        regressor = KNeighborsRegressor(n_neighbors=options.n_neighbors, algorithm="brute", n_jobs=options.n_jobs)
        if n_train is not None:
            regressor.set_params(n_neighbors=max(1, min(options.n_neighbors, n_train)))
    elif name == "hist_gradient_boosting":
        regressor = HistGradientBoostingRegressor(random_state=options.random_state)
    elif name == "extra_trees_magpie":
        regressor = make_pipeline(
            FunctionTransformer(with_magpie),
            ExtraTreesRegressor(n_estimators=options.n_estimators, min_samples_leaf=options.min_samples_leaf,
                                max_leaf_nodes=options.max_leaf_nodes, max_features=options.max_features,
                                random_state=options.random_state,
                                n_jobs=options.n_jobs),
        )
    else:
        raise ConfigError(f"model must be one of {', '.join(MODELS)}, not {name!r}")
    return _transformed(regressor, transform, options.cap_gpa)


def regression_metrics(kcrit_gpa: np.ndarray, predicted_gpa: np.ndarray) -> dict[str, float]:
    """RMSE, MAE (GPa), R^2, std of the computed values (GPa, ddof = 0) and RMSE / std.

    Parameters
    ----------
    kcrit_gpa, predicted_gpa : ndarray of shape (n_rows,)
        Computed and predicted Kcrit (GPa). Fewer than two rows give NaN.
    """
    if len(kcrit_gpa) < 2:
        return dict.fromkeys(("rmse_gpa", "mae_gpa", "r2", "std_gpa", "rmse_over_std"), np.nan)
    rmse = float(root_mean_squared_error(kcrit_gpa, predicted_gpa))
    std = float(np.std(kcrit_gpa))
    return {
        "rmse_gpa": rmse,
        "mae_gpa": float(mean_absolute_error(kcrit_gpa, predicted_gpa)),
        "r2": float(r2_score(kcrit_gpa, predicted_gpa)),
        "std_gpa": std,
        "rmse_over_std": rmse / std if std > 0 else np.nan,
    }


def metric_rows(kcrit_gpa: np.ndarray, predicted_gpa: np.ndarray, cap_gpa: float, determined: np.ndarray | None = None,
                **labels) -> list[dict]:
    """One metrics row per target set, each carrying ``labels`` (voltage_v, split, fold, model, ...).

    ``determined`` (bool, shape (n_rows,)) selects the ``determined`` set;
    without it that set is left out.
    """
    rows = []
    for target_set in TARGET_SETS:
        if target_set == "determined" and determined is None:
            continue
        if target_set == "all_finite":
            keep = np.ones(len(kcrit_gpa), bool)
        else:
            keep = kcrit_gpa <= cap_gpa if target_set == "capped" else np.asarray(determined, dtype=bool)
        rows.append({**labels, "target_set": target_set, "n_test": int(keep.sum()),
                     **regression_metrics(kcrit_gpa[keep], predicted_gpa[keep])})
    return rows


@dataclass
class VoltageEvaluation:
    """Everything :func:`evaluate_voltage` produces for one voltage.

    Attributes
    ----------
    metrics : pandas.DataFrame
        :data:`METRIC_COLUMNS`.
    predictions : pandas.DataFrame
        Test rows of the default model: split, fold, sei_composition,
        kcrit_gpa, predicted_gpa (GPa), tree_std_gpa (spread of the trees).
    model : KcritSurrogate
        The default model fitted on the random split's training rows (so
        its holdout metrics are honest); ``info_`` holds them.
    """

    metrics: pd.DataFrame
    predictions: pd.DataFrame
    model: KcritSurrogate


def plan(options: SurrogateOptions, splits: Iterable[str]) -> list[tuple[str, str, str]]:
    """The (split, model, target transform) runs of :func:`evaluate_voltage`.

    The default model and both baselines on every split; the other target
    transforms (``compare_transforms``) and the models beyond the paper
    (``compare_models``) on the grouped split only.
    """
    runs = [(s, m, options.target_transform) for s in splits for m in ("extra_trees", "mean", "knn")]
    if "grouped" in splits:
        runs += [("grouped", "extra_trees", t) for t in options.compare_transforms if t != options.target_transform]
        runs += [("grouped", m, options.target_transform) for m in options.compare_models]
    return runs


def determined_plan(options: SurrogateOptions, splits: Iterable[str]) -> list[tuple[str, str, str]]:
    """The (split, model, target transform) runs on the determined rows: default model and mean baseline."""
    return [(s, m, options.target_transform) for s in options.determined_splits if s in splits
            for m in ("extra_trees", "mean")]


def _score(table: pd.DataFrame, features: list[str], voltage_v: float, options: SurrogateOptions, splits: list[str],
           runs: list[tuple[str, str, str]], training_rows: str) -> tuple[list[dict], list[pd.DataFrame], object]:
    """Fit and score ``runs`` on ``table``: metric rows, the default model's test predictions and the saved model.

    Predictions and the saved model are kept only for ``training_rows == "all"``.
    """
    X = table[features]
    kcrit_gpa = table["kcrit_gpa"].to_numpy(dtype=float)
    determined = table["kcrit_determined"].to_numpy(dtype=bool) if "kcrit_determined" in table else None
    folds = {s: list(split_folds(s, table, holdout_size=options.holdout_size, random_state=options.random_state))
             for s in splits}
    metrics, predictions, saved = [], [], None
    for split, name, transform in runs:
        pooled = []  # (computed, predicted, fit_s, test) of every fold: the pooled row of a split with several folds
        for fold, train, test in folds[split]:
            start = time.perf_counter()
            model = make_model(name, options, voltage_v=voltage_v, target_transform=transform, n_train=len(train))
            # HistGradientBoosting's OpenMP barriers stall when the cores are shared; one thread is fast enough
            with threadpool_limits(1, user_api="openmp") if name == "hist_gradient_boosting" else nullcontext():
                model.fit(X.iloc[train], kcrit_gpa[train])
                fit_s = time.perf_counter() - start
                predicted_gpa = model.predict(X.iloc[test])
            label = split if training_rows == "all" else f"{split}_{training_rows}"
            labels = dict(voltage_v=voltage_v, split=label, fold=fold, model=name, target_transform=transform,
                          n_train=len(train), fit_s=fit_s, training_rows=training_rows)
            rows = metric_rows(kcrit_gpa[test], predicted_gpa, options.cap_gpa,
                               None if determined is None else determined[test], **labels)
            metrics += rows
            pooled.append((kcrit_gpa[test], predicted_gpa, fit_s, test))
            log.info("%g V %s/%s %s (%s, %s rows): fit %.1f s, RMSE %.2f GPa all, %.2f GPa <= %g GPa", voltage_v,
                     split, fold, name, transform, training_rows, fit_s, rows[0]["rmse_gpa"], rows[1]["rmse_gpa"],
                     options.cap_gpa)
            if name == "extra_trees" and transform == options.target_transform and training_rows == "all":
                predictions.append(pd.DataFrame({
                    "split": split, "fold": fold, "sei_composition": table["sei_composition"].to_numpy()[test],
                    "kcrit_gpa": kcrit_gpa[test], "predicted_gpa": predicted_gpa,
                    "tree_std_gpa": model.predict_trees(X.iloc[test]).std(axis=1),
                }))
                if split == "random":
                    keys = ("n_test", "rmse_gpa", "mae_gpa", "r2")
                    model.set_info(holdout={r["target_set"]: {k: r[k] for k in keys} for r in rows})
                    saved = model
        if len(pooled) > 1:
            computed = np.concatenate([c for c, _, _, _ in pooled])
            predicted = np.concatenate([p for _, p, _, _ in pooled])
            tests = np.concatenate([t for _, _, _, t in pooled])
            metrics += metric_rows(computed, predicted, options.cap_gpa,
                                   None if determined is None else determined[tests], voltage_v=voltage_v,
                                   split=label, fold="pooled", model=name, target_transform=transform, n_train=np.nan,
                                   fit_s=sum(f for _, _, f, _ in pooled), training_rows=training_rows)
    return metrics, predictions, saved


def evaluate_voltage(
    table: pd.DataFrame,
    features: list[str],
    voltage_v: float,
    options: SurrogateOptions,
    *,
    splits: Iterable[str] = ("random", "grouped", "electrolyte"),
) -> VoltageEvaluation:
    """Fit and score the planned runs (:func:`plan`, then :func:`determined_plan`) on the rows of one voltage.

    Parameters
    ----------
    table : pandas.DataFrame
        Training table rows of this voltage (:func:`~constrict.surrogate.data.at_voltage`).
    features : list of str
        Element-fraction columns.
    voltage_v : float
        The voltage (V), a label.
    options : SurrogateOptions
    splits : iterable of str
        Of :data:`~constrict.surrogate.splits.SPLITS`.

    Returns
    -------
    VoltageEvaluation
        Each fit is logged (module logger) with its time and RMSE.
    """
    splits = list(splits)
    metrics, predictions, saved = _score(table, features, voltage_v, options, splits, plan(options, splits), "all")
    determined = table["kcrit_determined"].to_numpy(dtype=bool) if "kcrit_determined" in table else None
    runs = determined_plan(options, splits)
    if runs and determined is not None and determined.sum() >= 2:
        rows = table[determined].reset_index(drop=True)
        metrics += _score(rows, features, voltage_v, options, sorted({s for s, _, _ in runs}), runs, "determined")[0]
    if saved is None:  # no random split (too few rows, or not asked for): fitted on every row, no holdout metric
        saved = options.surrogate(voltage_v).fit(table[features], table["kcrit_gpa"].to_numpy(dtype=float))
        saved.set_info(holdout={})
        log.warning("%g V: no random holdout (%d rows); the saved model is fitted on all of them", voltage_v,
                    len(table))
    metrics = pd.DataFrame(metrics, columns=list(METRIC_COLUMNS))
    predictions = pd.concat(predictions, ignore_index=True) if predictions else pd.DataFrame(columns=PREDICTION_COLUMNS)
    return VoltageEvaluation(metrics, predictions, saved)

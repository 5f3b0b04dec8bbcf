"""The Kcrit surrogate: ExtraTrees on SEI element fractions, one model per voltage.

:class:`KcritSurrogate` is a scikit-learn regressor (the constructor stores,
``fit`` works and returns ``self``) that reads compositions in any form
:func:`~constrict.surrogate.compositions.fraction_frame` accepts and answers
in GPa. It also gives the spread over its trees and SHAP values, and saves
to / loads from a skops file with its metadata
(:mod:`constrict.surrogate.persist`).

Tree size: shap 0.51's interventional TreeExplainer indexes nodes with 16
bits and crashes on a tree of 32,767 nodes or more; its path-dependent
algorithm is wrong on very deep trees. The trees are therefore bounded
(``min_samples_leaf``, ``max_leaf_nodes``) and checked when fitted and
loaded (:func:`check_tree_size`).
"""

from __future__ import annotations

from numbers import Integral, Real
from pathlib import Path
from typing import Literal, get_args

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.ensemble import ExtraTreesRegressor
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions
from sklearn.utils.validation import check_is_fitted

from constrict.core.errors import ConfigError, ConstrictError
from constrict.surrogate import persist
from constrict.surrogate.compositions import Compositions, fraction_frame

TargetTransform = Literal["raw", "capped", "log1p"]
TARGET_TRANSFORMS: tuple[str, ...] = get_args(TargetTransform)

MAX_TREE_NODES = 32_767
"""Every tree must have fewer nodes than this (shap's 16-bit node index)."""

MAX_LEAF_NODES = (MAX_TREE_NODES - 1) // 2
"""Largest ``max_leaf_nodes`` that keeps a binary tree below :data:`MAX_TREE_NODES`
(a tree with L leaves has 2 L - 1 nodes): 16,383."""


def check_tree_size(forest) -> int:
    """The largest node count of a fitted forest's trees; raise if one reaches :data:`MAX_TREE_NODES`.

    Raises
    ------
    ConstrictError
        Names the tree, its node count and the fix.
    """
    counts = [tree.tree_.node_count for tree in forest.estimators_]
    worst = int(np.argmax(counts))
    if counts[worst] >= MAX_TREE_NODES:
        raise ConstrictError(
            f"tree {worst} has {counts[worst]} nodes; SHAP needs fewer than {MAX_TREE_NODES}: "
            f"set surrogate.max_leaf_nodes <= {MAX_LEAF_NODES} or raise surrogate.min_samples_leaf"
        )
    return counts[worst]


class KcritSurrogate(RegressorMixin, BaseEstimator):
    """Linear Kcrit (GPa) of an SEI composition at one voltage, learned from the screen.

    Parameters
    ----------
    voltage_v : float, optional
        Voltage (V vs. the working-ion metal) of the training targets; a
        label, carried into the saved file and every printout.
    n_estimators : int, default 50
        Trees of the ExtraTreesRegressor (the paper uses 30 and 50).
    min_samples_leaf : int, default 5
        Fewest training rows per leaf; bounds the tree size.
    max_leaf_nodes : int or None, default None
        Most leaves per tree (<= :data:`MAX_LEAF_NODES`); None = bounded by
        ``min_samples_leaf`` alone, checked at fit.
    max_features : float, default 0.33
        Share of the elements drawn as split candidates at each node
        (scikit-learn's default for regression is 1.0, all of them; a third
        is as accurate on the grouped split and three times faster).
    target_transform : {"raw", "capped", "log1p"}, default "capped"
        What the trees learn: Kcrit itself, min(Kcrit, cap_gpa), or
        log1p(Kcrit / GPa). Predictions are always in GPa (transformed back).
    cap_gpa : float, default 100
        Cap of the ``capped`` transform (GPa).
    background_size : int, default 100
        Rows of the training features kept as the background of
        interventional SHAP, drawn with ``random_state``.
    random_state : int, default 0
        Seeds the trees (feature and threshold draws) and the background draw.
    n_jobs : int, optional
        Threads for fitting (scikit-learn's ``n_jobs``). Predictions use one
        thread, so that they are bit-reproducible.

    Attributes
    ----------
    features_ : list of str, length n_features
        The elements, in column order.
    estimator_ : sklearn.ensemble.ExtraTreesRegressor
        The fitted forest (on the transformed target).
    background_ : pandas.DataFrame of shape (background_size, n_features)
        SHAP background rows (element fractions).
    max_tree_nodes_ : int
        Node count of the largest tree.
    info_ : dict
        n_train and training_data_sha256 (:func:`~constrict.surrogate.data.data_hash`);
        the training pipeline adds the holdout metrics and the data source.

    Examples
    --------
    >>> model = KcritSurrogate(voltage_v=4.0).fit(X, y)     # doctest: +SKIP
    >>> model.predict(["Li0.364P0.110S0.388I0.138"])        # doctest: +SKIP
    array([...])
    """

    _parameter_constraints: dict = {
        "voltage_v": [Real, None],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "min_samples_leaf": [Interval(Integral, 1, None, closed="left")],
        "max_leaf_nodes": [Interval(Integral, 2, MAX_LEAF_NODES, closed="both"), None],
        "max_features": [Interval(Real, 0.0, 1.0, closed="right")],
        "target_transform": [StrOptions(set(TARGET_TRANSFORMS))],
        "cap_gpa": [Interval(Real, 0.0, None, closed="neither")],
        "background_size": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }
    """scikit-learn's parameter constraints, checked at :meth:`fit` (one ConfigError line)."""

    def __init__(
        self,
        *,
        voltage_v: float | None = None,
        n_estimators: int = 50,
        min_samples_leaf: int = 5,
        max_leaf_nodes: int | None = None,
        max_features: float = 0.33,
        target_transform: TargetTransform = "capped",
        cap_gpa: float = 100.0,
        background_size: int = 100,
        random_state: int = 0,
        n_jobs: int | None = None,
    ):
        self.voltage_v = voltage_v
        self.n_estimators = n_estimators
        self.min_samples_leaf = min_samples_leaf
        self.max_leaf_nodes = max_leaf_nodes
        self.max_features = max_features
        self.target_transform = target_transform
        self.cap_gpa = cap_gpa
        self.background_size = background_size
        self.random_state = random_state
        self.n_jobs = n_jobs

    # -- fitting -----------------------------------------------------------

    def _check_params(self) -> None:
        """Validate the constructor parameters (:attr:`_parameter_constraints`); one ConfigError line."""
        try:
            self._validate_params()
        except InvalidParameterError as exc:
            raise ConfigError(str(exc).splitlines()[0]) from None

    def _forward(self, kcrit_gpa: np.ndarray) -> np.ndarray:
        if self.target_transform == "log1p":
            return np.log1p(kcrit_gpa)
        if self.target_transform == "capped":
            return np.minimum(kcrit_gpa, self.cap_gpa)
        return kcrit_gpa

    def _inverse(self, output: np.ndarray) -> np.ndarray:
        return np.expm1(output) if self.target_transform == "log1p" else output

    def fit(self, X: pd.DataFrame, y) -> KcritSurrogate:
        """Fit the forest.

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_rows, n_features)
            Element atom fractions; the column names become ``features_``.
        y : array-like of shape (n_rows,)
            Linear Kcrit (GPa), finite and >= 0.

        Returns
        -------
        self

        Raises
        ------
        ConstrictError
            Non-finite or negative targets, or a tree of too many nodes.
        """
        from constrict.surrogate.data import data_hash

        self._check_params()
        if not isinstance(X, pd.DataFrame):
            raise ConstrictError("X must be a DataFrame of element fractions (its columns name the elements)")
        kcrit_gpa = np.asarray(y, dtype=float)
        if kcrit_gpa.shape != (len(X),) or not np.isfinite(kcrit_gpa).all() or (kcrit_gpa < 0).any():
            raise ConstrictError(f"y must hold {len(X)} finite Kcrit values >= 0 GPa")
        self.features_ = [str(c) for c in X.columns]
        self.estimator_ = ExtraTreesRegressor(
            n_estimators=self.n_estimators, min_samples_leaf=self.min_samples_leaf,
            max_leaf_nodes=self.max_leaf_nodes, max_features=self.max_features,
            random_state=self.random_state, n_jobs=self.n_jobs,
        ).fit(X.to_numpy(dtype=float), self._forward(kcrit_gpa))
        self.max_tree_nodes_ = check_tree_size(self.estimator_)
        # threads sum the trees in the order they finish, which moves the last
        # bits; one thread predicts bit-reproducibly (and fast enough)
        self.estimator_.set_params(n_jobs=1)
        n_background = min(self.background_size, len(X))
        self.background_ = X.sample(n=n_background, random_state=self.random_state).reset_index(drop=True)
        self.n_features_in_ = len(self.features_)
        self.feature_names_in_ = np.asarray(self.features_, dtype=object)
        self.info_ = {"n_train": len(X), "training_data_sha256": data_hash(X, kcrit_gpa)}
        return self

    def set_info(self, **items) -> KcritSurrogate:
        """Record metadata in ``info_`` (e.g. ``holdout=...``, ``training_data=...``); the one writer of it.

        Parameters
        ----------
        **items
            JSON-able values, saved with the model.

        Returns
        -------
        self
        """
        check_is_fitted(self)
        self.info_ = {**self.info_, **items}
        return self

    # -- predicting --------------------------------------------------------

    @property
    def features(self) -> list[str]:
        """The elements the model reads, in column order (``features_``)."""
        check_is_fitted(self)
        return self.features_

    def features_of(self, X: Compositions) -> pd.DataFrame:
        """Element fractions of ``X`` in the model's columns (see :func:`fraction_frame`).

        Returns
        -------
        pandas.DataFrame of shape (n_compositions, n_features)
        """
        check_is_fitted(self)
        return fraction_frame(X, self.features_)

    def predict(self, X: Compositions) -> np.ndarray:
        """Predicted linear Kcrit.

        Parameters
        ----------
        X : DataFrame of element fractions, formula, mapping or sequence of them
            See :func:`~constrict.surrogate.compositions.fraction_frame`;
            unknown elements and unparsable formulas raise ConstrictError.

        Returns
        -------
        ndarray of shape (n_compositions,)
            Kcrit (GPa).
        """
        values = self.features_of(X).to_numpy()
        return self._inverse(self.estimator_.predict(values))

    def predict_trees(self, X: Compositions) -> np.ndarray:
        """Each tree's prediction, for the spread of the ensemble.

        Returns
        -------
        ndarray of shape (n_compositions, n_estimators)
            Kcrit (GPa) of every tree, transformed back; for ``raw`` and
            ``capped`` their mean is :meth:`predict`.
        """
        values = self.features_of(X).to_numpy()
        outputs = np.column_stack([tree.predict(values) for tree in self.estimator_.estimators_])
        return self._inverse(outputs)

    def explain(self, X: Compositions) -> pd.DataFrame:
        """SHAP values of each element (interventional TreeExplainer, additivity checked).

        Parameters
        ----------
        X : DataFrame of element fractions, formula, mapping or sequence of them

        Returns
        -------
        pandas.DataFrame of shape (n_compositions, n_features)
            Contribution of each element to the model output, in the
            output's unit: GPa for ``raw`` and ``capped``, log1p(Kcrit / GPa)
            for ``log1p``. Each row plus ``attrs["base_value"]`` (the mean
            output over ``background_``) sums to the output.
            ``attrs["output"]`` names the unit.

        Notes
        -----
        The background is ``background_`` (stored with the model), so the
        values are reproducible. About 0.02 s per row for 50 trees.
        """
        frame = self.features_of(X)
        explainer = self._tree_explainer()
        values = explainer.shap_values(frame.to_numpy(), check_additivity=True)
        out = pd.DataFrame(values, columns=self.features_)
        out.attrs["base_value"] = float(np.ravel(explainer.expected_value)[0])
        out.attrs["output"] = "log1p(kcrit_gpa)" if self.target_transform == "log1p" else "kcrit_gpa"
        return out

    def _tree_explainer(self):
        """The interventional TreeExplainer over ``background_``, built once per fitted forest."""
        import shap

        cached = getattr(self, "_explainer", None)
        if cached is None or cached[0] is not self.estimator_:
            explainer = shap.TreeExplainer(
                self.estimator_, data=self.background_.to_numpy(), feature_perturbation="interventional"
            )
            self._explainer = cached = (self.estimator_, explainer)
        return cached[1]

    # -- persistence -------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Write the fitted model and its metadata to a skops file (:func:`~constrict.surrogate.persist.save`)."""
        return persist.save(self, path)

    @classmethod
    def load(cls, path: str | Path) -> KcritSurrogate:
        """Read a model written by :meth:`save`, versions checked (:func:`load`)."""
        return load(path)


def load(path: str | Path) -> KcritSurrogate:
    """Read a model written by :meth:`KcritSurrogate.save`.

    Parameters
    ----------
    path : str or Path
        A ``.skops`` file (:func:`~constrict.surrogate.persist.read` audits it).

    Returns
    -------
    KcritSurrogate
        Fitted, with ``features_``, ``n_features_in_``, ``estimator_``,
        ``background_``, ``max_tree_nodes_`` and ``info_``
        (``info_["versions"]``: the versions it was written with,
        ``info_["path"]``: the file).

    Raises
    ------
    ConstrictError
        Missing file, another scikit-learn version, untrusted types, a
        foreign format or damaged trees (one line each).
    """
    payload = persist.read(path)
    features = list(payload["features"])
    model = KcritSurrogate(**payload["params"])
    model.features_ = features
    model.n_features_in_ = len(features)
    model.feature_names_in_ = np.asarray(features, dtype=object)
    model.estimator_ = payload["estimator"]
    model.max_tree_nodes_ = check_tree_size(model.estimator_)
    model.background_ = pd.DataFrame(payload["background"], columns=features)
    model.info_ = {**payload["info"], "versions": payload["versions"], "path": str(Path(path))}
    return model

"""Kcrit surrogate: ExtraTrees on SEI element fractions, one model per voltage (docs/surrogate.md).

Public API (what the design step uses)::

    from constrict.surrogate import KcritSurrogate, load_model, find_model

    model = load_model(find_model(voltage_v=4.0))   # results/surrogate/models/kcrit_4V.skops
    model.features                                  # elements, column order
    model.voltage_v                                 # 4.0
    model.predict(["Li0.364P0.110S0.388I0.138"])    # ndarray (n,), GPa
    model.predict_trees(frame)                      # ndarray (n, n_estimators), GPa
    model.explain(frame)                            # DataFrame (n, n_features), SHAP
    model.save(path); KcritSurrogate.load(path)

Modules, one concept each: :mod:`~constrict.surrogate.data` (training
table, exclusions, groups), :mod:`~constrict.surrogate.compositions`
(inputs -> fractions), :mod:`~constrict.surrogate.splits`,
:mod:`~constrict.surrogate.model`, :mod:`~constrict.surrogate.persist`
(skops files), :mod:`~constrict.surrogate.locate` (where models live),
:mod:`~constrict.surrogate.evaluation` (models x splits -> metrics),
:mod:`~constrict.surrogate.descriptors` (Magpie-style features),
:mod:`~constrict.surrogate.study` (transform and tree size),
:mod:`~constrict.surrogate.plots` (parity plots),
:mod:`~constrict.surrogate.pipeline` (the steps the rules call) and
:mod:`~constrict.surrogate.cli` (``constrict predict``).
"""

from constrict.surrogate.compositions import UnknownElementError, fraction_frame
from constrict.surrogate.locate import find_model, model_path, models_dir
from constrict.surrogate.model import MAX_LEAF_NODES, MAX_TREE_NODES, TARGET_TRANSFORMS, KcritSurrogate, load
from constrict.surrogate.persist import VersionWarning

load_model = load
"""Read a saved surrogate (:func:`constrict.surrogate.model.load`)."""

__all__ = [
    "KcritSurrogate",
    "MAX_LEAF_NODES",
    "MAX_TREE_NODES",
    "TARGET_TRANSFORMS",
    "UnknownElementError",
    "VersionWarning",
    "find_model",
    "fraction_frame",
    "load_model",
    "model_path",
    "models_dir",
]

"""How far a design sits from the surrogate's data: spread across its trees, distance to the nearest training SEI.

The surrogate learned Kcrit from SEI compositions of the screen; a design
far from all of them is an extrapolation. Two measures, both per design:

- ``tree_std_gpa``: standard deviation of the trees' predictions (GPa);
- ``nearest_distance``: Euclidean distance in atom-fraction space (all the
  model's elements) to the nearest SEI composition of the training table
  at the model's voltage.

A design is flagged ``far`` when ``nearest_distance`` exceeds a threshold
(config ``design.far_distance``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from constrict.design.shap_route import Surrogate

CHUNK_ROWS = 2_000
"""Designs compared with the training compositions per block (bounds memory)."""


def training_compositions(table_path: str | Path, voltage_v: float, features: list[str]) -> np.ndarray:
    """SEI compositions of the surrogate's training table at one voltage.

    Parameters
    ----------
    table_path : str or Path
        The training table (results/surrogate/training_table.parquet,
        :func:`constrict.surrogate.data.training_table`).
    voltage_v : float
        The model's voltage (V).
    features : list of str
        The model's elements (column order).

    Returns
    -------
    ndarray of shape (n_rows, n_features)
        Atom fractions. The holdout rows are included, so this is the data
        the screen offers, a slight superset of what the model was fitted on.
    """
    from constrict.surrogate.data import at_voltage, element_columns

    table = pd.read_parquet(table_path)
    rows = at_voltage(table, voltage_v)
    return rows[element_columns(table)].reindex(columns=features, fill_value=0.0).to_numpy(dtype=float)


def nearest_distance(designs: np.ndarray, training: np.ndarray) -> np.ndarray:
    """Euclidean distance of each design to its nearest training composition.

    Parameters
    ----------
    designs : ndarray of shape (n_designs, n_features)
    training : ndarray of shape (n_rows, n_features)

    Returns
    -------
    ndarray of shape (n_designs,)
        Atom fraction (L2); NaN when there are no training rows.
    """
    designs = np.atleast_2d(np.asarray(designs, dtype=float))
    if not len(training):
        return np.full(len(designs), np.nan)
    norms = (training**2).sum(axis=1)
    out = np.empty(len(designs))
    for i in range(0, len(designs), CHUNK_ROWS):
        block = designs[i:i + CHUNK_ROWS]
        squared = (block**2).sum(axis=1)[:, None] - 2.0 * block @ training.T + norms[None, :]
        out[i:i + CHUNK_ROWS] = np.sqrt(np.maximum(squared.min(axis=1), 0.0))
    return out


def data_distance(model: Surrogate, formulas: list[str], training: np.ndarray | None) -> pd.DataFrame:
    """Spread across trees and distance to the data for each design.

    Parameters
    ----------
    model : Surrogate
    formulas : list of str, length n_designs
    training : ndarray of shape (n_rows, n_features) or None
        Training compositions in the model's columns (None: distance NaN).

    Returns
    -------
    pandas.DataFrame of shape (n_designs, 2)
        ``tree_std_gpa`` (GPa) and ``nearest_distance`` (atom fraction).
    """
    from constrict.surrogate import fraction_frame

    trees = model.predict_trees(formulas)
    if training is None:
        distance = np.full(len(formulas), np.nan)
    else:
        distance = nearest_distance(fraction_frame(list(formulas), model.features).to_numpy(), training)
    return pd.DataFrame({"tree_std_gpa": trees.std(axis=1), "nearest_distance": distance})

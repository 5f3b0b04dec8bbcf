"""Compositions in, element-fraction features out (what a surrogate predicts on).

A surrogate reads the atom fractions of its elements (its ``features``).
Anything the caller gives is checked against them: an element the model
never saw, a formula pymatgen cannot parse, a negative or empty amount is
refused with a one-line :class:`~constrict.core.errors.ConstrictError`, never
silently dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from constrict.core.errors import ConstrictError
from constrict.data.entries import parse_composition

Compositions = pd.DataFrame | Sequence[str | Mapping[str, float]] | str | Mapping[str, float]
"""What ``predict``, ``predict_trees`` and ``explain`` accept (see :func:`fraction_frame`)."""


class UnknownElementError(ConstrictError):
    """A composition holds an element that the surrogate never saw in training."""


def _amounts(item) -> dict[str, float]:
    """Element -> amount of one formula string, mapping or pymatgen Composition."""
    if isinstance(item, Mapping):
        return {str(k): float(v) for k, v in item.items()}
    comp = parse_composition(item)
    return {str(el): float(amount) for el, amount in comp.get_el_amt_dict().items()}


def fraction_frame(compositions: Compositions, features: Sequence[str]) -> pd.DataFrame:
    """Atom fractions of each composition over the model's elements.

    Parameters
    ----------
    compositions : DataFrame, str, mapping or sequence of str / mapping
        - a DataFrame of shape (n_compositions, n_columns), one column per
          element (any subset of ``features``, any order), amounts or
          fractions of atoms;
        - a formula (``"Li0.364P0.110S0.388I0.138"``, ``"Li3PS4"``) or a
          mapping element -> amount, or a sequence of them, or of pymatgen
          Compositions.
        Amounts are normalised to atom fractions (each row sums to 1).
    features : sequence of str, length n_features
        The model's elements, in its column order.

    Returns
    -------
    pandas.DataFrame of shape (n_compositions, n_features)
        Atom fractions, columns ``features``, 0 where absent.

    Raises
    ------
    UnknownElementError
        An element outside ``features`` with a non-zero amount.
    ConstrictError
        A formula that does not parse, a negative or non-finite amount, or
        a composition with no atoms.
    """
    features = list(features)
    if isinstance(compositions, pd.DataFrame):
        frame = compositions.copy()
        frame.columns = [str(c) for c in frame.columns]
    else:
        single = isinstance(compositions, str | Mapping) or hasattr(compositions, "elements")
        items = [compositions] if single else compositions
        frame = pd.DataFrame.from_records([_amounts(item) for item in items])
    try:
        frame = frame.astype(float).fillna(0.0)
    except (TypeError, ValueError):
        text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
        raise ConstrictError(f"amounts must be numbers; column(s) {', '.join(text)} are not") from None
    values = frame.to_numpy()
    if not np.isfinite(values).all() or (values < 0).any():
        raise ConstrictError("amounts must be finite and >= 0")
    known = set(features)
    unknown = sorted(c for c in frame.columns if c not in known and (frame[c] != 0).any())
    if unknown:
        raise UnknownElementError(
            f"element(s) {', '.join(unknown)} never seen in the surrogate's training data; "
            f"it knows {len(features)} elements: {' '.join(features)}"
        )
    frame = frame.reindex(columns=features, fill_value=0.0)
    total = frame.sum(axis=1).to_numpy()
    if len(frame) == 0:
        raise ConstrictError("no composition given")
    if (total <= 0).any():
        raise ConstrictError(f"composition {int(np.argmax(total <= 0))} has no atoms of the model's elements")
    return frame.div(total, axis=0).reset_index(drop=True)

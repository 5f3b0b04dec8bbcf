"""Magpie-style composition descriptors from pymatgen's element data (beyond the paper).

For each composition and each element property: the fraction-weighted
mean and standard deviation, and the minimum, maximum and range over the
elements present (Ward et al., npj Comput. Mater. 2, 16028 (2016), the
"Magpie" set, on a smaller list of properties). matminer's presets would
do this but need pandas < 3 and scikit-learn ~1.3, so they cannot sit
beside our pins. An element without a value of a property takes the mean
of that property over the model's elements.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

PROPERTIES = (
    "Z", "atomic_mass", "X", "atomic_radius", "row", "group", "mendeleev_no", "ionization_energy",
)
"""pymatgen ``Element`` attributes used (Z, amu, Pauling electronegativity,
Å, period, group, Mendeleev number, first ionisation energy in eV)."""

STATISTICS = ("mean", "std", "min", "max", "range")


@functools.cache
def element_properties(elements: tuple[str, ...]) -> pd.DataFrame:
    """Property table of the elements.

    Returns
    -------
    pandas.DataFrame of shape (n_elements, n_properties)
        Index ``elements``, columns :data:`PROPERTIES`; missing values
        filled with the column mean.
    """
    from pymatgen.core import Element

    def value(element, name):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pymatgen warns about missing data
            try:
                got = getattr(Element(element), name)
            except (AttributeError, ValueError, KeyError):
                return np.nan
        return np.nan if got is None else float(got)

    table = pd.DataFrame({name: [value(e, name) for e in elements] for name in PROPERTIES}, index=list(elements))
    return table.fillna(table.mean())


def magpie_features(fractions: pd.DataFrame) -> pd.DataFrame:
    """Weighted statistics of element properties.

    Parameters
    ----------
    fractions : pandas.DataFrame of shape (n_rows, n_elements)
        Atom fractions; columns are element symbols.

    Returns
    -------
    pandas.DataFrame of shape (n_rows, n_properties * 5)
        Columns ``<property>_<statistic>`` for :data:`STATISTICS`.
    """
    weights = fractions.to_numpy(dtype=float)
    props = element_properties(tuple(map(str, fractions.columns)))
    present = weights > 0
    out = {}
    for name in PROPERTIES:
        p = props[name].to_numpy()
        mean = weights @ p
        out[f"{name}_mean"] = mean
        out[f"{name}_std"] = np.sqrt(np.clip(weights @ (p * p) - mean * mean, 0, None))
        low = np.where(present, p, np.inf).min(axis=1)
        high = np.where(present, p, -np.inf).max(axis=1)
        out[f"{name}_min"], out[f"{name}_max"], out[f"{name}_range"] = low, high, high - low
    return pd.DataFrame(out, index=fractions.index)


def with_magpie(fractions: pd.DataFrame) -> pd.DataFrame:
    """The fractions followed by their :func:`magpie_features` (n_elements + 40 columns)."""
    return pd.concat([fractions, magpie_features(fractions)], axis=1)


def feature_names(elements: Sequence[str]) -> list[str]:
    """Column names of :func:`with_magpie` for these elements."""
    return [*elements, *(f"{p}_{s}" for p in PROPERTIES for s in STATISTICS)]

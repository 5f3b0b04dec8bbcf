"""Train/test splits of a training table (rows of one voltage).

- ``random``: the paper's protocol, a holdout of ``holdout_size`` rows (or
  1/8 of the rows when that is fewer, :func:`holdout_count`) drawn with the
  seed, never trained on.
- ``grouped``: a holdout of the same fraction of rows drawn by whole groups
  (``group`` column: coating chemical systems joined by shared SEIs,
  :mod:`constrict.surrogate.data`), so no coating chemical system and no
  SEI sits on both sides (leave-cluster-out, Meredig et al. 2018).
- ``electrolyte``: leave one electrolyte out, one fold per electrolyte; a
  row belongs to the test side of every electrolyte that formed it and is
  trained on only in folds of other electrolytes.

Every split returns positional index arrays into the table's rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal, get_args

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupShuffleSplit, train_test_split

from constrict.core.errors import ConfigError

Split = Literal["random", "grouped", "electrolyte"]
SPLITS: tuple[str, ...] = get_args(Split)

SMALL_FRACTION = 1 / 8
"""Holdout fraction when ``holdout_size`` would be more than this share of the rows."""


def holdout_count(n_rows: int, holdout_size: int = 10_000) -> int:
    """Rows held out: ``holdout_size``, or ``n_rows / 8`` (rounded, at least 1) when that is fewer.

    10,000 of the paper's ~80,000 interfaces is 1/8; a smaller data set keeps
    that share rather than losing most of its rows to the holdout. Fewer than
    two rows cannot be split: 0.
    """
    if n_rows < 2:
        return 0
    return int(min(holdout_size, max(1, round(n_rows * SMALL_FRACTION))))


def random_split(n_rows: int, *, holdout_size: int = 10_000, random_state: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The paper's random holdout.

    Returns
    -------
    train, test : ndarray of int
        Sorted positions; disjoint, together every row.
    """
    n_test = holdout_count(n_rows, holdout_size)
    train, test = train_test_split(np.arange(n_rows), test_size=n_test, random_state=random_state)
    return np.sort(train), np.sort(test)


def grouped_split(
    groups: pd.Series | np.ndarray, *, holdout_size: int = 10_000, random_state: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A holdout of whole groups, about the random holdout's share of rows.

    Parameters
    ----------
    groups : array-like of str, length n_rows
        Group label of each row.

    Returns
    -------
    train, test : ndarray of int
        Sorted positions; no group on both sides.
    """
    groups = np.asarray(groups)
    fraction = holdout_count(len(groups), holdout_size) / max(len(groups), 1)
    splitter = GroupShuffleSplit(n_splits=1, test_size=fraction, random_state=random_state)
    train, test = next(splitter.split(np.zeros(len(groups)), groups=groups))
    return np.sort(train), np.sort(test)


def electrolyte_folds(electrolytes: pd.Series) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """Leave one electrolyte out.

    Parameters
    ----------
    electrolytes : pandas.Series of str, length n_rows
        The electrolytes behind each row, joined by ``";"``.

    Yields
    ------
    electrolyte : str
    train, test : ndarray of int
        Test = rows formed with this electrolyte; train = rows formed
        without it.
    """
    sets = [set(s.split(";")) for s in electrolytes]
    for electrolyte in sorted(set().union(*sets)):
        test = np.array([electrolyte in s for s in sets])
        yield electrolyte, np.flatnonzero(~test), np.flatnonzero(test)


def split_folds(
    split: str, table: pd.DataFrame, *, holdout_size: int = 10_000, random_state: int = 0
) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """The folds of one split of a table of one voltage: (fold name, train, test).

    ``random`` and ``grouped`` have one fold named ``"holdout"``;
    ``electrolyte`` one per electrolyte, named after it. A split that the
    rows cannot make (fewer than two rows, one group, one electrolyte)
    yields no fold.
    """
    if split not in SPLITS:
        raise ConfigError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
    if holdout_count(len(table), holdout_size) == 0:
        return
    if split == "random":
        yield "holdout", *random_split(len(table), holdout_size=holdout_size, random_state=random_state)
    elif split == "grouped":
        if table["group"].nunique() > 1:
            yield "holdout", *grouped_split(table["group"], holdout_size=holdout_size, random_state=random_state)
    else:
        yield from (fold for fold in electrolyte_folds(table["electrolytes"]) if len(fold[1]) and len(fold[2]))

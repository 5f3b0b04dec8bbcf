"""The rows of each chemical system of an entry table, and the subsystems of a system."""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import numpy as np


def subsets(key: tuple[int, ...]):
    """All non-empty subsets of a sorted tuple of element indices."""
    for r in range(1, len(key) + 1):
        yield from itertools.combinations(key, r)


class SystemRows(Mapping):
    """Rows of each chemical system: sorted element columns -> ascending rows.

    A read-only mapping built with a few array operations (no per-row
    Python loop); keys are tuples of ``comp`` columns, values ndarrays of
    int, and iteration follows each system's first row, like a scan of the
    table.

    Parameters
    ----------
    comp : ndarray of shape (n_entries, n_elements)
        Atom fractions; an element is present where its fraction is not 0.
    """

    def __init__(self, comp: np.ndarray):
        present = np.asarray(comp) != 0
        n, m = present.shape
        self._width = 8 * max(1, -(-m // 64))
        packed = np.zeros((n, self._width), dtype=np.uint8)
        packed[:, : -(-m // 8)] = np.packbits(present, axis=1, bitorder="little")
        words = packed.view("<u8")
        self._order = np.lexsort(words.T)
        ordered = words[self._order]
        starts = np.flatnonzero(np.r_[True, np.any(ordered[1:] != ordered[:-1], axis=1)]) if n else np.empty(0, int)
        self._bounds = np.r_[starts, n]
        blob = packed[self._order[starts]].tobytes()
        self._keys = [blob[i : i + self._width] for i in range(0, len(blob), self._width)]
        self._group = dict(zip(self._keys, range(len(self._keys)), strict=True))
        self._first_order = np.argsort(self._order[starts], kind="stable")
        self._group_of_cols: dict[tuple, int | None] = {}

    def _key(self, cols) -> bytes | None:
        """Little-endian bit mask of element columns, as the keys are stored; None if out of range."""
        mask = 0
        for col in cols:
            mask |= 1 << int(col)
        return mask.to_bytes(self._width, "little") if mask.bit_length() <= 8 * self._width else None

    def _group_of(self, cols) -> int | None:
        """Group of a chemical system, None if it has no entries.

        Remembered per column tuple: the engine asks for the same subsystems
        for every interface.
        """
        cols = tuple(cols)
        try:
            return self._group_of_cols[cols]
        except KeyError:
            g = self._group_of_cols[cols] = self._group.get(self._key(cols))
            return g

    def __getitem__(self, key) -> np.ndarray:
        g = self._group_of(key)
        if g is None:
            raise KeyError(key)
        return self._order[self._bounds[g] : self._bounds[g + 1]]

    def __contains__(self, key) -> bool:
        return self._group_of(key) is not None

    def __iter__(self):
        for g in self._first_order.tolist():
            mask = int.from_bytes(self._keys[g], "little")
            yield tuple(i for i in range(mask.bit_length()) if mask >> i & 1)

    def __len__(self) -> int:
        return len(self._keys)

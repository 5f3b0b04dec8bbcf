"""Small helpers shared by the tests (not fixtures; those are in conftest.py)."""

from pathlib import Path

import pandas as pd
from pymatgen.core import Composition

SNAPSHOT = Path(__file__).resolve().parents[1] / "data" / "mp_offline.parquet"
"""The committed offline MP entry table."""

LI_S_ROWS = (("Li", 0.0, 20.0), ("S", 0.0, 25.0), ("Li2S", -1.0, 15.0), ("LiS", -0.7, 14.0))
"""The hand-checkable Li-S system of tests/test_kcrit.py (formula, eV/atom, Å³/atom)."""


def entry_table(rows):
    """Minimal entry table from (formula, energy_per_atom_ev, volume_per_atom_a3) rows."""
    return pd.DataFrame(
        {
            "entry_id": [f"t:{f}" for f, _, _ in rows],
            "reduced_formula": [Composition(f).reduced_formula for f, _, _ in rows],
            "energy_per_atom_ev": [e for _, e, _ in rows],
            "volume_per_atom_a3": [v for _, _, v in rows],
        }
    )


def tiny_table(rows=LI_S_ROWS):
    """Li-S entry table (default :data:`LI_S_ROWS`) from (formula, energy_per_atom_ev, volume_per_atom_a3)."""
    return entry_table(rows)

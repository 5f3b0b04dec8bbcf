"""Small helpers shared by the tests (not fixtures)."""

import pandas as pd
from pymatgen.core import Composition


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

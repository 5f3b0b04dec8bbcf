"""Electrochemical windows of the campaign's electrolytes, unconstrained and at Keff.

docs/science.md section 4: the unconstrained window exchanges no working
ion; the constrained window at Keff is the widest voltage range around it
in which Kcrit(V) <= Keff (linear Kcrit of the ground state at the
electrolyte's composition).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from constrict import DEFAULT_CONVENTION
from constrict.core.config import electrolyte_label
from constrict.core.errors import ConstrictError
from constrict.data.entries import EntrySet
from constrict.physics.electrochem import window
from constrict.physics.kcrit import constrained_window
from constrict.physics.opensystem import Convention, open_system

WINDOW_COLUMNS = ["electrolyte_label", "electrolyte", "working_ion", "convention", "keff_gpa", "v_low_v", "v_high_v"]
"""One row per electrolyte and Keff; ``keff_gpa`` NaN is the unconstrained window."""


def electrolyte_windows(
    entry_set: EntrySet,
    electrolytes: Sequence[dict],
    keff_gpa: Sequence[float],
    *,
    convention: Convention = DEFAULT_CONVENTION,
) -> pd.DataFrame:
    """Unconstrained and constrained windows of each electrolyte in the data.

    Parameters
    ----------
    entry_set : EntrySet
    electrolytes : sequence of dict
        Config items (``formula``, ``working_ion``, optional ``stand_in_for``);
        those absent from the data are left out (the screen lists them as
        skipped).
    keff_gpa : sequence of float
        Effective moduli (GPa, >= 0) of the constrained windows.
    convention : {"ion_metal", "reservoir", "released_metal"}
        Reaction-strain convention of the constrained windows.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`WINDOW_COLUMNS`; volts vs. the working-ion metal
        (``inf`` where no upper limit exists).
    """
    rows = []
    for item in electrolytes:
        try:
            row = entry_set.find(item["formula"])
        except ConstrictError:  # missing from the data: the screen lists it as skipped
            continue
        comp = entry_set.comp[row]
        system = open_system(entry_set, comp, item["working_ion"], convention)
        base = {"electrolyte_label": electrolyte_label(item), "electrolyte": item["formula"],
                "working_ion": item["working_ion"], "convention": convention}
        lo, hi = window(system, comp)
        rows.append({**base, "keff_gpa": np.nan, "v_low_v": lo, "v_high_v": hi})
        for keff in keff_gpa:
            c_lo, c_hi = constrained_window(system, comp, float(keff))
            rows.append({**base, "keff_gpa": float(keff), "v_low_v": c_lo, "v_high_v": c_hi})
    return pd.DataFrame(rows, columns=WINDOW_COLUMNS)

"""Print the physics numbers quoted in the README and docs/physics.md.

Run from the repository root: ``python benchmarks/readme_numbers.py``.
Every number comes from the offline MP snapshot (data/mp_offline.parquet).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import pandas as pd

from constrict.data.entries import EntrySet
from constrict.physics.electrochem import window
from constrict.physics.evaluate import evaluate_interface
from constrict.physics.kcrit import constrained_window
from constrict.physics.opensystem import open_system

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED_WINDOWS_V = {  # Zhu, He and Mo, ACS Appl. Mater. Interfaces 7, 23685 (2015)
    "Li10GeP2S12": (1.71, 2.14),
    "Li3PS4": (1.71, 2.31),
    "Li7P3S11": (2.28, 2.31),
}
COATINGS = ("LiNbO3", "Li3PO4", "Li4Ti5O12", "Al2O3")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshot", default=str(ROOT / "data" / "mp_offline.parquet"))
    parser.add_argument("--keff", type=float, default=15.0, help="GPa, for the LGPS constrained window")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    es = EntrySet.from_frame(pd.read_parquet(args.snapshot))
    print("Unconstrained windows (V vs. Li/Li+), offline MP data vs. published")
    for formula, (p_lo, p_hi) in PUBLISHED_WINDOWS_V.items():
        comp = es.comp[es.find(formula)]
        lo, hi = window(open_system(es, comp, "Li"), comp)
        print(f"  {formula:12s} {lo:.2f} - {hi:.2f} V   (published {p_lo:.2f} - {p_hi:.2f} V)")
    lgps = es.comp[es.find("Li10GeP2S12")]
    for convention in ("ion_metal", "reservoir"):
        lo, hi = constrained_window(open_system(es, lgps, "Li", convention), lgps, args.keff)
        print(f"LGPS constrained window at Keff = {args.keff:g} GPa ({convention}): "
              f"{lo:.2f} - {hi:.2f} V (paper ~1-4 V)")
    print("Li7P3S11 interfaces at 4 V (ion_metal): x_m, E_rxn (eV/atom), Kcrit, Kcrit_sc (GPa)")
    for coating in COATINGS:
        (row,) = evaluate_interface(es, "Li7P3S11", coating, voltages_v=[4.0], working_ion="Li")
        print(
            f"  {coating:10s} x_m={row['x_m']:.3f} E_rxn={row['e_rxn_ev_per_atom']:.4f} "
            f"Kcrit={row['kcrit_gpa']:.2f} Kcrit_sc={row['kcrit_sc_gpa']:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

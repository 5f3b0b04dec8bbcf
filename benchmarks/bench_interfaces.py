"""Time the plain pymatgen route against constrict on the same real interfaces.

Plain route, per interface: PhaseDiagram of the chemical system's entries,
InterfacialReactivity minimum, then at 2, 3 and 4 V a
GrandPotentialPhaseDiagram and its decomposition of the SEI composition.
Ours: ``evaluate_interface`` (the same plus strain, Kcrit and Kcrit_sc).
Both must give the same x_m, E_rxn (1e-6 eV/atom) and products.

Run from the repository root: ``python benchmarks/bench_interfaces.py [--n 200]``.
Interfaces: electrolytes Li10GeP2S12, Li10SiP2S12, Li7P3S11 with coatings
drawn with a fixed seed among insulators on the hull (any number of elements).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from test_pymatgen_agreement import ELECTROLYTES, VOLTAGES_V, compare_rows, reference  # noqa: E402

from constrict.data.entries import EntrySet  # noqa: E402
from constrict.physics.evaluate import evaluate_interface  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="number of interfaces")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--snapshot", default=str(ROOT / "data" / "mp_offline.parquet"))
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    frame = pd.read_parquet(args.snapshot)
    ok = (frame["band_gap_ev"] > 0) & (frame["e_above_hull_ev"] <= 1e-6) & (frame["nelements"] >= 2)
    coatings = sorted(frame.loc[ok, "reduced_formula"])
    rng = np.random.default_rng(args.seed)
    drawn = rng.choice(coatings, args.n, replace=False)
    pairs = [(ELECTROLYTES[i % len(ELECTROLYTES)], c) for i, c in enumerate(drawn)]

    t0 = time.perf_counter()
    entry_set = EntrySet.from_frame(frame)
    t_setup = time.perf_counter() - t0
    t0 = time.perf_counter()
    ours = [evaluate_interface(entry_set, e, c, voltages_v=VOLTAGES_V, working_ion="Li") for e, c in pairs]
    t_ours = time.perf_counter() - t0

    t0 = time.perf_counter()
    refs = [reference(frame, e, c) for e, c in pairs]
    t_plain = time.perf_counter() - t0

    mismatches = 0
    for (e, c), rows, ref in zip(pairs, ours, refs, strict=True):
        try:
            compare_rows(rows, ref)
        except AssertionError as err:
            mismatches += 1
            print(f"mismatch {e} | {c}: {str(err)[:200]}")
    n = len(pairs)
    print(f"{n} interfaces x {len(VOLTAGES_V)} voltages; {mismatches} mismatches "
          "(x_m, E_rxn 1e-6 eV/atom, products 1e-6)")
    print(f"constrict EntrySet build (once): {t_setup:.2f} s")
    print(f"plain pymatgen: {t_plain:.2f} s ({n / t_plain:.2f} interfaces/s)")
    print(f"constrict:      {t_ours:.2f} s ({n / t_ours:.1f} interfaces/s, {1e3 * t_ours / n:.2f} ms each)")
    print(f"speed-up: {t_plain / t_ours:.1f}x "
          f"({t_plain / (t_ours + t_setup):.1f}x counting the one-off EntrySet build)")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())

"""The Monte-Carlo check as a campaign step: sample interfaces of the screen, re-solve them, write the coverage.

Opt-in (config ``monte_carlo.enabled``; rule ``uncertainty_mc``): a
seeded sample of the screen's rows with a Kcrit to check (ok, reacting,
Kcrit > 0, inf included) is re-solved ``n_samples`` times with every
entry's energy and volume drawn from its per-phase uncertainty
(:mod:`constrict.physics.montecarlo`), and the first-order interval of each row
(:mod:`constrict.physics.uncertainty`) is scored against the spread, by strain size.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from constrict.core.errors import ConstrictError
from constrict.data.tables import write_table
from constrict.physics.montecarlo import CASE_COLUMNS, baseline, coverage_table, run_monte_carlo
from constrict.physics.uncertainty import UncertaintyModel

log = logging.getLogger(__name__)

SAMPLE_COLUMNS = ("case", "sample", "kcrit_gpa", "eps", "dg_ev_per_atom", "products_changed", "sei_changed", "status")
"""Columns of the per-sample table (one row per case and draw)."""


def sample_cases(screen: pd.DataFrame, n_interfaces: int, *, random_state: int = 0) -> pd.DataFrame:
    """A seeded sample of screen rows whose Kcrit the check can test: ok, reacting, Kcrit > 0 (inf included).

    Parameters
    ----------
    screen : pandas.DataFrame
        Screen result rows.
    n_interfaces : int
        Rows to draw (all when fewer qualify); one row per interface (its
        voltage drawn with it).
    random_state : int
        Seed of the draw.

    Returns
    -------
    pandas.DataFrame
        :data:`~constrict.physics.montecarlo.CASE_COLUMNS`, in a fixed order.
    """
    ok = (screen["status"] == "ok") & screen["reacts"].astype(bool) & (screen["kcrit_gpa"] > 0)
    rows = screen[ok].sort_values(["electrolyte", "coating_id", "voltage_v"], kind="mergesort")
    if rows.empty:
        raise ConstrictError("the screen has no reacting row with Kcrit > 0 to check")
    one = rows.groupby(["electrolyte", "coating_id"], sort=False).sample(n=1, random_state=random_state)
    picked = one.sample(n=min(n_interfaces, len(one)), random_state=random_state)
    return picked[list(CASE_COLUMNS)].reset_index(drop=True)


def run_check(screen_path: str | Path, entries_path: str | Path, *, samples_path: str | Path,
              coverage_path: str | Path, n_interfaces: int, n_samples: int, random_state: int = 0,
              threads: int = 1, convention: str, uncertainty: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Sample, re-solve and score; write the per-sample Parquet and the coverage TSV.

    Returns
    -------
    pandas.DataFrame
        The coverage table (:data:`~constrict.physics.montecarlo.COVERAGE_COLUMNS`).
    """
    from constrict.campaign.screen import table_entry_set, table_phase_sigmas

    model = UncertaintyModel.from_config(uncertainty)
    started, cpu = time.perf_counter(), time.process_time()
    screen = pd.read_parquet(screen_path)
    cases = sample_cases(screen[screen["convention"] == convention], n_interfaces, random_state=random_state)
    entry_set = table_entry_set(str(entries_path))
    sigmas = table_phase_sigmas(str(Path(entries_path).resolve()), model)
    base = baseline(entry_set, cases, sigmas, convention=convention)
    samples = run_monte_carlo(entry_set, sigmas, cases, n_samples=n_samples, seed=random_state,
                              convention=convention, threads=threads)
    table = coverage_table(base, samples, coverage_k=model.coverage_k, max_ratio=model.max_ratio)
    samples = _flattened(samples, base)
    write_table(samples, samples_path)
    Path(coverage_path).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(coverage_path, sep="\t", index=False, float_format="%.4g")
    log.info("Monte Carlo: %d interfaces x %d samples in %.1f s wall, %.1f s CPU of this process (threads %d)\n%s",
             len(cases), n_samples, time.perf_counter() - started, time.process_time() - cpu, threads,
             table.to_string(index=False))
    return table


def _flattened(samples: pd.DataFrame, base: pd.DataFrame) -> pd.DataFrame:
    """The per-sample rows with plain columns: whether the products and the SEI changed against the baseline."""
    import json

    def names(text) -> frozenset:
        return frozenset(json.loads(text)) if isinstance(text, str) else frozenset()

    products = base["products"].map(names).to_numpy()
    sei = base["sei_products"].map(names).to_numpy()
    case = samples["case"].to_numpy()
    out = samples.assign(
        products_changed=np.fromiter((p != products[c] for c, p in zip(case, samples["products"], strict=True)),
                                     bool, len(samples)),
        sei_changed=np.fromiter((s != sei[c] for c, s in zip(case, samples["sei"], strict=True)), bool, len(samples)),
    )
    return out[list(SAMPLE_COLUMNS)].reset_index(drop=True)

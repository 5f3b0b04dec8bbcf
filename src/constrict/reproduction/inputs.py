"""What the table "The paper, number by number" reads: the result files, the campaign's settings, a row's parts.

:class:`Results` reads each file of :data:`INPUTS` once (None where a
disabled stage wrote none); :class:`Settings` holds what the table needs of
the config; a group builder (:mod:`constrict.reproduction.screen_claims`,
:mod:`constrict.reproduction.design_claims`) returns :class:`Row` objects.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from constrict.reproduction.claims import Candidate, Claim

INPUTS = {
    "stats": "reproduction/stats.parquet",
    "signs": "reproduction/signs.parquet",
    "windows": "reproduction/windows.parquet",
    "strains": "reproduction/strains.parquet",
    "surrogate": "reproduction/surrogate.parquet",
    "design": "reproduction/design.parquet",
    "kcrit_stats": "summary/kcrit_stats.parquet",
    "metrics": "surrogate/metrics.tsv",
    "design_table": "design/design_table.parquet",
    "fig5": "design/fig5.parquet",
    "report_windows": "report/windows.tsv",
}
"""The files the table reads, relative to the results directory."""

PAPER_ELECTROLYTES = ("Li10GeP2S12", "Li10SiP2S12", "Li7P3S11")
"""The paper's lithium electrolytes (LGPS, LSPS, LPS), whose windows the table compares."""


@dataclass(frozen=True)
class Settings:
    """What the table needs to know of the campaign (from its validated config).

    Attributes
    ----------
    convention : str
        The campaign's strain convention.
    voltage_v : float
        The voltage of the paper's Fig. 3 and 4 (V).
    window_tolerance_v, unconstrained_tolerance_v : float
        Tolerance per window edge (V): constrained ("about 1-4 V") and unconstrained.
    relative_tolerance : float
        Tolerance of Kcrit statistics, values and ranges (relative).
    strain_tolerance : float
        Tolerance of a strain (absolute, e.g. 0.01 = one percentage point).
    surrogate : dict
        The campaign's ``surrogate`` block (its default task).
    window_keff_gpa : tuple of float
        Effective moduli (GPa) of the windows compared.
    fig5_keff_gpa : float
        The effective modulus (GPa) of the Fig. 5a row under constriction.
    """

    convention: str
    voltage_v: float
    window_tolerance_v: float
    unconstrained_tolerance_v: float
    relative_tolerance: float
    strain_tolerance: float
    surrogate: dict
    window_keff_gpa: tuple = (5.0, 10.0, 15.0)
    fig5_keff_gpa: float = 5.0

    @classmethod
    def from_config(cls, config: dict) -> Settings:
        """Settings from a validated campaign config (its ``reproduction`` block)."""
        block = config["reproduction"]
        tol = block["tolerance"]
        return cls(convention=config["convention"], voltage_v=float(block["voltage_v"]),
                   window_tolerance_v=float(tol["window_v"]), unconstrained_tolerance_v=float(tol["unconstrained_v"]),
                   relative_tolerance=float(tol["relative"]), strain_tolerance=float(tol["strain"]),
                   surrogate=dict(config["surrogate"]),
                   window_keff_gpa=tuple(float(k) for k in block["window_keff_gpa"]),
                   fig5_keff_gpa=float(block["fig5_keff_gpa"]))


class Results:
    """The result files of one campaign, each read once; None for a file that is not there."""

    def __init__(self, results_dir: str | Path):
        self.root = Path(results_dir)
        self._cache: dict[str, pd.DataFrame | None] = {}

    def __getitem__(self, name: str) -> pd.DataFrame | None:
        if name not in self._cache:
            path = self.root / INPUTS[name]
            if not path.is_file():
                self._cache[name] = None
            elif path.suffix == ".tsv":
                self._cache[name] = pd.read_csv(path, sep="\t")
            else:
                self._cache[name] = pd.read_parquet(path)
        return self._cache[name]


@dataclass
class Row:
    """A claim with its candidates, as a group builder returns it.

    Attributes
    ----------
    claim : Claim
    default : Candidate or None
        The campaign's own value (None: not run).
    by_convention : dict of str to Candidate
        The value under each convention, everything else as the campaign's.
    variants : list of Candidate
        Every value of ours considered for the closest variant (the
        default and the conventions included).
    reason : callable or None
        ``reason(closest) -> str``: why ours differs (or how it is made),
        from the same data.
    """

    claim: Claim
    default: Candidate | None
    by_convention: dict
    variants: list
    reason: Callable[[Candidate | None], str] | None = None



NORMALISATION_LABELS = {
    "v0_reactant": "",
    "v0_products": "V0 = V_P'",
    "energy_per_non_ion_atom": "dG per non-ion atom",
    "volume_per_non_ion_atom": "V0 per non-ion atom",
}
"""How a normalisation is named in a variant label (the engine's own: nothing)."""


def variant_label(*parts: str) -> str:
    """A variant's label from its parts, empty parts left out: ``released_metal, V0 = V_P'``."""
    return ", ".join(p for p in parts if p)


def fmt(value: float, digits: int = 2) -> str:
    """A number for the table: ``inf``, ``n/a`` for NaN, else fixed digits."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if np.isinf(value):
        return "inf"
    return f"{value:.{digits}f}"

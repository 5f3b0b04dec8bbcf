"""Monte-Carlo check of the first-order Kcrit interval (docs/science.md, "Uncertainty of Kcrit").

The first-order interval of :mod:`constrict.physics.uncertainty` holds the p = 0
products (and the SEI) fixed. Here every entry's energy and volume are
drawn from their per-phase distributions,
``E_i + sigma_E,i z`` and ``V_i (1 + sigma_V,i z)`` (independent standard
normal ``z``; elements stay at energy 0, the reference), and the whole
chain is solved again: the interface reaction (so the SEI may change), its
ground state, the grand-potential products at the voltage (they may change
too) and the linear Kcrit. :func:`coverage_table` then says, by strain
size, how often the first-order interval covers the Monte-Carlo spread.

Sample ``s`` uses ``numpy.random.default_rng([seed, s])`` for every entry
at once, so the result does not depend on how samples are split between
worker processes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from statistics import NormalDist

import numpy as np
import pandas as pd

from constrict import DEFAULT_CONVENTION
from constrict.core.errors import ConstrictError
from constrict.data.entries import EntrySet
from constrict.physics.electrochem import ground_state
from constrict.physics.evaluate import evaluate_interface, resolve_reactant
from constrict.physics.interface import interface_reaction
from constrict.physics.kcrit import kcrit_at
from constrict.physics.opensystem import open_system
from constrict.physics.uncertainty import PhaseSigmas

CASE_COLUMNS = ("electrolyte", "coating_id", "working_ion", "voltage_v")
"""What names one case: an interface at one voltage."""

STRAIN_BINS = (0.0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, math.inf)
"""|strain| bins of the coverage table (dimensionless; 0.005 = 0.5 %)."""

MIN_VOLUME_FACTOR = 0.1
"""A drawn volume is kept at least this fraction of the entry's own (a many-sigma draw stays positive)."""

CANDIDATE_SIGMAS = 5.0
"""An entry is a hull candidate in the draws when its energy above the hull is at most this many
combined standard deviations, ``sqrt(sigma_E,i^2 + sigma_e^2)`` (its own and a typical
competitor's): farther up, the chance that a draw brings it to the hull is below 3e-7."""

COVERAGE_COLUMNS = (
    "strain_bin", "n_interfaces", "n_samples", "nominal_share", "share_in_interval", "share_mc_range_inside",
    "share_determined", "share_determined_agree", "share_products_changed", "share_sei_changed",
)
"""Columns of :func:`coverage_table` (shares in [0, 1])."""


def baseline(entry_set: EntrySet, cases: pd.DataFrame, sigmas: PhaseSigmas, *,
             convention: str = DEFAULT_CONVENTION) -> pd.DataFrame:
    """The unperturbed rows of the cases: Kcrit, its first-order interval, the products.

    Parameters
    ----------
    entry_set : EntrySet
    cases : pandas.DataFrame
        :data:`CASE_COLUMNS`, one row per interface and voltage.
    sigmas : PhaseSigmas
        Per-phase uncertainties of ``entry_set``.
    convention : {"ion_metal", "reservoir", "released_metal"}

    Returns
    -------
    pandas.DataFrame
        ``cases`` with the screen's columns (:func:`constrict.physics.evaluate.evaluate_interface`)
        beside and ``eps``, the strain under ``convention``; a pair that
        fails gets NaN Kcrit, status "error" and its one-line error.
    """
    rows = []
    for case in cases.itertuples(index=False):
        try:
            row = evaluate_interface(entry_set, case.electrolyte, case.coating_id, voltages_v=[case.voltage_v],
                                     working_ion=case.working_ion, convention=convention, sigmas=sigmas)[0]
            row["eps"] = row[f"eps_{convention}"]
        except ConstrictError as err:
            row = {"kcrit_gpa": math.nan, "eps": math.nan, "status": "error", "error": str(err)}
        rows.append({**case._asdict(), **{k: v for k, v in row.items() if k not in CASE_COLUMNS}})
    return pd.DataFrame(rows)


def perturbed(entry_set: EntrySet, sigmas: PhaseSigmas, rng: np.random.Generator) -> EntrySet:
    """One draw of the entry set: energies and volumes perturbed, the near-hull entries hull candidates.

    ``e_above_hull_ev`` is set to 0 for every entry within
    :data:`CANDIDATE_SIGMAS` combined standard deviations of the hull, so the
    LPs choose among them: a phase above the hull may come below it in this
    draw. The draws are the same whatever the candidates (one normal pair
    per entry).
    """
    z_e, z_v = rng.standard_normal((2, len(entry_set.entry_ids)))
    volume = entry_set.volume_per_atom_a3
    reach = CANDIDATE_SIGMAS * np.hypot(sigmas.sigma_e_ev, sigmas.model.sigma_e_ev_per_atom)
    e_above = np.where(entry_set.e_above_hull_ev <= reach, 0.0, entry_set.e_above_hull_ev)
    return EntrySet.from_arrays(
        elements=entry_set.elements,
        comp=entry_set.comp,
        energy_per_atom_ev=entry_set.energy_per_atom_ev + sigmas.sigma_e_ev * z_e,
        volume_per_atom_a3=volume * np.maximum(1.0 + sigmas.sigma_v_rel * z_v, MIN_VOLUME_FACTOR),
        e_above_hull_ev=e_above,
        entry_ids=entry_set.entry_ids,
        reduced_formulas=entry_set.reduced_formulas,
    )


def linear_kcrit(entry_set: EntrySet, electrolyte, coating, *, working_ion: str, voltage_v: float,
                 convention: str) -> dict:
    """Linear Kcrit of one interface at one voltage, everything solved afresh (no Kcrit_sc, no interval).

    Returns
    -------
    dict
        kcrit_gpa (GPa; NaN when the pair does not react), eps, dg_ev_per_atom,
        and the reduced formulas of the SEI phases and of the products (frozensets).
    """
    a, _ = resolve_reactant(entry_set, electrolyte)
    b, _ = resolve_reactant(entry_set, coating)
    rxn = interface_reaction(entry_set, a, b, mutual=False)
    if not rxn.reacts:
        return {"kcrit_gpa": math.nan, "eps": math.nan, "dg_ev_per_atom": math.nan,
                "sei": frozenset(), "products": frozenset()}
    system = open_system(entry_set, a.comp + b.comp, working_ion, convention)
    reactant = ground_state(entry_set, rxn.sei_comp, rxn.sei_phases, rxn.sei_energy_per_atom_ev)
    at = kcrit_at(system, reactant, voltage_v, self_consistent=False)
    dec = at.decomposition
    return {"kcrit_gpa": at.kcrit_gpa, "eps": dec.eps(convention), "dg_ev_per_atom": dec.dg_ev_per_atom,
            "sei": frozenset(map(entry_set.reduced_formula, rxn.sei_phases)),
            "products": frozenset(map(entry_set.reduced_formula, dec.products))}


def _formulas(json_text) -> frozenset:
    import json

    return frozenset(json.loads(json_text)) if isinstance(json_text, str) else frozenset()


_WORK: dict = {}


def _init_worker(entry_set, sigmas, cases, seed, convention) -> None:
    _WORK.update(entry_set=entry_set, sigmas=sigmas, cases=cases, seed=seed, convention=convention)


def _one_sample(sample: int) -> list[dict]:
    w = _WORK
    drawn = perturbed(w["entry_set"], w["sigmas"], np.random.default_rng([w["seed"], sample]))
    out = []
    for i, case in enumerate(w["cases"]):
        try:
            got = linear_kcrit(drawn, case["electrolyte"], case["coating_id"], working_ion=case["working_ion"],
                               voltage_v=case["voltage_v"], convention=w["convention"])
            got.update(status="ok")
        except ConstrictError as err:
            got = {"kcrit_gpa": math.nan, "eps": math.nan, "dg_ev_per_atom": math.nan, "sei": frozenset(),
                   "products": frozenset(), "status": f"error: {err}"[:200]}
        out.append({"case": i, "sample": sample, **got})
    return out


def systems_subset(entry_set: EntrySet, cases: pd.DataFrame) -> EntrySet:
    """The entries the cases can use: every entry inside each case's chemical system (ion included)."""
    rows: set[int] = set()
    for case in cases.drop_duplicates(["electrolyte", "coating_id", "working_ion"]).itertuples(index=False):
        a, _ = resolve_reactant(entry_set, case.electrolyte)
        b, _ = resolve_reactant(entry_set, case.coating_id)
        cols = entry_set.element_columns([case.working_ion]) + tuple(np.flatnonzero(a.comp + b.comp > 0))
        rows.update(entry_set.entries_in(tuple(sorted(set(cols)))).tolist())
    return entry_set.subset(sorted(rows))


def run_monte_carlo(entry_set: EntrySet, sigmas: PhaseSigmas, cases: pd.DataFrame, *, n_samples: int,
                    seed: int = 0, convention: str = DEFAULT_CONVENTION, threads: int = 1) -> pd.DataFrame:
    """Every case re-solved in ``n_samples`` draws of the entry data.

    Parameters
    ----------
    entry_set : EntrySet
        The whole entry table (the cases' systems are taken from it).
    sigmas : PhaseSigmas
        Per-phase uncertainties of ``entry_set``.
    cases : pandas.DataFrame
        :data:`CASE_COLUMNS`; the row order numbers the cases.
    n_samples : int
        Draws (>= 1).
    seed : int
        Sample ``s`` draws from ``default_rng([seed, s])``.
    convention : {"ion_metal", "reservoir", "released_metal"}
    threads : int
        Worker processes (1: in this process).

    Returns
    -------
    pandas.DataFrame
        One row per case and sample: case, sample, kcrit_gpa (GPa), eps,
        dg_ev_per_atom (eV per atom of R), sei and products (frozensets of
        reduced formulas), status.
    """
    if n_samples < 1:
        raise ConstrictError(f"n_samples must be >= 1, got {n_samples}")
    subset = systems_subset(entry_set, cases)
    args = (subset, sigmas.for_entry_set(subset), cases[list(CASE_COLUMNS)].to_dict("records"), int(seed),
            convention)
    if threads <= 1:
        _init_worker(*args)
        rows = [r for s in range(n_samples) for r in _one_sample(s)]
    else:
        with ProcessPoolExecutor(max_workers=threads, initializer=_init_worker, initargs=args) as pool:
            rows = [r for part in pool.map(_one_sample, range(n_samples)) for r in part]
    return pd.DataFrame(rows)


def nominal_share(k: float) -> float:
    """Share of a normal distribution within k standard deviations (0.6827 for k = 1)."""
    return 2.0 * NormalDist().cdf(k) - 1.0


def coverage_table(base: pd.DataFrame, samples: pd.DataFrame, *, coverage_k: float, max_ratio: float,
                   bins: Sequence[float] = STRAIN_BINS) -> pd.DataFrame:
    """How often the first-order interval covers the Monte-Carlo spread, by |strain| bin.

    Per case: the share of its samples with ``kcrit_lo <= K_s <= kcrit_hi``
    (a sample that no longer reacts counts as outside), whether its
    Monte-Carlo range at the same nominal coverage (the central quantiles)
    lies inside the interval, whether the Monte-Carlo range would call it
    determined as the first-order one does, and the share of samples
    whose products or SEI changed.

    Parameters
    ----------
    base : pandas.DataFrame
        :func:`baseline` rows (kcrit_lo_gpa, kcrit_hi_gpa, kcrit_determined,
        eps under the convention as ``eps``, products, sei_products).
    samples : pandas.DataFrame
        :func:`run_monte_carlo` rows.
    coverage_k, max_ratio : float
        The model's k and determined ratio.
    bins : sequence of float
        |strain| bin edges.

    Returns
    -------
    pandas.DataFrame
        :data:`COVERAGE_COLUMNS`, one row per bin with cases and a last row ``all``.
    """
    nominal = nominal_share(coverage_k)
    tail = (1.0 - nominal) / 2.0
    per_case = []
    for i, group in samples.groupby("case", sort=True):
        row = base.iloc[int(i)]
        k = group["kcrit_gpa"].to_numpy(dtype=float)
        k_sorted = np.sort(np.where(np.isnan(k), -np.inf, k))  # not reacting: below every interval
        q_lo, q_hi = np.quantile(k_sorted, [tail, 1.0 - tail], method="inverted_cdf")
        lo, hi = float(row["kcrit_lo_gpa"]), float(row["kcrit_hi_gpa"])
        mc_determined = q_lo == q_hi or (q_lo > 0 and math.isfinite(q_hi) and q_hi <= max_ratio * q_lo)
        per_case.append({
            "abs_eps": abs(float(row["eps"])),
            "n_samples": len(k),
            "in_interval": float(np.mean((k >= lo) & (k <= hi))),
            "mc_inside": bool(lo <= q_lo and q_hi <= hi),
            "determined": bool(row["kcrit_determined"]),
            "agree": bool(row["kcrit_determined"]) == bool(mc_determined),
            "products_changed": float(np.mean([p != _formulas(row["products"]) for p in group["products"]])),
            "sei_changed": float(np.mean([p != _formulas(row["sei_products"]) for p in group["sei"]])),
        })
    cases = pd.DataFrame(per_case)
    labels = [f"{100 * lo:g}-{100 * hi:g} %" if math.isfinite(hi) else f">{100 * lo:g} %"
              for lo, hi in zip(bins[:-1], bins[1:], strict=True)]
    cases["strain_bin"] = pd.cut(cases["abs_eps"], list(bins), labels=labels, right=False)
    groups = [(str(label), g) for label, g in cases.groupby("strain_bin", observed=True)] + [("all", cases)]
    return pd.DataFrame(
        [{
            "strain_bin": label, "n_interfaces": len(g), "n_samples": int(g["n_samples"].sum()),
            "nominal_share": nominal, "share_in_interval": g["in_interval"].mean(),
            "share_mc_range_inside": g["mc_inside"].mean(), "share_determined": g["determined"].mean(),
            "share_determined_agree": g["agree"].mean(), "share_products_changed": g["products_changed"].mean(),
            "share_sei_changed": g["sei_changed"].mean(),
        } for label, g in groups],
        columns=list(COVERAGE_COLUMNS),
    )

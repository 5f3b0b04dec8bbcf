"""Why Kcrit_sc is infinite: one interface worked through (docs/science.md section 3).

The self-consistent Kcrit asks for the smallest K at which *no* product set
beats the SEI: ``g(K) = min_P [Phi_P + K (V_P' - V_R)] - Phi_R >= 0``.
``g`` is concave and piecewise linear in K; its slope at large K is the
volume change of the products that win there. When that slope is <= 0 (a
mix whose expansion and contraction cancel, or that shrinks) and ``g`` is
still negative, no K stops the decomposition: Kcrit_sc = inf. The linear
Kcrit of the paper is where the p = 0 products' own line
``dG + K eps V_R`` crosses 0; ``g`` lies below that line everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from constrict import DEFAULT_CONVENTION, EV_PER_A3_TO_GPA
from constrict.core.lp import DenseLP
from constrict.data.entries import EntrySet
from constrict.physics.electrochem import ground_state
from constrict.physics.evaluate import resolve_reactant
from constrict.physics.interface import interface_reaction
from constrict.physics.kcrit import PressuredProducts, kcrit_at, kcrit_self_consistent_gpa
from constrict.physics.opensystem import Convention, open_system
from constrict.physics.uncertainty import cached_phase_sigmas, kcrit_interval

STEP_COLUMNS = ["step", "k_gpa", "products", "dphi_ev_per_atom", "dv_a3_per_atom"]
ENVELOPE_COLUMNS = ["k_gpa", "g_ev_per_atom", "linear_ev_per_atom", "dv_a3_per_atom", "products"]


@dataclass(frozen=True)
class KcritScExample:
    """One interface's self-consistent search and its envelope (per atom of the SEI).

    Attributes
    ----------
    summary : dict
        Interface, voltage, x_m, SEI, p = 0 products, dG (eV/atom), eps,
        V_R (Å³/atom), kcrit_gpa, kcrit_sc_gpa, and the products that defeat
        constriction with their volume change (empty when Kcrit_sc is finite).
    steps : pandas.DataFrame
        Columns :data:`STEP_COLUMNS`: each Dinkelbach step (K in GPa, the
        optimal products there, Phi_P - Phi_R in eV, V_P' - V_R in Å³).
    envelope : pandas.DataFrame
        Columns :data:`ENVELOPE_COLUMNS`: ``g(K)`` and the p = 0 products'
        line ``dG + K eps V_R`` (eV) on a grid of K (GPa).
    """

    summary: dict
    steps: pd.DataFrame
    envelope: pd.DataFrame


def _formulas(entry_set: EntrySet, products: dict) -> str:
    return " + ".join(f"{a:.3g} {entry_set.reduced_formula(r)}" for r, a in sorted(products.items())) or "-"


def neutral_products(problem: PressuredProducts) -> tuple[dict, float, float]:
    """The lowest-Phi products that do not expand: ``min Phi_P s.t. V_P' <= V_R``.

    If their Phi_P < Phi_R, even a pressure that only pushes (cost
    ``K max(V_P' - V_R, 0)``, no gain for shrinking) never stops the
    decomposition: these products pay no pressure at any K.

    Returns
    -------
    (products, dphi_ev_per_atom, dv_a3_per_atom)
        Entry row -> atoms per atom of R; Phi_P - Phi_R (eV); V_P' - V_R (Å³).
    """
    gp, weights = problem.gp, problem.weights
    n_rows, n_cols = gp.a_eq.shape
    a_eq = np.zeros((n_rows + 1, n_cols + 1))
    a_eq[:-1, :-1] = gp.a_eq
    a_eq[-1, :-1] = weights.w
    a_eq[-1, -1] = 1.0  # slack: V_R - V_P' >= 0
    b_eq = np.concatenate([problem.rhs, [problem.v_r - problem.const_v]])
    upper = np.concatenate([weights.upper_known, [np.inf]])
    lp = DenseLP(a_eq, b_eq, np.concatenate([problem.phi, [0.0]]), upper=upper)
    sol = lp.solve()
    if sol is None:
        return {}, np.nan, np.nan
    n = sol.x[:-1]
    dv = float(weights.w @ n) + problem.const_v - problem.v_r
    return problem.products(n), float(problem.phi @ n) - problem.phi_r, dv


def kcrit_sc_example(
    entry_set: EntrySet,
    electrolyte: str,
    coating: str,
    *,
    voltage_v: float,
    working_ion: str = "Li",
    convention: Convention = DEFAULT_CONVENTION,
    k_max_gpa: float = 200.0,
    n_k: int = 81,
) -> KcritScExample:
    """Work through Kcrit and Kcrit_sc of one interface at one voltage.

    Parameters
    ----------
    entry_set : EntrySet
    electrolyte, coating : str
        Formulas or entry ids in the data.
    voltage_v : float
        V vs. the working-ion metal.
    working_ion : str
    convention : {"ion_metal", "reservoir", "released_metal"}
    k_max_gpa : float
        Right end of the envelope's K grid (GPa).
    n_k : int
        Points of the K grid.
    """
    a, _ = resolve_reactant(entry_set, electrolyte)
    b, _ = resolve_reactant(entry_set, coating)
    system = open_system(entry_set, a.comp + b.comp, working_ion, convention)
    rxn = interface_reaction(entry_set, a, b)
    summary = {"electrolyte": a.formula, "coating": b.formula, "voltage_v": float(voltage_v),
               "convention": convention, "reacts": bool(rxn.reacts)}
    if not rxn.reacts:
        return KcritScExample(summary, pd.DataFrame(columns=STEP_COLUMNS), pd.DataFrame(columns=ENVELOPE_COLUMNS))
    reactant = ground_state(entry_set, rxn.sei_comp, rxn.sei_phases, rxn.sei_energy_per_atom_ev)
    at = kcrit_at(system, reactant, voltage_v, self_consistent=False)
    dec = at.decomposition
    trace: list = []
    kcrit_sc = max(kcrit_self_consistent_gpa(system, reactant, voltage_v, at.kcrit_gpa, trace=trace), at.kcrit_gpa)
    eps = dec.eps(convention)
    summary.update(
        x_m=float(rxn.x_m), sei=_formulas(entry_set, rxn.sei_phases), products_p0=_formulas(entry_set, dec.products),
        dg_ev_per_atom=dec.dg_ev_per_atom, eps=eps, v_r_a3_per_atom=dec.v_r_a3_per_atom,
        kcrit_gpa=at.kcrit_gpa, kcrit_sc_gpa=kcrit_sc,
    )
    interval = kcrit_interval(dec, reactant, cached_phase_sigmas(entry_set), convention=convention,
                              metal_row=entry_set.find(working_ion))
    summary.update({k: interval.as_row()[k] for k in ("kcrit_lo_gpa", "kcrit_hi_gpa", "kcrit_determined")})
    defeating = trace[-1] if trace and np.isinf(kcrit_sc) else None
    summary.update(
        defeating_products=_formulas(entry_set, defeating.products) if defeating else "",
        defeating_dv_a3_per_atom=defeating.dv_a3_per_atom if defeating else np.nan,
        defeating_dphi_ev_per_atom=defeating.dphi_ev_per_atom if defeating else np.nan,
    )
    steps = pd.DataFrame(
        [{"step": i, "k_gpa": s.k_gpa, "products": _formulas(entry_set, s.products),
          "dphi_ev_per_atom": s.dphi_ev_per_atom, "dv_a3_per_atom": s.dv_a3_per_atom} for i, s in enumerate(trace)],
        columns=STEP_COLUMNS,
    )
    rows = []
    with PressuredProducts(system, reactant, voltage_v) as problem:
        neutral, neutral_dphi, neutral_dv = neutral_products(problem)
        summary.update(
            push_only_products=_formulas(entry_set, neutral), push_only_dphi_ev_per_atom=neutral_dphi,
            push_only_dv_a3_per_atom=neutral_dv, push_only_infinite=bool(neutral_dphi < -1e-8),
        )
        for k_gpa in np.linspace(0.0, k_max_gpa, n_k):
            n, phi_p, dv = problem.solve(k_gpa / EV_PER_A3_TO_GPA)
            rows.append({
                "k_gpa": k_gpa,
                "g_ev_per_atom": phi_p - problem.phi_r + k_gpa / EV_PER_A3_TO_GPA * dv,
                "linear_ev_per_atom": dec.dg_ev_per_atom + k_gpa / EV_PER_A3_TO_GPA * eps * dec.v_r_a3_per_atom,
                "dv_a3_per_atom": dv,
                "products": _formulas(entry_set, problem.products(n)),
            })
    return KcritScExample(summary, steps, pd.DataFrame(rows, columns=ENVELOPE_COLUMNS))

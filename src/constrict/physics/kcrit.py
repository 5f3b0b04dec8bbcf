"""Critical effective modulus Kcrit (docs/science.md section 3) and constrained windows.

Linear (eqn 3 of the paper, products of p = 0)::

    Kcrit = -dG / (eps * V_R)    eV/Å³ -> GPa

Self-consistent: the smallest K >= 0 with
``min_P [Phi_P + K (V_P' - V_R)] >= Phi_R`` over *all* entries of the
chemical system (dense metastable phases may win under pressure).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from constrict import EV_PER_A3_TO_GPA
from constrict.core.errors import ConstrictError, SolverError
from constrict.core.lp import AMOUNT_TOL
from constrict.physics.electrochem import (
    DG_TOL_EV,
    Decomposition,
    GroundState,
    decompose_at,
    gp_system,
    ground_state,
    window,
)
from constrict.physics.opensystem import OpenSystem

log = logging.getLogger(__name__)

MAX_DINKELBACH_STEPS = 100
"""Upper bound on Dinkelbach steps. Each step raises K to the next breakpoint of the
concave, piecewise-linear envelope, so real searches end in a few steps (at most a
handful on the default screen); reaching the bound or a step that does not raise K
(numerical stall) means the result is not verified, and :class:`DinkelbachError` says so."""
SLOPE_TOL_A3 = 1e-12
"""A volume change V_P' - V_R <= this (Å³ per atom) counts as no expansion."""


class DinkelbachError(ConstrictError):
    """The self-consistent search ended without a verified Kcrit_sc (step limit or numerical stall)."""


def kcrit_linear_gpa(dg_ev_per_atom: float, eps: float, v_r_a3_per_atom: float) -> float:
    """Linear Kcrit in GPa.

    Parameters
    ----------
    dg_ev_per_atom : float
        dG (eV per atom of reactant, <= 0).
    eps : float
        Reaction strain (dimensionless).
    v_r_a3_per_atom : float
        V_R (Å³ per atom of reactant).

    Returns
    -------
    float
        0 when |dG| <= DG_TOL_EV (stable at V); +inf when dG < 0 and
        eps <= 0 (no constriction stops it); else -dG/(eps V_R) in GPa.
    """
    if not np.isfinite(dg_ev_per_atom):
        return float("nan")
    if dg_ev_per_atom >= -DG_TOL_EV:
        return 0.0
    if eps * v_r_a3_per_atom <= SLOPE_TOL_A3:
        return float("inf")
    return float(-dg_ev_per_atom / (eps * v_r_a3_per_atom) * EV_PER_A3_TO_GPA)


class PressuredProducts:
    """The constrained grand-potential problem of R: ``min_P [Phi_P + K (V_P' - V_R)]`` at any K.

    Over *all* entries of the open system (a dense phase above the p = 0
    hull may win under pressure); phases without a volume are held at 0
    while K > 0. One instance serves one (system, R, voltage); use it as a
    context manager, which restores the shared LP's bounds on exit.

    Parameters
    ----------
    system : OpenSystem
    reactant : GroundState
        R, inside ``system``.
    voltage_v : float
        V vs. the ion metal.
    """

    def __init__(self, system: OpenSystem, reactant: GroundState, voltage_v: float):
        self.system = system
        self.gp = gp_system(system, everything=True)
        self.weights = self.gp.weights(system)
        c_ion = reactant.comp[system.ion_col]
        self.const_v = c_ion * system.v_metal_a3 if system.convention == "ion_metal" else 0.0
        self.phi = self.gp.cost(self.gp.energy + voltage_v * self.gp.x_ion)
        self.phi_r = reactant.energy_per_atom_ev + voltage_v * c_ion
        self.v_r = reactant.volume_a3
        self.rhs = self.gp.rhs(system, reactant.comp)
        self._bounded = not self.weights.all_known

    def __enter__(self) -> PressuredProducts:
        if self._bounded:
            self.gp.lp.set_col_bounds(self.weights.lower, self.weights.upper_known)
        return self

    def __exit__(self, *exc) -> None:
        if self._bounded:
            self.gp.lp.set_col_bounds(self.weights.lower, self.weights.upper_all)

    def solve(self, k_ev_per_a3: float) -> tuple[np.ndarray, float, float]:
        """Optimal LP columns at K (eV/Å³): x (shape (n_phases + n_aux,)), Phi_P and V_P' - V_R (per atom of R).

        Among tied optima the denser products win (the larger next K step).
        """
        self.gp.lp.set_cost_and_rhs(self.phi + k_ev_per_a3 * self.weights.w + self.weights.tie_break, self.rhs)
        sol = self.gp.lp.solve()
        if sol is None:
            raise SolverError(f"Kcrit_sc LP failed in {self.system.chemical_system}")
        n = sol.x
        return n, float(self.phi @ n), float(self.weights.w @ n) + self.const_v - self.v_r

    def products(self, n: np.ndarray) -> dict[int, float]:
        """Entry row -> atoms per atom of R of the products of the LP columns ``n``."""
        n = self.gp.phases(n)
        keep = n > AMOUNT_TOL
        return {int(r): float(a) for r, a in zip(self.gp.rows[keep], n[keep], strict=True)}


@dataclass(frozen=True)
class DinkelbachStep:
    """One step of the self-consistent search (all per atom of R).

    Attributes
    ----------
    k_gpa : float
        K at which the products were optimal (GPa).
    products : dict of int to float
        Entry row -> atoms per atom of R.
    dphi_ev_per_atom : float
        Phi_P - Phi_R (eV), < 0 while the products still win.
    dv_a3_per_atom : float
        V_P' - V_R (Å³); <= 0 means no K can stop these products.
    """

    k_gpa: float
    products: dict
    dphi_ev_per_atom: float
    dv_a3_per_atom: float


def kcrit_self_consistent_gpa(
    system: OpenSystem, reactant: GroundState, voltage_v: float, k0_gpa: float, *, trace: list | None = None
) -> float:
    """Self-consistent Kcrit (GPa) by Dinkelbach steps from ``k0_gpa``.

    At K (eV/Å³) solve ``min_P [Phi_P + K (V_P' - V_R)]`` over all entries
    of ``cols``; while it is below Phi_R - DG_TOL_EV with optimal P*,
    step ``K <- (Phi_R - Phi_P*) / (V_P*' - V_R)`` (inf if that volume
    change is <= 0). Each step raises K; the left side is concave and
    piecewise linear in K, so it ends after finitely many steps.

    Parameters
    ----------
    system : OpenSystem
    reactant : GroundState
        R, inside ``system``.
    voltage_v : float
        V vs. the ion metal.
    k0_gpa : float
        Starting K, normally the linear Kcrit (a lower bound).
    trace : list, optional
        If given, every step's :class:`DinkelbachStep` is appended; when the
        result is inf, the last one holds the products that defeat
        constriction (no net expansion, lower grand potential).

    Returns
    -------
    float
        Kcrit_sc in GPa, verified: at it no products lower Phi below Phi_R
        (or inf, verified by products with no net expansion).

    Raises
    ------
    DinkelbachError
        The search stopped at ``MAX_DINKELBACH_STEPS`` or stalled before a
        K passed that check; never an unverified value.
    """
    if not np.isfinite(k0_gpa) or k0_gpa == 0.0:
        # inf stays inf (Kcrit_sc >= Kcrit); at K = 0 no unstable phase beats the hull
        return float(k0_gpa)
    k = k0_gpa / EV_PER_A3_TO_GPA
    with PressuredProducts(system, reactant, voltage_v) as problem:
        phi_r = problem.phi_r
        for _ in range(MAX_DINKELBACH_STEPS):
            n, phi_p, dv = problem.solve(k)
            if trace is not None:
                trace.append(DinkelbachStep(k * EV_PER_A3_TO_GPA, problem.products(n), phi_p - phi_r, dv))
            if phi_p + k * dv >= phi_r - DG_TOL_EV:
                return float(k * EV_PER_A3_TO_GPA)
            if dv <= SLOPE_TOL_A3:
                return float("inf")
            k_new = (phi_r - phi_p) / dv
            if k_new <= k:  # numerical stall: no verified K
                break
            k = k_new
        else:
            k_new = k
    raise DinkelbachError(
        f"Kcrit_sc search in {system.chemical_system} at {voltage_v:g} V stopped unverified at "
        f"{k * EV_PER_A3_TO_GPA:.6g} GPa (next step {k_new * EV_PER_A3_TO_GPA:.6g} GPa, "
        f"limit {MAX_DINKELBACH_STEPS} steps)"
    )


@dataclass(frozen=True)
class KcritAt:
    """Decomposition and critical moduli of R at one voltage.

    Attributes
    ----------
    decomposition : Decomposition
        The p = 0 products (per atom of R).
    kcrit_gpa : float
        Linear Kcrit (eqn 3), GPa.
    kcrit_sc_gpa : float
        Self-consistent Kcrit, GPa (>= ``kcrit_gpa``); NaN when not computed
        or when the search ended unverified (:class:`DinkelbachError`, logged).
    """

    decomposition: Decomposition
    kcrit_gpa: float
    kcrit_sc_gpa: float


def kcrit_at(system: OpenSystem, reactant: GroundState, voltage_v: float, *, self_consistent: bool = True) -> KcritAt:
    """Decomposition, linear Kcrit and Kcrit_sc (GPa) of R at one voltage.

    Parameters
    ----------
    system : OpenSystem
        The open system; its convention gives the strain.
    reactant : GroundState
        R, inside ``system``.
    voltage_v : float
        V vs. the ion metal.
    self_consistent : bool
        Also compute Kcrit_sc (else NaN).
    """
    dec = decompose_at(system, reactant, voltage_v)
    k_lin = kcrit_linear_gpa(dec.dg_ev_per_atom, dec.eps(system.convention), dec.v_r_a3_per_atom)
    if not self_consistent:
        return KcritAt(dec, k_lin, float("nan"))
    try:
        k_sc = kcrit_self_consistent_gpa(system, reactant, voltage_v, k_lin)
    except DinkelbachError as err:
        log.warning("%s; kcrit_sc_gpa is NaN", err)
        return KcritAt(dec, k_lin, float("nan"))
    return KcritAt(dec, k_lin, max(k_sc, k_lin))


def constrained_window(
    system: OpenSystem,
    comp: np.ndarray,
    keff_gpa: float,
    *,
    v_max: float = 6.0,
    step_v: float = 0.01,
    tol_v: float = 1e-4,
) -> tuple[float, float]:
    """Widest voltage range around the unconstrained window with Kcrit(V) <= Keff.

    R is the ground state at ``comp`` (hull phases, hull energy). Kcrit(V)
    (linear) is scanned outward from the unconstrained window on a grid of
    ``step_v`` volts over [0, v_max]; the first grid point above Keff is
    refined by bisection to ``tol_v``. A crossing narrower than one grid
    step could be missed (Kcrit(V) is piecewise smooth between
    grand-potential breakpoints).

    Parameters
    ----------
    system : OpenSystem
        The open system of ``comp`` (its convention gives the strain).
    comp : ndarray of shape (n_elements,)
        Atom fractions of the phase.
    keff_gpa : float
        Effective modulus (GPa, >= 0).

    Returns
    -------
    (v_low, v_high) : tuple of float
        Volts vs. the ion metal; 0 or ``v_max`` when no limit was met.
    """
    lo, hi = window(system, comp)
    reactant = ground_state(system.entry_set, comp)

    def ok(v):
        return kcrit_at(system, reactant, v, self_consistent=False).kcrit_gpa <= keff_gpa

    def edge(start, direction, limit):
        grid = np.arange(start, limit + direction * 1e-12, direction * step_v)
        prev = start
        for v in grid[1:] if len(grid) > 1 else []:
            if not ok(v):
                good, bad = prev, v
                while abs(bad - good) > tol_v:
                    mid = 0.5 * (good + bad)
                    good, bad = (mid, bad) if ok(mid) else (good, mid)
                return float(good)
            prev = v
        return float(limit)

    v_low = edge(max(lo, 0.0), -1.0, 0.0)
    v_high = edge(min(hi, v_max), 1.0, v_max)
    return v_low, v_high

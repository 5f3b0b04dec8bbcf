"""Grand-potential decomposition at a voltage and electrochemical windows.

docs/science.md sections 2 and 4. The working ion is the open element; with
formation energies its metal sits at 0, so mu_ion = -V and the grand
potential of phase i per atom is ``phi_i = E_i + V * x_ion_i``.

Products of reactant R at V (per atom of R): the LP

    min  sum_i n_i phi_i   s.t.  sum_i n_i c_ij = c_Rj  for every element j != ion,  n >= 0

over the globally stable phases of the chemical system, the ion's own
entries excluded (the ion metal is the reservoir).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from constrict.core.errors import MissingVolumeError, SolverError
from constrict.core.lp import AMOUNT_TOL, DenseLP
from constrict.data.entries import EntrySet
from constrict.physics.opensystem import OpenSystem

DG_TOL_EV = 1e-8
"""|dG| <= this (eV per atom of reactant) counts as stable at V (dG = 0)."""

DENSE_TIE_BREAK = 1e-10
"""eV/Å³ added per unit of effective volume to pick, among tied products,
the densest set (the p -> 0+ limit of the constrained ensemble)."""

ION_ONLY_TOL = 1e-12
"""A phase whose ion fraction is within this of 1 is the ion itself (the reservoir), not a candidate product."""

MU_BOUND_EV = 1e4
"""Bound on chemical potentials in the window LP; reaching it means no limit."""

@dataclass(frozen=True)
class GPSystem:
    """Grand-potential LP of one chemical system and working ion.

    The LP's columns are the candidate phases and, for the
    ``released_metal`` convention, two auxiliary columns ``r, s >= 0`` with
    the extra row ``x_ion @ n + r - s = c_ion(R)``: at any cost ``K v_metal``
    on ``r`` (K >= 0) the optimum has ``r = max(released, 0)``, so the
    piecewise-linear volume ``V_P + max(released, 0) v_metal`` stays linear
    in the LP (docs/science.md section 2).

    Attributes
    ----------
    rows : ndarray of int, shape (n_phases,)
        Candidate entry rows (ion-only entries excluded).
    x_ion : ndarray of shape (n_phases,)
        Working-ion atom fraction of each candidate.
    energy : ndarray of shape (n_phases,)
        Formation energy per atom (eV/atom).
    volume : ndarray of shape (n_phases,)
        Volume per atom (Å³/atom); may hold NaN (checked where used).
    other : list of int
        Element columns balanced by the LP (all but the ion).
    a_eq : ndarray of shape (n_rows, n_phases + n_aux)
        The LP's equality constraints (element balance, then the ion row
        when ``n_aux`` is 2).
    n_aux : int
        Auxiliary columns after the phases: 0, or 2 (``r``, ``s``).
    lp : DenseLP
    """

    rows: np.ndarray
    x_ion: np.ndarray
    energy: np.ndarray
    volume: np.ndarray
    other: list
    a_eq: np.ndarray
    n_aux: int
    lp: DenseLP
    _weights: dict = field(default_factory=dict, repr=False, compare=False)

    def weights(self, system: OpenSystem) -> VolumeWeights:
        """The effective volumes of the LP's columns under ``system``'s convention (cached)."""
        key = (system.convention, system.v_metal_a3)
        if key not in self._weights:
            self._weights[key] = VolumeWeights.of(effective_volumes(self, system))
        return self._weights[key]

    def cost(self, phi: np.ndarray) -> np.ndarray:
        """LP costs of shape (n_phases + n_aux,): ``phi`` of the phases, 0 for the auxiliary columns."""
        return np.concatenate([phi, np.zeros(self.n_aux)]) if self.n_aux else phi

    def rhs(self, system: OpenSystem, comp: np.ndarray) -> np.ndarray:
        """Right-hand side for reactant atom fractions ``comp`` (shape (n_elements,))."""
        b = comp[self.other]
        return np.concatenate([b, [comp[system.ion_col]]]) if self.n_aux else b

    def phases(self, x: np.ndarray) -> np.ndarray:
        """The phase amounts (shape (n_phases,)) of an LP solution ``x``."""
        return x[: len(self.rows)]


@dataclass(frozen=True)
class VolumeWeights:
    """Effective volumes of the LP columns of a :class:`GPSystem`, as its LPs use them.

    Attributes
    ----------
    w : ndarray of shape (n_columns,)
        Effective volume per atom (Å³/atom, :func:`effective_volumes`), 0
        where a phase has no volume.
    tie_break : ndarray of shape (n_columns,)
        ``DENSE_TIE_BREAK * w``: the cost that picks the densest tied products.
    all_known : bool
        Every phase has a volume.
    lower, upper_known, upper_all : ndarray of shape (n_columns,)
        Column bounds: 0; +inf for columns with a volume and 0 for the
        others; +inf.
    """

    w: np.ndarray
    tie_break: np.ndarray
    all_known: bool
    lower: np.ndarray
    upper_known: np.ndarray
    upper_all: np.ndarray

    @classmethod
    def of(cls, w: np.ndarray) -> VolumeWeights:
        """Weights from effective volumes ``w`` (NaN where unknown)."""
        known = np.isfinite(w)
        w = np.where(known, w, 0.0)
        n = len(w)
        return cls(
            w, DENSE_TIE_BREAK * w, bool(known.all()), np.zeros(n), np.where(known, np.inf, 0.0), np.full(n, np.inf)
        )


def gp_system(system: OpenSystem, *, everything: bool = False) -> GPSystem:
    """Cached grand-potential LP over the stable (or all) entries of an open system.

    The ``released_metal`` convention gets its own LP with the auxiliary
    columns of :class:`GPSystem`; the other two share one.
    """
    entry_set, cols, ion_col = system.entry_set, system.cols, system.ion_col
    cache = entry_set.system_cache("gp_all" if everything else "gp_stable")
    n_aux = 2 if system.convention == "released_metal" else 0
    key = (cols, ion_col) if not n_aux else (cols, ion_col, n_aux)
    if key not in cache:
        rows = entry_set.entries_in(cols) if everything else entry_set.stable_in(cols)
        other = [c for c in cols if c != ion_col]
        comp = entry_set.comp
        rows = rows[comp[rows, ion_col] < 1.0 - ION_ONLY_TOL]
        x_ion = comp[rows, ion_col].copy()
        a_eq = comp[np.ix_(rows, other)].T
        if n_aux:
            a_eq = np.block([[a_eq, np.zeros((len(other), 2))], [x_ion[None, :], np.array([[1.0, -1.0]])]])
        energy = entry_set.energy_per_atom_ev[rows]
        cost = np.concatenate([energy, np.zeros(n_aux)])
        cache[key] = GPSystem(
            rows, x_ion, energy, entry_set.volume_per_atom_a3[rows], other, a_eq, n_aux,
            DenseLP(a_eq, np.zeros(a_eq.shape[0]), cost),
        )
    return cache[key]


def effective_volumes(gp: GPSystem, system: OpenSystem) -> np.ndarray:
    """Volume that each LP column adds to V_P' (Å³ per atom), shape (n_phases + n_aux,).

    ion_metal: ``v_i - x_ion_i * v_metal`` (plus the constant
    ``N_ion(R) * v_metal`` per reactant); reservoir: ``v_i``;
    released_metal: ``v_i``, and ``v_metal`` on the auxiliary column ``r``
    (the ion released), 0 on ``s`` (the ion taken up).
    """
    if system.convention == "ion_metal":
        return gp.volume - gp.x_ion * system.v_metal_a3
    if gp.n_aux:
        return np.concatenate([gp.volume, [system.v_metal_a3, 0.0]])
    return gp.volume


def product_volume_a3(v_p_a3, released, v_metal_a3, convention: str):
    """V_P' (Å³ per atom of R) of solid products ``v_p_a3`` that released ``released`` ion atoms.

    Works elementwise on arrays (the reproduction study recomputes every
    convention from the screen's columns).

    Parameters
    ----------
    v_p_a3 : float or ndarray
        Volume of the solid products alone, V_P (Å³ per atom of R).
    released : float or ndarray
        Ion atoms released per atom of R (negative: taken up).
    v_metal_a3 : float or ndarray
        Volume per atom of the ion metal (Å³/atom).
    convention : {"ion_metal", "reservoir", "released_metal"}
    """
    if convention == "ion_metal":
        return v_p_a3 + released * v_metal_a3
    if convention == "released_metal":
        return v_p_a3 + np.maximum(released, 0.0) * v_metal_a3
    return v_p_a3 + 0.0 * released


@dataclass(frozen=True)
class GroundState:
    """Reactant R of the grand-potential reaction (a ground state), per atom.

    Attributes
    ----------
    comp : ndarray of shape (n_elements,)
        Atom fractions.
    energy_per_atom_ev : float
        Energy of R (its hull energy for an SEI).
    phases : dict of int to float
        Entry row -> atoms per atom of R.
    volume_a3 : float
        V_R, Å³ per atom of R.
    """

    comp: np.ndarray
    energy_per_atom_ev: float
    phases: dict
    volume_a3: float


def ground_state(entry_set: EntrySet, comp: np.ndarray, phases=None, energy=None) -> GroundState:
    """R = the hull phases at ``comp`` with their volume; checks volumes."""
    if phases is None:
        energy, phases = entry_set.decompose(comp)
    vols = entry_set.volume_per_atom_a3[list(phases)]
    if not np.all(np.isfinite(vols)):
        bad = [entry_set.reduced_formula(r) for r, v in zip(phases, vols, strict=True) if not np.isfinite(v)]
        raise MissingVolumeError(f"no volume_per_atom_a3 for {', '.join(bad)}; add volumes to the data")
    return GroundState(comp, float(energy), dict(phases), float(vols @ np.fromiter(phases.values(), float)))


@dataclass(frozen=True)
class Decomposition:
    """Grand-potential products of R at one voltage (all per atom of R).

    Attributes
    ----------
    voltage_v : float
    products : dict of int to float
        Entry row -> atoms per atom of R (working-ion reservoir excluded).
    ion_released_per_atom : float
        Ion atoms released (negative: taken up).
    dg_ev_per_atom : float
        Phi_P - Phi_R (eV per atom of R, <= 0).
    v_r_a3_per_atom : float
        V_R (Å³ per atom of R).
    v_p_a3_per_atom : float
        Volume of the solid products alone, V_P (Å³ per atom of R).
    v_metal_a3_per_atom : float
        Volume per atom of the ion metal (Å³/atom), the v_metal of V_P'.
    """

    voltage_v: float
    products: dict
    ion_released_per_atom: float
    dg_ev_per_atom: float
    v_r_a3_per_atom: float
    v_p_a3_per_atom: float
    v_metal_a3_per_atom: float

    def eps(self, convention: str) -> float:
        """Reaction strain ``(V_P' - V_R) / V_R`` under a convention (:func:`product_volume_a3`)."""
        if self.dg_ev_per_atom == 0.0:
            return 0.0
        v_p = product_volume_a3(
            self.v_p_a3_per_atom, self.ion_released_per_atom, self.v_metal_a3_per_atom, convention
        )
        return float((v_p - self.v_r_a3_per_atom) / self.v_r_a3_per_atom)

    @property
    def eps_ion_metal(self) -> float:
        """Strain under ``ion_metal``."""
        return self.eps("ion_metal")

    @property
    def eps_reservoir(self) -> float:
        """Strain under ``reservoir``."""
        return self.eps("reservoir")

    @property
    def eps_released_metal(self) -> float:
        """Strain under ``released_metal``."""
        return self.eps("released_metal")


def decompose_at(system: OpenSystem, reactant: GroundState, voltage_v: float) -> Decomposition:
    """Grand-potential decomposition of ``reactant`` at ``voltage_v``.

    Parameters
    ----------
    system : OpenSystem
        The open system (its convention breaks ties among equal-Phi
        products: the densest set wins).
    reactant : GroundState
        R, inside ``system``.
    voltage_v : float
        V vs. the ion metal.
    """
    entry_set, cols = system.entry_set, system.cols
    gp = gp_system(system)
    c_ion = reactant.comp[system.ion_col]
    phi_r = reactant.energy_per_atom_ev + voltage_v * c_ion
    phi = gp.energy + voltage_v * gp.x_ion
    gp.lp.set_cost_and_rhs(gp.cost(phi) + gp.weights(system).tie_break, gp.rhs(system, reactant.comp))
    sol = gp.lp.solve()
    if sol is None:
        raise SolverError(f"grand-potential LP failed in {entry_set.chemical_system(cols)}")
    n = gp.phases(sol.x)
    dg = float(phi @ n) - phi_r
    v_r = reactant.volume_a3
    v_metal = system.v_metal_a3
    if dg >= -DG_TOL_EV:
        return Decomposition(voltage_v, dict(reactant.phases), 0.0, 0.0, v_r, v_r, v_metal)
    keep = n > AMOUNT_TOL
    rows, amounts = gp.rows[keep], n[keep]
    vols = gp.volume[keep]
    if not np.all(np.isfinite(vols)):
        bad = [entry_set.reduced_formula(r) for r, v in zip(rows, vols, strict=True) if not np.isfinite(v)]
        raise MissingVolumeError(f"no volume_per_atom_a3 for {', '.join(bad)}; add volumes to the data")
    released = c_ion - float(gp.x_ion[keep] @ amounts)
    v_p = float(vols @ amounts)
    return Decomposition(
        voltage_v,
        {int(r): float(a) for r, a in zip(rows, amounts, strict=True)},
        released,
        dg,
        v_r,
        v_p,
        v_metal,
    )


def window(system: OpenSystem, comp: np.ndarray) -> tuple[float, float]:
    """Unconstrained electrochemical window of the ground state at ``comp``.

    The voltages at which its grand-potential decomposition exchanges no
    working ion: exactly the ion chemical potentials of the hyperplanes
    ``mu`` that support the hull at ``comp`` (``C mu <= E`` for the stable
    phases, ``comp @ mu = E_hull(comp)``); two LPs give min and max mu_ion.

    Parameters
    ----------
    system : OpenSystem
        The open system of ``comp`` (its ion's metal at mu = 0).
    comp : ndarray of shape (n_elements,)
        Atom fractions.

    Returns
    -------
    (v_low, v_high) : tuple of float
        Volts vs. the ion metal; ``inf`` when unbounded (e.g. no ion).
    """
    entry_set, cols, ion_col = system.entry_set, system.cols, system.ion_col
    e_hull = entry_set.hull_energy(comp)
    rows = entry_set.stable_in(cols)
    k, m = len(rows), len(cols)
    a_eq = np.zeros((k + 1, m + k))
    a_eq[:k, :m] = entry_set.comp[np.ix_(rows, cols)]
    a_eq[:k, m:] = np.eye(k)
    a_eq[k, :m] = comp[list(cols)]
    b_eq = np.concatenate([entry_set.energy_per_atom_ev[rows], [e_hull]])
    lower = np.concatenate([np.full(m, -MU_BOUND_EV), np.zeros(k)])
    upper = np.concatenate([np.full(m, MU_BOUND_EV), np.full(k, np.inf)])
    cost = np.zeros(m + k)
    j = cols.index(ion_col)
    mu = []
    for sign in (1.0, -1.0):  # min then max of mu_ion
        cost[j] = sign
        lp = DenseLP(a_eq, b_eq, cost, lower=lower, upper=upper)
        sol = lp.solve()
        if sol is None:
            raise SolverError(f"window LP failed for {entry_set.chemical_system(cols)}")
        mu.append(sol.x[j])
    mu_min, mu_max = mu
    v_low = -mu_max
    v_high = np.inf if mu_min <= -MU_BOUND_EV + 1 else -mu_min
    return float(v_low), float(v_high)

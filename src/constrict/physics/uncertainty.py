"""Kcrit with error bars: per-phase uncertainties, the first-order interval, the determined flag.

docs/science.md ("Uncertainty of Kcrit") defines everything here. With the
p = 0 products held, dG and the volume change are linear in the entries'
energies and volumes, per atom of the reactant R::

    dG  = sum_i d_i E_i - V * released        d_i = n_P,i - n_R,i  (atoms of phase i)
    dV  = V_P' - V_R = sum_i d_i v_i + c_metal v_metal
    Kcrit = -dG / dV                           (= -dG / (eps V_R))

where ``c_metal`` is what the convention counts of the exchanged ion
(:func:`constrict.physics.electrochem.product_volume_a3` with V_P = 0 and
v_metal = 1). A phase in both R and the products cancels (``d_i`` = its net
amount), and so does any error common to every volume or any per-element
energy shift (balanced reactions). Independent per-phase errors ``sigma_E,i``
(eV/atom) and ``sigma_V,i`` (relative) give the standard deviations
``s_G = sqrt(sum (d_i sigma_E,i)^2)`` and ``s_V = sqrt(sum (d_i v_i
sigma_V,i)^2 + (c_metal v_metal sigma_V,metal)^2)``; the interval is Kcrit
over the box ``-dG +- k s_G`` (clipped at 0) x ``dV +- k s_V``::

    kcrit_lo = (-dG - k s_G) / (dV + k s_V)      kcrit_hi = (-dG + k s_G) / (dV - k s_V)

with ``kcrit_hi`` = inf where ``dV - k s_V <= 0`` (the strain's sign is not
certain). Determined: ``lo == hi`` (0 when stable at V, inf when the strain
is certainly <= 0), or ``0 < lo`` and ``hi <= max_ratio * lo``.

This module is pure physics (no campaign code): a frozen
:class:`UncertaintyModel` (the config keys under ``uncertainty:``),
:func:`phase_sigmas` (per-phase sigmas from the entry table's evidence
columns) and :func:`kcrit_interval`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np

from constrict.core.errors import ConfigError, SchemaError
from constrict.data.phase_evidence import column, energy_residual_ev, volume_discrepancy
from constrict.physics.electrochem import Decomposition, GroundState, product_volume_a3
from constrict.physics.kcrit import kcrit_linear_gpa

if TYPE_CHECKING:
    import pandas as pd

    from constrict.data.entries import EntrySet

ENERGY_MODELS = ("constant", "oqmd_residual")
"""Values of :attr:`UncertaintyModel.energy_model` (docs/science.md says what each does)."""

POLYMORPH_SPREAD_MAX = 0.3
"""The polymorph term is ``min(volume_spread, this) / 2``. Measured on the offline MP
snapshot (:func:`constrict.data.phase_evidence.measured_evidence`, 68th percentile of the MP -
OQMD volume discrepancy per database): 2.2-2.5 % for spreads below 0.03, 3.4 % at
0.03-0.1, 7.1 % at 0.1-0.3 (half the spread: 2-15 %), but only 11 % at 0.3-1 where half
the spread would say 15-50 %: beyond 0.3 the spread comes from molecular or layered
polymorphs, not from the phase's own volume."""

NEIGHBOUR_ESTIMATE_SIGMA = 0.055
"""Relative volume uncertainty at least given to a volume estimated from the hull
neighbours (``volume_rule`` ``neighbour_estimate``): 1.4826 x its median error of
3.7 % against trusted volumes (docs/data.md, "Volume plausibility")."""

NEIGHBOUR_ESTIMATE_RULE = "neighbour_estimate"
"""``volume_rule`` of a volume estimated from the hull neighbours (constrict.data.sources.quality)."""

EVIDENCE_COLUMNS = ("volume_rule", "volume_spread", "volume_oqmd_a3", "energy_oqmd_ev")
"""Entry-table columns :func:`phase_sigmas` reads (each optional) besides entry_id and the volume."""


@dataclass(frozen=True)
class UncertaintyModel:
    """Parameters of the per-phase uncertainties and of the Kcrit interval (config ``uncertainty:``).

    Attributes
    ----------
    sigma_v : float
        Relative volume uncertainty of one database's phase (dimensionless,
        0.023 = 2.3 %): the robust standard deviation of ln(V_MP / V_OQMD)
        over the formulas both hold, / sqrt(2).
    sigma_e_ev_per_atom : float
        Formation-energy uncertainty of one database's compound (eV/atom)
        in a balanced reaction: the robust standard deviation of
        E_MP - E_OQMD after a shift per element, / sqrt(2). Elements are the
        energy reference (0).
    energy_model : {"constant", "oqmd_residual"}
        ``constant``: every compound gets ``sigma_e_ev_per_atom``;
        ``oqmd_residual``: a compound with an OQMD energy gets
        ``sqrt(sigma_e^2 / 2 + r_i^2 / 4)`` from its own residual ``r_i``
        (as the volumes do from theirs).
    coverage_k : float
        Half-width of the interval in standard deviations (k).
    max_ratio : float
        Determined when ``0 < kcrit_lo`` and a finite ``kcrit_hi <= max_ratio * kcrit_lo``.
    """

    sigma_v: float = 0.023
    sigma_e_ev_per_atom: float = 0.005
    energy_model: str = "oqmd_residual"
    coverage_k: float = 1.0
    max_ratio: float = 2.0

    def __post_init__(self):
        for name, lo, hi in (("sigma_v", 0.0, 1.0), ("sigma_e_ev_per_atom", 0.0, 1.0), ("coverage_k", 0.0, 10.0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not (isinstance(value, (int, float)) and lo <= value <= hi):
                raise ConfigError(f"uncertainty.{name} must be a number in [{lo:g}, {hi:g}], not {value!r}")
        ratio = self.max_ratio
        if isinstance(ratio, bool) or not (isinstance(ratio, (int, float)) and 1.0 <= ratio < math.inf):
            raise ConfigError(f"uncertainty.max_ratio must be a finite number >= 1, not {ratio!r}")
        if self.energy_model not in ENERGY_MODELS:
            raise ConfigError(
                f"uncertainty.energy_model must be one of {', '.join(ENERGY_MODELS)}, not {self.energy_model!r}"
            )

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None) -> UncertaintyModel:
        """The model of a config's ``uncertainty:`` mapping (missing keys take the defaults).

        Raises
        ------
        ConfigError
            An unknown key or a value out of range (one line).
        """
        section = dict(section or {})
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(section) - set(known))
        if unknown:
            raise ConfigError(f"unknown uncertainty key(s) {unknown}; known: {known}")
        return cls(**section)


@dataclass(frozen=True)
class PhaseSigmas:
    """Per-phase uncertainties of the entries of one :class:`~constrict.data.entries.EntrySet` (its rows).

    Attributes
    ----------
    entry_ids : ndarray of object (str), shape (n_entries,)
        The entry of each row.
    sigma_v_rel : ndarray of shape (n_entries,)
        Relative volume uncertainty (dimensionless).
    sigma_v_a3 : ndarray of shape (n_entries,)
        Volume uncertainty per atom (Å³/atom), 0 where the volume is unknown.
    sigma_e_ev : ndarray of shape (n_entries,)
        Formation-energy uncertainty (eV/atom); 0 for elements.
    model : UncertaintyModel
        The model that made them.
    """

    entry_ids: np.ndarray
    sigma_v_rel: np.ndarray
    sigma_v_a3: np.ndarray
    sigma_e_ev: np.ndarray
    model: UncertaintyModel

    def for_entry_set(self, entry_set: EntrySet) -> PhaseSigmas:
        """These sigmas on the rows of ``entry_set`` (e.g. a subset), matched by entry_id.

        Raises
        ------
        SchemaError
            An entry of ``entry_set`` has no sigma here.
        """
        if entry_set.entry_ids is self.entry_ids or np.array_equal(entry_set.entry_ids, self.entry_ids):
            return PhaseSigmas(entry_set.entry_ids, self.sigma_v_rel, self.sigma_v_a3, self.sigma_e_ev, self.model)
        index = dict(zip(self.entry_ids.tolist(), range(len(self.entry_ids)), strict=True))
        missing = [e for e in entry_set.entry_ids if e not in index]
        if missing:
            raise SchemaError(f"no phase uncertainty for entries {missing[:3]} (sigmas of another table)")
        rows = np.fromiter((index[e] for e in entry_set.entry_ids), dtype=np.intp, count=len(entry_set.entry_ids))
        return PhaseSigmas(entry_set.entry_ids, self.sigma_v_rel[rows], self.sigma_v_a3[rows],
                           self.sigma_e_ev[rows], self.model)

    def frame(self) -> pd.DataFrame:
        """The sigmas as a table: entry_id, sigma_v_rel, sigma_e_ev_per_atom."""
        import pandas as pd

        return pd.DataFrame({"entry_id": self.entry_ids, "sigma_v_rel": self.sigma_v_rel,
                             "sigma_e_ev_per_atom": self.sigma_e_ev})


def read_evidence(path) -> pd.DataFrame:
    """entry_id and the :data:`EVIDENCE_COLUMNS` an entry-table Parquet file has (no validation: fast).

    Parameters
    ----------
    path : str or path-like
        Entry table (docs/schema.md).
    """
    import pyarrow.parquet as pq

    names = set(pq.read_schema(path).names)
    return pq.read_table(path, columns=["entry_id", *[c for c in EVIDENCE_COLUMNS if c in names]]).to_pandas()


def _aligned(evidence: pd.DataFrame, entry_set: EntrySet) -> pd.DataFrame:
    ids = evidence["entry_id"].to_numpy()
    if len(ids) == len(entry_set.entry_ids) and np.array_equal(ids, entry_set.entry_ids):
        return evidence.reset_index(drop=True)
    return evidence.drop_duplicates("entry_id").set_index("entry_id").reindex(entry_set.entry_ids).reset_index()


def phase_sigmas(entry_set: EntrySet, model: UncertaintyModel | None = None, *,
                 evidence: pd.DataFrame | None = None) -> PhaseSigmas:
    """Per-phase uncertainties of every entry (docs/science.md, "Uncertainty of Kcrit").

    Volume, relative: ``sqrt(sigma_v^2 / 2 + D_i^2 / 4)`` with
    ``D_i = ln(V_i / V_OQMD,i)`` where OQMD has an independent volume (the
    spread of MP's own error once the two databases' difference is seen),
    ``sigma_v`` where it has none; at least the polymorph term
    ``min(volume_spread, POLYMORPH_SPREAD_MAX) / 2``, and at least
    :data:`NEIGHBOUR_ESTIMATE_SIGMA` for a volume estimated from the hull
    neighbours. Energy: 0 for elements; ``sigma_e_ev_per_atom`` for
    compounds, or under ``oqmd_residual`` ``sqrt(sigma_e^2 / 2 + r_i^2 /
    4)`` with ``r_i`` the MP - OQMD residual after the per-element shifts
    (:func:`constrict.data.phase_evidence.energy_residual_ev`, fitted over this
    entry set: give the whole table, then :meth:`PhaseSigmas.for_entry_set`
    for subsets). Entries without evidence (custom entries, tables without
    the columns) get ``sigma_v`` and ``sigma_e_ev_per_atom``.

    Parameters
    ----------
    entry_set : EntrySet
    model : UncertaintyModel, optional
        Defaults to ``UncertaintyModel()``.
    evidence : pandas.DataFrame, optional
        entry_id and any of :data:`EVIDENCE_COLUMNS` (:func:`read_evidence`);
        default: the entry set's own table (:attr:`EntrySet.frame`).

    Returns
    -------
    PhaseSigmas
    """
    model = model or UncertaintyModel()
    frame = _aligned(entry_set.frame if evidence is None else evidence, entry_set)
    frame = frame.assign(volume_per_atom_a3=entry_set.volume_per_atom_a3)
    volume = entry_set.volume_per_atom_a3
    disc = volume_discrepancy(frame)
    sigma_v = np.where(np.isfinite(disc), np.sqrt(model.sigma_v**2 / 2 + disc**2 / 4), model.sigma_v)
    spread = np.nan_to_num(column(frame, "volume_spread"), nan=0.0)
    sigma_v = np.fmax(sigma_v, np.minimum(spread, POLYMORPH_SPREAD_MAX) / 2)
    if "volume_rule" in frame.columns:
        estimated = (frame["volume_rule"] == NEIGHBOUR_ESTIMATE_RULE).to_numpy()
        sigma_v = np.where(estimated, np.fmax(sigma_v, NEIGHBOUR_ESTIMATE_SIGMA), sigma_v)
    compound = np.count_nonzero(entry_set.comp, axis=1) > 1
    sigma_e = np.where(compound, model.sigma_e_ev_per_atom, 0.0)
    if model.energy_model == "oqmd_residual":
        res = energy_residual_ev(entry_set.comp, entry_set.energy_per_atom_ev, column(frame, "energy_oqmd_ev"))
        sigma_e = np.where(np.isfinite(res), np.sqrt(model.sigma_e_ev_per_atom**2 / 2 + res**2 / 4), sigma_e)
    return PhaseSigmas(entry_set.entry_ids, sigma_v, np.nan_to_num(sigma_v * volume, nan=0.0), sigma_e, model)


def cached_phase_sigmas(entry_set: EntrySet, model: UncertaintyModel | None = None) -> PhaseSigmas:
    """:func:`phase_sigmas` of the entry set's own table, kept in its ``phase_sigmas`` cache (per thread and copy)."""
    model = model or UncertaintyModel()
    cache = entry_set.system_cache("phase_sigmas")
    if model not in cache:
        cache[model] = phase_sigmas(entry_set, model)
    return cache[model]


@dataclass(frozen=True)
class KcritInterval:
    """The first-order interval of the linear Kcrit at one voltage (products of p = 0 held).

    Attributes
    ----------
    kcrit_lo_gpa, kcrit_hi_gpa : float
        Bounds (GPa); ``hi`` is inf where the strain's sign is not certain.
    determined : bool
        The value is determined by the data (module docstring).
    eps : float
        Reaction strain under the convention.
    eps_sigma : float
        One standard deviation of the strain (dimensionless).
    dg_sigma_ev_per_atom : float
        One standard deviation of dG (eV per atom of R).
    """

    kcrit_lo_gpa: float
    kcrit_hi_gpa: float
    determined: bool
    eps: float
    eps_sigma: float
    dg_sigma_ev_per_atom: float

    def as_row(self) -> dict:
        """The screen columns kcrit_lo_gpa, kcrit_hi_gpa, kcrit_determined, eps_sigma, dg_sigma_ev_per_atom."""
        return {
            "kcrit_lo_gpa": self.kcrit_lo_gpa,
            "kcrit_hi_gpa": self.kcrit_hi_gpa,
            "kcrit_determined": self.determined,
            "eps_sigma": self.eps_sigma,
            "dg_sigma_ev_per_atom": self.dg_sigma_ev_per_atom,
        }


INTERVAL_COLUMNS = ("kcrit_lo_gpa", "kcrit_hi_gpa", "kcrit_determined", "eps_sigma", "dg_sigma_ev_per_atom")
"""Columns of :meth:`KcritInterval.as_row`, in order."""


def net_amounts(products: Mapping[int, float], reactant_phases: Mapping[int, float]) -> dict[int, float]:
    """Net atoms ``d_i = n_P,i - n_R,i`` of every phase (per atom of R)."""
    net = dict(products)
    for row, amount in reactant_phases.items():
        net[row] = net.get(row, 0.0) - amount
    return net


def determined(lo: float, hi: float, max_ratio: float) -> bool:
    """The determined rule: ``lo == hi`` (0 or inf included), or ``0 < lo`` and a finite ``hi <= max_ratio * lo``."""
    if lo == hi:
        return True
    return bool(lo > 0.0 and math.isfinite(hi) and hi <= max_ratio * lo)


def interval_from_strain(dg_ev: float, eps: float, v_r_a3: float, dg_sigma_ev: float, eps_sigma: float,
                         model: UncertaintyModel) -> KcritInterval:
    """The interval from dG, the strain and their standard deviations (per atom of R).

    Parameters
    ----------
    dg_ev : float
        dG (eV per atom of R, <= 0).
    eps : float
        Reaction strain (V_P' - V_R) / V_R.
    v_r_a3 : float
        V_R (Å³ per atom of R).
    dg_sigma_ev : float
        Standard deviation of dG (eV per atom of R).
    eps_sigma : float
        Standard deviation of the strain (s_V / V_R).
    model : UncertaintyModel
        Gives k and the determined ratio.

    Returns
    -------
    KcritInterval
        With zero sigmas ``lo == hi == kcrit_linear_gpa(dg_ev, eps, v_r_a3)``, bit for bit.
    """
    point = kcrit_linear_gpa(dg_ev, eps, v_r_a3)
    if not np.isfinite(dg_ev):
        return KcritInterval(math.nan, math.nan, False, math.nan, math.nan, math.nan)
    if point == 0.0:  # stable at V: no products, nothing to vary
        return KcritInterval(0.0, 0.0, True, eps, 0.0, 0.0)
    k = model.coverage_k
    lo = kcrit_linear_gpa(min(dg_ev + k * dg_sigma_ev, 0.0), eps + k * eps_sigma, v_r_a3)
    hi = kcrit_linear_gpa(dg_ev - k * dg_sigma_ev, eps - k * eps_sigma, v_r_a3)
    lo, hi = min(lo, point), max(hi, point)  # rounding never puts the point outside
    return KcritInterval(lo, hi, determined(lo, hi, model.max_ratio), eps, eps_sigma, dg_sigma_ev)


def kcrit_interval(dec: Decomposition, reactant: GroundState, sigmas: PhaseSigmas, *, convention: str,
                   metal_row: int) -> KcritInterval:
    """First-order interval of the linear Kcrit of one decomposition (module docstring).

    Parameters
    ----------
    dec : Decomposition
        The p = 0 products of R at the voltage.
    reactant : GroundState
        R (its phases and their amounts).
    sigmas : PhaseSigmas
        Per-phase uncertainties of the entry set that made ``dec``.
    convention : {"ion_metal", "reservoir", "released_metal"}
        Reaction-strain convention (which volume the exchanged ion counts).
    metal_row : int
        Entry row of the working ion's metal (its volume enters V_P').

    Returns
    -------
    KcritInterval
        ``lo <= Kcrit <= hi`` where Kcrit is
        ``kcrit_linear_gpa(dec.dg_ev_per_atom, dec.eps(convention), dec.v_r_a3_per_atom)``.
    """
    v_r = dec.v_r_a3_per_atom
    eps = dec.eps(convention)
    if dec.dg_ev_per_atom == 0.0 or not np.isfinite(dec.dg_ev_per_atom):
        return interval_from_strain(dec.dg_ev_per_atom, eps, v_r, 0.0, 0.0, sigmas.model)
    net = net_amounts(dec.products, reactant.phases)
    rows = np.fromiter(net, dtype=np.intp, count=len(net))
    amounts = np.fromiter(net.values(), dtype=float, count=len(net))
    dg_sigma = float(np.sqrt(np.sum((amounts * sigmas.sigma_e_ev[rows]) ** 2)))
    c_metal = float(product_volume_a3(0.0, dec.ion_released_per_atom, 1.0, convention))
    dv_terms = amounts * sigmas.sigma_v_a3[rows]
    metal = c_metal * sigmas.sigma_v_rel[metal_row] * dec.v_metal_a3_per_atom
    at = np.flatnonzero(rows == metal_row)
    if len(at):  # the ion metal is itself a phase of R or P: one term
        dv_terms[at[0]] += metal
        metal = 0.0
    dv_sigma = float(np.sqrt(np.sum(dv_terms**2) + metal**2))
    return interval_from_strain(dec.dg_ev_per_atom, eps, v_r, dg_sigma, dv_sigma / v_r, sigmas.model)


def _gpa(value: float) -> str:
    """A modulus in about three significant digits (GPa), 'inf' for infinity."""
    if math.isinf(value):
        return "inf"
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"


def kcrit_text(row: Mapping[str, Any], coverage_k: float) -> str:
    """A Kcrit for people: ``"9.20 GPa [8.48, 10.0]"`` or ``"not determined (strain 0.26 % ± 2.7 %) [49.9, inf]"``.

    Parameters
    ----------
    row : mapping
        A screen row: kcrit_gpa, kcrit_lo_gpa, kcrit_hi_gpa,
        kcrit_determined, eps_sigma, convention and the strain of that
        convention (``eps_<convention>``).
    coverage_k : float
        The k of the interval (the ± of the strain is k standard deviations).
    """
    k, lo, hi = (float(row[c]) for c in ("kcrit_gpa", "kcrit_lo_gpa", "kcrit_hi_gpa"))
    if math.isnan(k):
        return "-"
    bounds = f"[{_gpa(lo)}, {_gpa(hi)}]"
    if row["kcrit_determined"]:
        if k == 0:
            return "0 GPa (stable)"
        if math.isinf(k):
            return "inf (strain certainly <= 0)"
        return f"{k:.2f} GPa {bounds}"
    eps = float(row[f"eps_{row['convention']}"])
    return (f"not determined (strain {100 * eps:.2g} % ± {100 * coverage_k * float(row['eps_sigma']):.2g} %) "
            f"{bounds} GPa")

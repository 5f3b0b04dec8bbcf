"""The few physics evaluations the reproduction study makes itself, all through the engine.

- sample screens: a seeded sample of the campaign's coatings against
  electrolytes of another data source (OQMD) or another composition
  (``hull:Na7P3S11`` for the paper's sodium electrolyte), with
  :func:`constrict.physics.evaluate.evaluate_interface`;
- the electrolytes' windows under every convention
  (:func:`constrict.physics.windows.electrolyte_windows`), with the Kcrit just
  beyond each edge, which says why the edge is where it is;
- the strain of an electrolyte's decomposition at the voltage limits and
  inside its window (the paper: > 30 % at both limits, +2 % for the
  chemical decay of LGPS);
- designed compositions against their electrolyte (the paper's parent and
  child A, and ours), taken at their hull energy (``hull:<formula>``).

Each returns rows of the screen result schema or a small frame; the
strain under every convention follows from their columns
(:mod:`constrict.reproduction.variants`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from constrict.core.errors import ConstrictError
from constrict.data.entries import EntrySet, parse_composition
from constrict.data.tables import RESULT_COLUMNS, error_rows, results_frame
from constrict.physics.electrochem import decompose_at, ground_state
from constrict.physics.evaluate import HULL_PREFIX, evaluate_interface
from constrict.physics.kcrit import kcrit_at
from constrict.physics.opensystem import open_system
from constrict.physics.windows import WINDOW_COLUMNS, electrolyte_windows
from constrict.reproduction.variants import ion_fraction, kcrit_from_strain, normalised

log = logging.getLogger(__name__)

EDGE_PROBE_V = 0.01
"""How far beyond a window edge (V) the Kcrit that closes the window is read."""

SAMPLE_COLUMNS = (*RESULT_COLUMNS, "source")
"""Columns of :func:`screen_pairs` (results/reproduction/samples.parquet): the screen's and the data source."""

WINDOW_VARIANT_COLUMNS = (*WINDOW_COLUMNS, "kcrit_below_gpa", "kcrit_above_gpa")
"""Columns of :func:`windows_by_convention` (results/reproduction/windows.parquet)."""

STRAIN_COLUMNS = ("electrolyte", "point", "voltage_v", "products", "ion_released_per_atom", "dg_ev_per_atom",
                  "convention", "eps")
"""Columns of :func:`limit_strains` (results/reproduction/strains.parquet)."""

DESIGN_COLUMNS = ("electrolyte", "formula", "voltage_v", "convention", "normalisation", "reacts", "kcrit_gpa",
                  "dg_ev_per_atom", "energy_keff_ev_per_atom", "keff_gpa")
"""Columns of :func:`design_variants` (results/reproduction/design.parquet)."""


def elements_of(formula: str) -> set[str]:
    """Element symbols of a formula, entry formula or ``hull:<formula>``."""
    text = formula.strip()
    if text.startswith(HULL_PREFIX):
        text = text[len(HULL_PREFIX):]
    return {el.symbol for el in parse_composition(text).elements}


def pair_systems(electrolytes: Iterable[str], coatings: Iterable[str]) -> list[str]:
    """The combined chemical systems ("Li-O-P-S") of every electrolyte x coating pair, sorted."""
    coatings = list(coatings)
    systems = {"-".join(sorted(elements_of(e) | elements_of(c))) for e in electrolytes for c in coatings}
    return sorted(systems)


def sample_coatings(coatings: pd.DataFrame, n: int, *, random_state: int,
                    available: Iterable[str] | None = None) -> list[str]:
    """A seeded sample of ``n`` coating formulas (reduced), sorted.

    Parameters
    ----------
    coatings : pandas.DataFrame
        The campaign's coatings (``reduced_formula``).
    n : int
        Sample size (all of them when fewer).
    random_state : int
    available : iterable of str, optional
        Only formulas in this set are drawn (e.g. those another source has).
    """
    formulas = pd.Series(sorted(set(coatings["reduced_formula"])))
    if available is not None:
        formulas = formulas[formulas.isin(set(available))]
    n = min(int(n), len(formulas))
    return sorted(formulas.sample(n=n, random_state=random_state).tolist())


def screen_pairs(entry_set: EntrySet, electrolytes: Sequence[dict], coatings: Sequence[str], *,
                 voltages_v: Sequence[float], convention: str, source: str) -> pd.DataFrame:
    """Result rows of every electrolyte x coating pair, as the screen makes them.

    A coating equal to the electrolyte is left out; an electrolyte or
    coating missing from the data, or a pair the engine refuses, gives
    error rows (logged), as in the screen.

    Parameters
    ----------
    electrolytes : sequence of dict
        ``formula`` (an entry or ``hull:<formula>``) and ``working_ion``;
        ``label`` (optional) becomes ``electrolyte_label``.
    coatings : sequence of str
        Coating formulas (entries of ``entry_set``).
    source : str
        Written to the ``source`` column (e.g. mp_offline, oqmd_offline).

    Returns
    -------
    pandas.DataFrame
        The screen result columns plus ``source``.
    """
    rows = []
    for item in electrolytes:
        label = item.get("label", item["formula"])
        for coating in coatings:
            if coating == item["formula"]:
                continue
            try:
                found = evaluate_interface(entry_set, item["formula"], coating, voltages_v=voltages_v,
                                           working_ion=item["working_ion"], convention=convention)
            except ConstrictError as err:
                log.warning("%s | %s (%s): %s", item["formula"], coating, source, err)
                pair = {"electrolyte": item["formula"], "electrolyte_label": label,
                        "working_ion": item["working_ion"], "coating_id": coating, "coating_formula": coating,
                        "chemical_system": ""}
                rows += error_rows(pair, voltages_v, convention, err)
                continue
            rows += [{**row, "electrolyte_label": label} for row in found]
    return results_frame(rows).assign(source=source)[list(SAMPLE_COLUMNS)]


def windows_by_convention(entry_set: EntrySet, electrolytes: Sequence[dict], keff_gpa: Sequence[float],
                          conventions: Sequence[str]) -> pd.DataFrame:
    """Each electrolyte's windows under each convention, with the Kcrit that closes each edge.

    Returns
    -------
    pandas.DataFrame
        :data:`constrict.physics.windows.WINDOW_COLUMNS` plus ``kcrit_below_gpa``
        and ``kcrit_above_gpa``: the linear Kcrit (GPa) of the electrolyte's
        ground state :data:`EDGE_PROBE_V` below the lower and above the
        upper edge (inf: no constriction stops that decomposition; NaN
        below 0 V).
    """
    frames = []
    for convention in conventions:
        windows = electrolyte_windows(entry_set, electrolytes, keff_gpa, convention=convention)
        below, above = [], []
        for row in windows.itertuples():
            comp = entry_set.comp[entry_set.find(row.electrolyte)]
            system = open_system(entry_set, comp, row.working_ion, convention)
            reactant = ground_state(entry_set, comp)

            def kcrit(v, system=system, reactant=reactant):
                return kcrit_at(system, reactant, v, self_consistent=False).kcrit_gpa if v >= 0 else np.nan

            below.append(kcrit(row.v_low_v - EDGE_PROBE_V))
            above.append(kcrit(row.v_high_v + EDGE_PROBE_V) if np.isfinite(row.v_high_v) else np.nan)
        frames.append(windows.assign(kcrit_below_gpa=below, kcrit_above_gpa=above))
    return pd.concat(frames, ignore_index=True)[list(WINDOW_VARIANT_COLUMNS)]


def limit_strains(entry_set: EntrySet, electrolytes: Sequence[dict], voltages_v: Sequence[float],
                  conventions: Sequence[str]) -> pd.DataFrame:
    """The strain of each electrolyte's decompositions: its chemical decay, and at the given voltages.

    - ``decay``: the entry (at its own energy and volume) to the hull
      phases at its composition, no ion exchanged (for LGPS the paper's
      Li4GeS4 + 2 Li3PS4, "2 % larger"); the same under every convention.
    - ``voltage``: the grand-potential decomposition of its ground state
      at each voltage (the paper: > 30 % at the complete oxidation and
      reduction limits).

    Returns
    -------
    pandas.DataFrame
        One row per electrolyte, point, voltage and convention: electrolyte,
        point, voltage_v (NaN for the decay), products ("Li4GeS4 0.36 +
        ...", atoms per atom of the reactant), ion_released_per_atom,
        dg_ev_per_atom, convention, eps.
    """
    def names(products: dict) -> str:
        return " + ".join(f"{entry_set.reduced_formula(r)} {a:.4g}" for r, a in sorted(products.items()))

    rows = []
    for item in electrolytes:
        try:
            row = entry_set.find(item["formula"])
        except ConstrictError:
            continue
        comp = entry_set.comp[row]
        system = open_system(entry_set, comp, item["working_ion"])
        reactant = ground_state(entry_set, comp)
        decay = {"electrolyte": item["formula"], "point": "decay", "voltage_v": np.nan,
                 "products": names(reactant.phases), "ion_released_per_atom": 0.0,
                 "dg_ev_per_atom": reactant.energy_per_atom_ev - float(entry_set.energy_per_atom_ev[row])}
        eps = reactant.volume_a3 / float(entry_set.volume_per_atom_a3[row]) - 1.0
        rows += [{**decay, "convention": c, "eps": eps} for c in conventions]
        for voltage_v in voltages_v:
            dec = decompose_at(system, reactant, float(voltage_v))
            base = {"electrolyte": item["formula"], "point": "voltage", "voltage_v": float(voltage_v),
                    "products": names(dec.products), "ion_released_per_atom": dec.ion_released_per_atom,
                    "dg_ev_per_atom": dec.dg_ev_per_atom}
            rows += [{**base, "convention": c, "eps": dec.eps(c)} for c in conventions]
    return pd.DataFrame(rows, columns=list(STRAIN_COLUMNS))


def design_rows(entry_set: EntrySet, pairs: pd.DataFrame) -> pd.DataFrame:
    """Designed compositions (at their hull energy) against their electrolyte, and alone.

    :func:`constrict.design.physics.verify` under the default convention:
    its rows carry the strain of every convention, so the Kcrit of each
    follows (:func:`design_variants`).

    Parameters
    ----------
    pairs : pandas.DataFrame
        Columns electrolyte (entry or ``hull:<formula>``), formula,
        working_ion, voltage_v; one row per pair and voltage.

    Returns
    -------
    pandas.DataFrame
        The rows of ``verify`` (``electrolyte`` as given, not the engine's
        reduced formula) plus ``working_ion``; a composition the engine
        refuses is left out (logged).
    """
    from constrict.design.physics import Target, verify

    rows = []
    for (electrolyte, formula, ion), group in pairs.groupby(["electrolyte", "formula", "working_ion"], sort=True):
        try:
            found = verify(entry_set, formula, Target(electrolyte, ion), sorted(group["voltage_v"].unique()))
        except ConstrictError as err:
            log.warning("%s | %s: %s", electrolyte, formula, err)
            continue
        rows += [{**row, "electrolyte": electrolyte, "working_ion": ion} for row in found]
    return pd.DataFrame(rows)


def design_variants(rows: pd.DataFrame, *, conventions: Sequence[str], normalisations: Sequence[str],
                    keff_gpa: float) -> pd.DataFrame:
    """Kcrit and the energy under Keff of :func:`design_rows` under every convention and normalisation.

    As the design stage has it (:func:`constrict.design.physics.design_kcrit_gpa`):
    the interface's Kcrit where the pair reacts, else the composition's own.

    Returns
    -------
    pandas.DataFrame
        One row per pair, voltage, convention and normalisation: electrolyte,
        formula, voltage_v, convention, normalisation, reacts, kcrit_gpa,
        dg_ev_per_atom and energy_keff_ev_per_atom (the interface's
        ``min(0, dG + Keff eps V0)``, :func:`constrict.design.physics.energy_under_keff`,
        at ``keff_gpa``; both in the normalisation's energy unit).
    """
    from constrict.design.physics import energy_under_keff

    if rows.empty:
        return pd.DataFrame(columns=list(DESIGN_COLUMNS))
    reacts = rows["interface_reacts"].to_numpy(dtype=bool)
    sei = pd.DataFrame({"sei_composition": rows["interface_sei_composition"], "working_ion": rows["working_ion"]})
    x_sei = ion_fraction(sei)
    x_self = np.array([float(parse_composition(f).get_atomic_fraction(ion))
                       for f, ion in zip(rows["formula"], rows["working_ion"], strict=True)])
    out = []
    for convention in conventions:
        for normalisation in normalisations:
            eps = rows[f"interface_eps_{convention}"].to_numpy(dtype=float)
            args = (rows["interface_dg_ev_per_atom"], eps, rows["interface_v_r_a3_per_atom"], x_sei, normalisation)
            interface = kcrit_from_strain(*args)
            alone = kcrit_from_strain(rows["self_dg_ev_per_atom"], rows[f"self_eps_{convention}"],
                                      rows["self_v_r_a3_per_atom"], x_self, normalisation)
            dg, v0 = normalised(*args)
            energy = [energy_under_keff(g, e, v, keff_gpa) if r else np.nan
                      for g, e, v, r in zip(dg, eps, v0, reacts, strict=True)]
            out.append(pd.DataFrame({
                "electrolyte": rows["electrolyte"], "formula": rows["formula"], "voltage_v": rows["voltage_v"],
                "convention": convention, "normalisation": normalisation, "reacts": reacts,
                "kcrit_gpa": np.where(reacts, interface, alone), "dg_ev_per_atom": np.where(reacts, dg, np.nan),
                "energy_keff_ev_per_atom": energy, "keff_gpa": float(keff_gpa)}))
    return pd.concat(out, ignore_index=True)[list(DESIGN_COLUMNS)]

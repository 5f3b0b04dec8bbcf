"""Cathodes, the known practical coatings, and the coatings a cathode stack screens.

A cathode has a formula (a table entry, taken at its own energy as
assembled), a top-of-charge voltage V_c (V vs. Li/Li+) with its source, a
label and, optionally, its charged composition (taken at its hull energy,
e.g. ``Li0.5CoO2``; docs/science.md section 7). Each becomes one or two
*cathode states*, the reactants of the cathode side.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from constrict.core.errors import ConfigError, ConstrictError
from constrict.data.entries import parse_composition
from constrict.physics.evaluate import HULL_PREFIX
from constrict.physics.opensystem import check_voltages

log = logging.getLogger(__name__)

KNOWN_COATINGS: tuple[str, ...] = (
    "LiNbO3", "LiTaO3", "Li3PO4", "Li4Ti5O12", "Li2ZrO3", "LiAlO2", "Li3BO3", "Li2SiO3", "Li4SiO4",
)
"""Cathode coatings used in practice; labelled in every output and always screened."""

REQUIRE_ELEMENTS: tuple[str, ...] = ("Li", "O")
"""Default stack selection: a coating holds all of these (a Li-containing oxide) ..."""

EXCLUDE_ELEMENTS: tuple[str, ...] = ("Br", "Cl", "F", "I", "N", "S", "Se", "Te")
"""... and none of these other anions (docs/cathode.md explains the default)."""

DEFAULT_KEFF_GPA = 15.0
"""Keff (GPa) at which stacks are called constriction-stable unless told otherwise
(the paper's constrained window of LGPS, about 1-4 V, is at this Keff)."""

State = Literal["assembled", "charged"]


@dataclass(frozen=True)
class Cathode:
    """A cathode at the top of its charge.

    Attributes
    ----------
    formula : str
        Formula of the cathode as assembled, an entry of the data (its own
        energy), e.g. ``"LiCoO2"``.
    voltage_v : float
        Top-of-charge voltage (V vs. the working-ion metal).
    voltage_source : str
        Where ``voltage_v`` comes from.
    label : str
        Name in every output, e.g. ``"LiCoO2 (LCO)"``.
    charged : str or None
        Charged (delithiated) composition at ``voltage_v``, taken at its
        hull energy, e.g. ``"Li0.5CoO2"``; None = only the assembled state.
    working_ion : str
        The ion it exchanges, ``"Li"`` for every default cathode.
    """

    formula: str
    voltage_v: float
    voltage_source: str
    label: str
    charged: str | None = None
    working_ion: str = "Li"

    @classmethod
    def from_config(cls, item: Mapping[str, Any]) -> Cathode:
        """A cathode from one ``cathodes:`` config item, checked (one-line ConfigError)."""
        formula = str(item["formula"])
        where = f"config.cathodes: {formula}"
        try:
            elements = {el.symbol for el in parse_composition(formula).elements}
            charged = item.get("charged")
            if charged:
                parse_composition(charged)
            [voltage_v] = check_voltages([item["voltage_v"]])
        except ConstrictError as err:
            raise ConfigError(f"{where}: {err}") from None
        ion = item.get("working_ion") or "Li"
        if ion not in elements:
            raise ConfigError(f"{where}: working_ion {ion} is not in {formula}; set the ion the cathode exchanges")
        return cls(formula, voltage_v, str(item["voltage_source"]), str(item.get("label") or formula),
                   str(charged) if charged else None, ion)

    def states(self) -> list[CathodeState]:
        """The assembled state and, if set, the charged one."""
        out = [CathodeState(self, "assembled", self.formula, self.formula, self.label)]
        if self.charged:
            formula = "".join(self.charged.split())
            out.append(CathodeState(self, "charged", HULL_PREFIX + formula, formula,
                                    f"{formula} (charged {self.formula})"))
        return out


@dataclass(frozen=True)
class CathodeState:
    """One reactant of the cathode side.

    Attributes
    ----------
    cathode : Cathode
    state : {"assembled", "charged"}
    reactant : str
        What :func:`constrict.physics.evaluate.resolve_reactant` reads: the formula
        (a table entry) or ``"hull:<composition>"``.
    formula : str
        The composition as written.
    label : str
        Name in every output.
    """

    cathode: Cathode
    state: State
    reactant: str
    formula: str
    label: str


KNOWN_CATHODES: dict[str, Cathode] = {
    c.formula: c
    for c in (
        Cathode("LiCoO2", 4.2, "4.2 V: the usual upper cut-off of LiCoO2, reached near Li0.5CoO2 "
                "(Reimers & Dahn, J. Electrochem. Soc. 1992, 139, 2091)", "LiCoO2 (LCO)", "Li0.5CoO2"),
        Cathode("LiFePO4", 3.6, "3.6 V: just above the 3.45 V two-phase LiFePO4/FePO4 plateau "
                "(Padhi, Nanjundaswamy & Goodenough, J. Electrochem. Soc. 1997, 144, 1188)", "LiFePO4 (LFP)",
                "FePO4"),
        Cathode("LiMn2O4", 4.3, "4.3 V: the usual upper cut-off above the ~4.1 V plateaus of Li(1-x)Mn2O4 "
                "(Goodenough & Park, J. Am. Chem. Soc. 2013, 135, 1167)", "LiMn2O4 (LMO)", "MnO2"),
        Cathode("LiNiO2", 4.3, "4.3 V: the usual upper cut-off of LiNiO2, near Li0.2NiO2 "
                "(Dahn, von Sacken, Juzkow & Al-Janaby, J. Electrochem. Soc. 1991, 138, 2207)", "LiNiO2 (LNO)",
                "Li0.2NiO2"),
        Cathode("LiCoPO4", 5.0, "5.0 V: above the 4.8 V plateau of LiCoPO4 "
                "(Amine, Yasuda & Yamachi, Electrochem. Solid-State Lett. 2000, 3, 178)", "LiCoPO4 (LCP)",
                "CoPO4"),
    )
}
"""Cathodes with a documented top-of-charge voltage (``constrict stack`` takes V_c from here)."""


def cathodes_from_config(items: Iterable[Mapping[str, Any]]) -> list[Cathode]:
    """The config's ``cathodes:`` list as checked :class:`Cathode` objects (labels and formulas unique)."""
    cathodes = [Cathode.from_config(item) for item in items]
    for key in ("formula", "label"):
        values = [getattr(c, key) for c in cathodes]
        twice = sorted({v for v in values if values.count(v) > 1})
        if twice:
            raise ConfigError(f"config.cathodes: {key} {', '.join(twice)} listed twice; list each cathode once")
    return cathodes


def cathode_states(cathodes: Iterable[Cathode]) -> list[CathodeState]:
    """Every cathode state of ``cathodes``, in config order (assembled before charged)."""
    return [state for cathode in cathodes for state in cathode.states()]


def stack_voltages_v(cathodes: Iterable[Cathode]) -> list[float]:
    """Sorted distinct top-of-charge voltages (V): every stack interface is evaluated at these."""
    return sorted({c.voltage_v for c in cathodes})


def select_stack_coatings(
    entries: pd.DataFrame,
    coatings: pd.DataFrame,
    *,
    require_elements: Sequence[str] = REQUIRE_ELEMENTS,
    exclude_elements: Sequence[str] = EXCLUDE_ELEMENTS,
    known_coatings: Sequence[str] = KNOWN_COATINGS,
) -> tuple[pd.DataFrame, list[str]]:
    """The coatings of the stack screen: the screen's coatings narrowed by elements, plus the known coatings.

    Parameters
    ----------
    entries : DataFrame
        The campaign's entry table (the known coatings are looked up here,
        lowest energy of each reduced formula, so they are screened even
        when the screen's selection leaves them out).
    coatings : DataFrame
        The screen's coatings (``coatings.parquet``).
    require_elements : sequence of str
        Keep coatings holding every one of these; ``[]`` = no requirement.
    exclude_elements : sequence of str
        Drop coatings holding any of these; ``[]`` = none dropped.
    known_coatings : sequence of str
        Formulas always kept and flagged ``known_coating``.

    Returns
    -------
    coatings : DataFrame
        Entry-table columns plus ``known_coating`` (bool), one row per
        composition, sorted by entry_id.
    missing : list of str
        Known coatings absent from the entry data.
    """
    required, excluded = frozenset(require_elements), frozenset(exclude_elements)
    keep = coatings["elements"].map(lambda els: required.issubset(els) and not excluded.intersection(els))
    chosen = coatings[keep.astype(bool)]
    known = {parse_composition(f).reduced_formula: f for f in known_coatings}
    candidates = entries[entries["reduced_formula"].isin(known)]
    if "energy_per_atom_ev" in candidates.columns:
        candidates = candidates.sort_values("energy_per_atom_ev", kind="stable")
    candidates = candidates.drop_duplicates("reduced_formula", keep="first")
    missing = [f for reduced, f in known.items() if reduced not in set(candidates["reduced_formula"])]
    for formula in missing:
        log.warning("known coating %s is not in the entry data; it is not screened", formula)
    extra = candidates[~candidates["reduced_formula"].isin(chosen["reduced_formula"])]
    out = pd.concat([chosen, extra[chosen.columns]], ignore_index=True) if len(extra) else chosen.copy()
    out["known_coating"] = out["reduced_formula"].isin(known)
    out = out.sort_values("entry_id", kind="mergesort").reset_index(drop=True)
    log.info("stack coatings: %d of the screen's %d (require %s, exclude %s) plus %d known coatings outside it",
             len(chosen), len(coatings), sorted(required), sorted(excluded), len(extra))
    return out, missing

"""Parent compositions of the design: known sulfide glasses as element fractions, each with its source.

A parent is given either as a formula of atom fractions (the paper's first
glass, ``Li0.364P0.110S0.388I0.138``) or as a mixture of binary and
ternary components in mole fractions (``0.75 Li2S + 0.25 P2S5``), turned
into atom fractions by :func:`mixture_fractions`. docs/design.md shows the
arithmetic for every default parent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from constrict.core.errors import ConfigError, ConstrictError
from constrict.data.entries import parse_composition

FRACTION_DIGITS = 6
"""Decimal places of the atom fractions in every written composition (:func:`formula_of`)."""


def formula_of(fractions: Mapping[str, float], digits: int = FRACTION_DIGITS) -> str:
    """A formula of atom fractions, elements in the given order, zeros left out.

    Parameters
    ----------
    fractions : mapping of str to float
        Element -> atom fraction.
    digits : int
        Decimal places written.

    Returns
    -------
    str
        E.g. ``"Li0.364P0.11S0.388I0.138"`` (trailing zeros dropped).
    """
    parts = []
    for element, value in fractions.items():
        text = f"{float(value):.{digits}f}".rstrip("0").rstrip(".")
        if float(text) > 0:
            parts.append(f"{element}{text}")
    if not parts:
        raise ConstrictError("a composition needs at least one element with a fraction > 0")
    return "".join(parts)


def composition_fractions(formula: str) -> dict[str, float]:
    """Atom fractions of a formula, elements by electronegativity (pymatgen's formula order).

    Raises
    ------
    UnknownFormulaError
        pymatgen cannot parse it.
    """
    comp = parse_composition(formula)
    total = comp.num_atoms
    return {el.symbol: float(comp[el]) / total for el in sorted(comp.elements, key=lambda el: el.X)}


def mixture_fractions(mixture: Mapping[str, float]) -> dict[str, float]:
    """Atom fractions of a mixture of components given in moles (any scale).

    Parameters
    ----------
    mixture : mapping of str to float
        Component formula -> moles, e.g. ``{"Li2S": 0.75, "P2S5": 0.25}``.

    Returns
    -------
    dict of str to float
        Element -> atom fraction, elements in order of first appearance.
        For the example: Li 1.5, P 0.5, S 0.75 + 1.25 = 2.0 atoms per 4.0,
        so Li 0.375, P 0.125, S 0.5.

    Raises
    ------
    ConfigError
        No component, or a negative or non-finite amount.
    UnknownFormulaError
        A component formula does not parse.
    """
    if not mixture:
        raise ConfigError("a mixture needs at least one component")
    atoms: dict[str, float] = {}
    for formula, moles in mixture.items():
        moles = float(moles)
        if not moles >= 0 or moles == float("inf"):
            raise ConfigError(f"mixture component {formula}: moles must be finite and >= 0, not {moles:g}")
        for element, amount in parse_composition(formula).get_el_amt_dict().items():
            atoms[str(element)] = atoms.get(str(element), 0.0) + moles * float(amount)
    total = sum(atoms.values())
    if total <= 0:
        raise ConfigError("a mixture needs a component with moles > 0")
    return {element: amount / total for element, amount in atoms.items()}


@dataclass(frozen=True)
class Parent:
    """One parent composition of the design.

    Attributes
    ----------
    name : str
        Short label used in every table and figure, e.g. ``"LPSI-paper"``.
    formula : str
        Atom fractions as a formula (:func:`formula_of`), e.g.
        ``"Li0.364P0.11S0.388I0.138"``.
    source : str
        Where the composition comes from (a paper, a glass system).
    mixture : tuple of (str, float), optional
        Component -> moles, when the parent was given as a mixture.
    """

    name: str
    formula: str
    source: str
    mixture: tuple[tuple[str, float], ...] = ()

    @property
    def fractions(self) -> dict[str, float]:
        """Element -> atom fraction."""
        return composition_fractions(self.formula)


def parent(name: str, source: str, *, formula: str | None = None, mixture: Mapping[str, float] | None = None) -> Parent:
    """A :class:`Parent` from a formula of atom fractions or from a mixture.

    Raises
    ------
    ConfigError
        Neither or both of ``formula`` and ``mixture``, or an empty name or source.
    """
    if not str(name).strip() or not str(source).strip():
        raise ConfigError("every design parent needs a name and a source")
    if (formula is None) == (mixture is None):
        which = "both" if formula else "neither"
        raise ConfigError(f"design parent {name}: give either formula or mixture, not {which}")
    if formula is not None:
        return Parent(name, formula_of(composition_fractions(formula)), source)
    by_element = composition_fractions(formula_of(mixture_fractions(mixture)))
    return Parent(name, formula_of(by_element), source, tuple((str(k), float(v)) for k, v in mixture.items()))


PAPER_GLASS = "Li0.364P0.110S0.388I0.138"
"""The paper's first parent glass (Fitzhugh et al., Table S1 and Fig. 4c; predicted 16.07 GPa)."""

_LPS = "Li2S-P2S5 glasses (Minami, Hayashi and Tatsumisago, Solid State Ionics 177, 2715 (2006))"
_LPSX = "(100-x)(0.75Li2S.0.25P2S5).xLiX glasses (Ujiie, Hayashi and Tatsumisago, 2012-2013)"
_THIO = "glasses (Pradel and Piarristeguy, C. R. Geosci. 354, 79 (2022))"

DEFAULT_PARENTS: tuple[Parent, ...] = (
    parent("LPSI-paper", "Fitzhugh et al., Table S1 and Fig. 4c: the first parent glass", formula=PAPER_GLASS),
    parent("70Li2S-30P2S5", f"{_LPS}; the glass of Li7P3S11", mixture={"Li2S": 0.70, "P2S5": 0.30}),
    parent("75Li2S-25P2S5", "Li2S-P2S5 glasses (Minami, Hayashi and Tatsumisago, 2006); the ortho-thiophosphate "
           "glass (Li3PS4)", mixture={"Li2S": 0.75, "P2S5": 0.25}),
    parent("LPS-30LiI", f"{_LPSX}; x = 30", mixture={"Li2S": 0.525, "P2S5": 0.175, "LiI": 0.30}),
    parent("LPS-20LiCl", f"{_LPSX}; x = 20", mixture={"Li2S": 0.60, "P2S5": 0.20, "LiCl": 0.20}),
    parent("LPS-20LiBr", f"{_LPSX}; x = 20", mixture={"Li2S": 0.60, "P2S5": 0.20, "LiBr": 0.20}),
    parent("60Li2S-40SiS2", f"Li2S-SiS2 {_THIO}", mixture={"Li2S": 0.60, "SiS2": 0.40}),
    parent("60Li2S-40GeS2", f"Li2S-GeS2 {_THIO}", mixture={"Li2S": 0.60, "GeS2": 0.40}),
    parent("60Li2S-40B2S3", f"Li2S-B2S3 {_THIO}", mixture={"Li2S": 0.60, "B2S3": 0.40}),
    parent("LSS-5Li4SiO4", "oxysulfide glass 95(0.6Li2S.0.4SiS2).5Li4SiO4 (Minami, Hayashi and Tatsumisago, 2006)",
           mixture={"Li2S": 0.57, "SiS2": 0.38, "Li4SiO4": 0.05}),
)
"""The default parents: the paper's first glass, then well-known sulfide glasses (docs/design.md)."""


def parents_from_config(items: Sequence[Mapping] | None) -> tuple[Parent, ...]:
    """Parents from the config's ``design.parents`` list (None = :data:`DEFAULT_PARENTS`).

    Each item has ``name``, ``source`` and either ``formula`` (atom fractions
    or any formula) or ``mixture`` (component -> moles).

    Raises
    ------
    ConfigError
        A parent without name, source or composition, or two with one name.
    """
    if items is None:
        return DEFAULT_PARENTS
    parents = tuple(
        parent(item.get("name", ""), item.get("source", ""), formula=item.get("formula"), mixture=item.get("mixture"))
        for item in items
    )
    names = [p.name for p in parents]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigError(f"design.parents: {', '.join(repeated)} listed twice; give each parent its own name")
    if not parents:
        raise ConfigError("design.parents: list at least one parent (or null for the defaults)")
    return parents

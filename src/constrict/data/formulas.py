"""Formulas as pymatgen Compositions: parsing with one clear error, and a cheap type test."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from constrict.core.errors import UnknownFormulaError

if TYPE_CHECKING:
    from pymatgen.core import Composition


def is_composition(obj) -> bool:
    """Whether ``obj`` is a pymatgen Composition (pymatgen is not imported for the answer)."""
    module = sys.modules.get("pymatgen.core.composition")
    return module is not None and isinstance(obj, module.Composition)


def parse_composition(formula) -> Composition:
    """A pymatgen Composition from a formula string or Composition.

    Raises
    ------
    UnknownFormulaError
        If pymatgen cannot parse it or it is empty.
    """
    from pymatgen.core import Composition, Element

    if isinstance(formula, Composition):
        comp = formula
    else:
        try:
            comp = Composition(str(formula))
        except Exception as err:  # pymatgen raises several types
            raise UnknownFormulaError(
                f"cannot parse formula {formula!r}: write it like 'Li3PS4'"
            ) from err
    if comp.num_atoms <= 0:
        raise UnknownFormulaError(f"formula {formula!r} has no atoms")
    for el in comp.elements:
        if not isinstance(el, Element):
            raise UnknownFormulaError(f"formula {formula!r} has a non-element species {el}")
    return comp

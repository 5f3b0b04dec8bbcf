"""Figures of one interface, one phase's window and one cathode stack, each with a JSON sidecar.

The campaign's figures are in :mod:`constrict.campaign.plots`; these are for the
one system a user studies (``constrict interface/window/stack --plot``,
and :mod:`constrict.api`). Modules: :mod:`~constrict.figures.data` (the
numbers, from the engine's own functions), :mod:`~constrict.figures.draw`
(matplotlib, no pyplot) and :mod:`~constrict.figures.output` (path checks,
atomic writes, sidecars).

Each function returns a :class:`Plot` (the figure, its data and where it
was written); in a notebook it shows itself.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from constrict import DEFAULT_CONVENTION
from constrict.data.entries import EntrySet
from constrict.figures.data import (
    DEFAULT_KEFF_GPA,
    DEFAULT_VOLTAGE_RANGE_V,
    interface_data,
    stack_data,
    window_data,
)
from constrict.figures.draw import draw_interface, draw_stack, draw_window
from constrict.figures.output import check_figure_path, read_sidecar, save_figure, sidecar_path
from constrict.physics.opensystem import Convention


@dataclass(frozen=True, eq=False)
class Plot:
    """A drawn figure with the numbers it shows.

    Attributes
    ----------
    figure : matplotlib.figure.Figure
    data : dict
        The plotted arrays (also the sidecar's content).
    path : Path or None
        The image written (its sidecar is the same name with ``.json``), or
        None when no path was given.
    """

    figure: object
    data: dict = field(repr=False)
    path: Path | None = None

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()


def _finish(figure, data: dict, path) -> Plot:
    return Plot(figure, data, save_figure(figure, data, path) if path is not None else None)


def interface_figure(
    entry_set: EntrySet,
    electrolyte,
    coating,
    path=None,
    *,
    working_ion: str,
    convention: Convention = DEFAULT_CONVENTION,
    voltages_v: Sequence[float] = (2.0, 3.0, 4.0),
    voltage_range_v: tuple[float, float] = DEFAULT_VOLTAGE_RANGE_V,
    keff_gpa: Sequence[float] = DEFAULT_KEFF_GPA,
) -> Plot:
    """The interface figure: E_rxn(x) with its kinks and x_m; the SEI's dG, strain and Kcrit against voltage.

    Parameters are those of :func:`constrict.figures.data.interface_data`;
    ``path`` (``.png`` or ``.svg``, optional) is checked before any work.
    """
    if path is not None:
        check_figure_path(path)
    data = interface_data(entry_set, electrolyte, coating, working_ion=working_ion, convention=convention,
                          voltages_v=voltages_v, voltage_range_v=voltage_range_v, keff_gpa=keff_gpa)
    return _finish(draw_interface(data), data, path)


def window_figure(
    entry_set: EntrySet,
    phase,
    path=None,
    *,
    working_ion: str,
    convention: Convention = DEFAULT_CONVENTION,
    keff_gpa: Sequence[float] = DEFAULT_KEFF_GPA,
) -> Plot:
    """The window figure (the paper's Fig. 2): Kcrit(V) of a phase, its windows unconstrained and at each Keff.

    Parameters are those of :func:`constrict.figures.data.window_data`;
    ``path`` (``.png`` or ``.svg``, optional) is checked before any work.
    """
    if path is not None:
        check_figure_path(path)
    data = window_data(entry_set, phase, working_ion=working_ion, convention=convention, keff_gpa=keff_gpa)
    return _finish(draw_window(data), data, path)


def stack_figure(stack, path=None, *, keff_gpa: float) -> Plot:
    """The stack figure: the three Kcrit (cathode side, coating alone, electrolyte side) against Keff.

    Parameters are those of :func:`constrict.figures.data.stack_data`;
    ``path`` (``.png`` or ``.svg``, optional).
    """
    if path is not None:
        check_figure_path(path)
    data = stack_data(stack, keff_gpa=keff_gpa)
    return _finish(draw_stack(data), data, path)


__all__ = [
    "DEFAULT_KEFF_GPA",
    "DEFAULT_VOLTAGE_RANGE_V",
    "Plot",
    "check_figure_path",
    "interface_figure",
    "read_sidecar",
    "sidecar_path",
    "stack_figure",
    "window_figure",
]

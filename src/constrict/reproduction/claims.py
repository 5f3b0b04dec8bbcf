"""The paper's claims, how a value of ours is scored against one, and the verdict.

A claim is a number (or a pattern) the paper states, with where it states
it. A candidate is one value of ours for it: the campaign's default, or a
variant (another convention, normalisation, target set, data source,
surrogate task). :func:`score` measures how far a candidate is from the
claim and whether it is within the claim's tolerance; :func:`verdict`
turns the default and the closest candidate into the table's verdict.

Kinds (:data:`KINDS`), the value each takes and what "within tolerance"
means:

- ``interval``: (low, high) in V; both edges within ``tolerance`` V (the
  distance that ranks variants is the sum of the two edges' gaps).
- ``stats``: (mean, median, std) in GPa; each within ``tolerance`` of the
  paper's, relative.
- ``number``: one number; within ``tolerance``, relative (or absolute
  when ``absolute`` is set).
- ``range``: several numbers (GPa); each inside the paper's range widened
  by ``tolerance``, relative.
- ``negative``: element -> correlation; every listed element negative.
- ``falls``: values in order of the modification level; the last below
  the first and a negative rank correlation with the level.
- ``below`` / ``above``: several numbers; all below (above) the paper's
  bound, widened by ``tolerance``, relative.
- ``expands``: strains at the limits; all at least the paper's, less
  ``tolerance``, relative.
- ``unstated``: the paper shows the quantity but states no number in its
  text; ours is given, nothing is scored.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import spearmanr

KINDS = ("interval", "stats", "number", "range", "negative", "falls", "below", "above", "expands", "unstated")

REPRODUCED = "reproduced"
BY_VARIANT = "differs; a variant reproduces it"
DIFFERS = "differs"
UNSTATED = "no number in the paper"
NOT_RUN = "not run"
VERDICTS = (REPRODUCED, BY_VARIANT, DIFFERS, UNSTATED, NOT_RUN)
"""The verdicts, best first."""

MAX_TIED = 3
"""Most labels joined in the closest variant's label when several give the same value."""

TREND_DIGITS = 9
"""Significant digits to which a trend's values are compared (``falls``)."""


@dataclass(frozen=True)
class Claim:
    """One statement of the paper.

    Attributes
    ----------
    claim_id : str
        Short stable id, e.g. ``fig3a-Li7P3S11``.
    where : str
        Where the paper states it, e.g. ``Fig. 3a``.
    text : str
        The claim in words.
    kind : str
        One of :data:`KINDS`.
    paper : tuple of float
        The paper's number(s) (empty for ``negative`` and ``unstated``).
    unit : str
        Unit of the values (GPa, V, eV/atom, "" for strains and signs).
    tolerance : float
        See the module docstring (V for ``interval``, else relative unless
        ``absolute``).
    absolute : bool
        ``number``: the tolerance is absolute, in the unit.
    elements : tuple of str
        ``negative``: the elements whose correlation must be negative.
    """

    claim_id: str
    where: str
    text: str
    kind: str
    paper: tuple = ()
    unit: str = "GPa"
    tolerance: float = 0.0
    absolute: bool = False
    elements: tuple = ()

    def paper_text(self) -> str:
        """The paper's value as the table prints it."""
        if self.kind == "unstated":
            return "no number in the text"
        if self.kind == "negative":
            return ", ".join(self.elements) + " lower Kcrit"
        if self.kind == "falls":
            return "falls with the level"
        if self.kind == "interval":
            return f"{self.paper[0]:g}-{self.paper[1]:g} V"
        if self.kind == "stats":
            return " / ".join(f"{p:g}" for p in self.paper) + " GPa"
        if self.kind == "range":
            return f"{self.paper[0]:g}-{self.paper[1]:g} GPa"
        if self.kind in ("below", "above"):
            return f"all {'<' if self.kind == 'below' else '>'} {self.paper[0]:g} {self.unit}"
        if self.kind == "expands":
            return f"> {100 * self.paper[0]:g} % at both limits"
        if self.unit == "":
            return f"{100 * self.paper[0]:+g} %"
        return f"{self.paper[0]:g} {self.unit}"

    def tolerance_text(self) -> str:
        """The tolerance as the table prints it."""
        if self.kind in ("unstated", "negative", "falls"):
            return {"unstated": "", "negative": "sign", "falls": "trend"}[self.kind]
        if self.kind in ("below", "above") and self.tolerance == 0:
            return "strict bound"
        if self.kind == "interval":
            return f"±{self.tolerance:g} V per edge"
        if self.absolute:
            return f"±{100 * self.tolerance:g} % strain" if self.unit == "" else f"±{self.tolerance:g} {self.unit}"
        return f"±{100 * self.tolerance:g} %"


def _values(value) -> np.ndarray:
    return np.asarray(list(value.values()) if isinstance(value, dict) else value, dtype=float).ravel()


def score(claim: Claim, value) -> tuple[float, bool]:
    """Distance of a value from the claim (0 is the claim itself; lower is closer) and whether it is within tolerance.

    NaN distance (and False) for a value with nothing to score (empty,
    all NaN) or an ``unstated`` claim.
    """
    distance, within = _score(claim, value)
    return float(distance), bool(within)


def _score(claim: Claim, value) -> tuple[float, bool]:
    if claim.kind == "unstated" or value is None:
        return math.nan, False
    values = _values(value)
    if values.size == 0 or np.all(np.isnan(values)):
        return math.nan, False
    paper = np.asarray(claim.paper, dtype=float)
    tol = claim.tolerance
    if claim.kind == "interval":  # ranked by both edges together, within tolerance edge by edge
        gaps = np.abs(values - paper)
        return float(gaps.sum()), bool(gaps.max() <= tol)
    if claim.kind == "stats":
        distance = float(np.max(np.abs(values - paper) / paper))
        return distance, distance <= tol
    if claim.kind == "number":
        distance = float(abs(values[0] - paper[0]) if claim.absolute else abs(values[0] - paper[0]) / abs(paper[0]))
        return distance, distance <= tol
    if claim.kind == "range":
        low, high = paper
        outside = np.maximum.reduce([(low - values) / low, (values - high) / high, np.zeros_like(values)])
        distance = float(np.nanmax(outside))
        return distance, distance <= tol
    if claim.kind == "negative":
        wrong = sum(1 for el in claim.elements if not (isinstance(value, dict) and value.get(el, np.nan) < 0))
        return float(wrong), wrong == 0
    if claim.kind == "falls":  # values equal to 9 significant digits are equal (LP round-off is no trend)
        finite = np.array([float(f"{v:.{TREND_DIGITS}g}") for v in values[np.isfinite(values)]])
        if finite.size < 2 or np.ptp(finite) == 0:
            return 1.0, False
        rho = float(spearmanr(np.arange(finite.size), finite).statistic)
        return rho, rho < 0 and finite[-1] < finite[0]
    if claim.kind == "below":
        distance = max(0.0, float((np.nanmax(values) - paper[0]) / paper[0]))
        return distance, distance <= tol
    if claim.kind == "above":
        distance = max(0.0, float((paper[0] - np.nanmin(values)) / paper[0]))
        return distance, distance <= tol
    if claim.kind == "expands":
        distance = max(0.0, float((paper[0] - np.nanmin(values)) / paper[0]))
        return distance, distance <= tol
    raise ValueError(f"unknown claim kind {claim.kind!r}")


@dataclass(frozen=True)
class Candidate:
    """One value of ours for a claim.

    Attributes
    ----------
    label : str
        What was varied, e.g. ``released_metal, V0 = V_P'``; ``default`` for the campaign's own value.
    value : object
        As the claim's kind takes it.
    text : str
        The value as the table prints it.
    """

    label: str
    value: object
    text: str


def closest(claim: Claim, candidates: Sequence[Candidate]) -> Candidate | None:
    """The candidate nearest the claim; None when none can be scored.

    Candidates at the same distance with the same value text are one
    candidate whose label joins theirs with " = " (e.g. two conventions
    that give the same window; beyond :data:`MAX_TIED`, the first and a count).
    """
    scored = [(score(claim, c.value)[0], i, c) for i, c in enumerate(candidates)]
    scored = [s for s in scored if not math.isnan(s[0])]
    if not scored:
        return None
    best = min(d for d, _, _ in scored)
    first = next(c for d, _, c in scored if d == best)
    labels = list(dict.fromkeys(c.label for d, _, c in scored if d == best and c.text == first.text))
    label = " = ".join(labels) if len(labels) <= MAX_TIED else f"{labels[0]} (and {len(labels) - 1} more alike)"
    return Candidate(label, first.value, first.text)


def verdict(claim: Claim, default: Candidate | None, nearest: Candidate | None) -> str:
    """The verdict (:data:`VERDICTS`) from the default candidate and the closest one."""
    if claim.kind == "unstated":
        return UNSTATED
    if default is None and nearest is None:
        return NOT_RUN
    if default is not None and score(claim, default.value)[1]:
        return REPRODUCED
    if nearest is not None and score(claim, nearest.value)[1]:
        return BY_VARIANT
    return DIFFERS

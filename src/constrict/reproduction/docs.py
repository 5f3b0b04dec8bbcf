"""Markdown for docs/reproduction.md, generated from a campaign's results (no number typed by hand).

Blocks (:func:`blocks`), each between ``<!-- generated:NAME -->`` and
``<!-- end:NAME -->`` in the file :func:`update_file` rewrites:

- ``table``: the table "The paper, number by number";
- ``conventions``: per convention, how many claims it reproduces and the
  numbers that tell the conventions apart;
- ``normalisations``: Li7P3S11 at the paper's voltage under each
  normalisation (the campaign's convention).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from constrict import STRAIN_CONVENTIONS
from constrict.core.errors import ConstrictError
from constrict.reproduction.inputs import NORMALISATION_LABELS, fmt
from constrict.reproduction.table import markdown


def _read(results: Path, name: str) -> pd.DataFrame:
    path = results / "reproduction" / f"{name}.parquet"
    if not path.is_file():
        raise ConstrictError(f"{path} not found; run the reproduction rule first (make run)")
    return pd.read_parquet(path)


def conventions_block(results: Path, claims: pd.DataFrame) -> str:
    """Per convention: claims within tolerance, the LGPS windows at each Keff, the LGPS limit strains."""
    windows, strains = _read(results, "windows"), _read(results, "strains")
    keffs = sorted(windows["keff_gpa"].dropna().unique())
    lines = ["| convention | claims within tolerance | LGPS window at "
             f"{', '.join(f'{k:g}' for k in keffs)} GPa | LGPS strain at the reduction / oxidation limit |",
             "|---|---|---|---|"]
    for c in STRAIN_CONVENTIONS:
        column = f"within_{c}"
        if column not in claims:
            continue
        scored = claims[column].isin(["yes", "no"])
        n_yes = int((claims[column] == "yes").sum())
        w = windows[(windows["electrolyte"] == "Li10GeP2S12") & (windows["convention"] == c)]
        w = w.dropna(subset=["keff_gpa"]).sort_values("keff_gpa")
        window = ", ".join(f"{fmt(lo)}-{fmt(hi)}" for lo, hi in zip(w["v_low_v"], w["v_high_v"], strict=True))
        s = strains[(strains["electrolyte"] == "Li10GeP2S12") & (strains["convention"] == c)
                    & (strains["point"] == "voltage")].sort_values("voltage_v")
        limits = (f"{100 * s.iloc[0].eps:+.0f} % at {s.iloc[0].voltage_v:g} V / "
                  f"{100 * s.iloc[-1].eps:+.0f} % at {s.iloc[-1].voltage_v:g} V") if len(s) else "n/a"
        lines.append(f"| {c} | {n_yes} of {int(scored.sum())} | {window + ' V' if window else 'n/a'} | {limits} |")
    return "\n".join(lines) + "\n"


def normalisations_block(results: Path, claims: pd.DataFrame) -> str:
    """Li7P3S11 statistics at the paper's voltage under each normalisation and target set."""
    stats = _read(results, "stats")
    convention = claims["convention"].iloc[0] if len(claims) else STRAIN_CONVENTIONS[0]
    at = stats[(stats["data"] == "screen") & (stats["electrolyte"] == "Li7P3S11") & (stats["convention"] == convention)]
    if at.empty:
        return "(no Li7P3S11 rows)\n"
    voltage = 4.0 if np.isclose(at["voltage_v"], 4.0).any() else float(at["voltage_v"].max())
    at = at[np.isclose(at["voltage_v"], voltage)]
    lines = [f"Li7P3S11 at {voltage:g} V, {convention} (the paper: 18.5 / 14.8 / 13.0 GPa):", "",
             "| normalisation | all finite: mean / median / std (GPa) | finite <= cap |", "|---|---|---|"]
    for normalisation, group in at.groupby("normalisation", sort=False):
        cells = []
        for target_set in ("all_finite", "capped"):
            g = group[group["target_set"] == target_set]
            cells.append(" / ".join(fmt(x, 1) for x in g.iloc[0][["mean_gpa", "median_gpa", "std_gpa"]])
                         if len(g) else "n/a")
        name = NORMALISATION_LABELS.get(normalisation) or "dG and V0 = V_R per atom of R (ours)"
        lines.append(f"| {normalisation} ({name}) | {cells[0]} | {cells[1]} |")
    return "\n".join(lines) + "\n"


def blocks(results_dir: str | Path) -> dict[str, str]:
    """The generated markdown blocks of a campaign's results, by name."""
    results = Path(results_dir)
    claims = _read(results, "claims")
    return {"table": markdown(claims), "conventions": conventions_block(results, claims),
            "normalisations": normalisations_block(results, claims)}


def update_file(path: str | Path, generated: dict[str, str]) -> None:
    """Replace each ``<!-- generated:NAME -->`` ... ``<!-- end:NAME -->`` block of a file.

    Raises
    ------
    ConstrictError
        The file lacks a block's markers.
    """
    path = Path(path)
    text = path.read_text()
    for name, body in generated.items():
        pattern = re.compile(rf"(<!-- generated:{name} -->\n).*?(<!-- end:{name} -->)", re.S)
        if not pattern.search(text):
            raise ConstrictError(f"{path} has no <!-- generated:{name} --> ... <!-- end:{name} --> block")
        text = pattern.sub(lambda m, body=body: m.group(1) + body + m.group(2), text)
    path.write_text(text)

"""The table "The paper, number by number": every claim, ours, the closest variant, a verdict.

Every value is read from a campaign's result files (paths relative to its
results directory, :data:`INPUTS`): the campaign's own outputs give the
default, the reproduction study's tables (results/reproduction/) give the
variants. A file that a disabled stage did not write leaves its rows
``not run``. The paper's numbers are the only numbers written here, each
with where the paper states it.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from constrict import STRAIN_CONVENTIONS
from constrict.reproduction.claims import BY_VARIANT, DIFFERS, REPRODUCED, closest, score, verdict
from constrict.reproduction.design_claims import DESIGN_GROUPS
from constrict.reproduction.inputs import Results, Row, Settings
from constrict.reproduction.screen_claims import SCREEN_GROUPS

TABLE_COLUMNS = (
    "claim_id", "where", "claim", "paper", "convention", "ours",
    *(f"ours_{c}" for c in STRAIN_CONVENTIONS),
    "closest_variant", "closest", "tolerance", "verdict", "reason",
    *(f"within_{c}" for c in STRAIN_CONVENTIONS),
)
"""Columns of the table: ``ours`` under the campaign's settings, ``ours_<convention>``
under each convention (everything else as the campaign's), the closest variant,
and ``within_<convention>``: "yes" where ours under that convention is within
the tolerance, "no" where not, "" where nothing is scored."""


def table_row(row: Row, convention: str) -> dict:
    """One row of the table from a :class:`Row`."""
    claim = row.claim
    candidates = [c for c in ([row.default] if row.default else []) + list(row.variants) if c is not None]
    nearest = closest(claim, candidates)
    result = verdict(claim, row.default, nearest)
    distance = score(claim, nearest.value)[0] if nearest is not None else math.nan
    out = {
        "claim_id": claim.claim_id, "where": claim.where, "claim": claim.text, "paper": claim.paper_text(),
        "convention": convention, "ours": row.default.text if row.default else "",
        **{f"ours_{c}": (row.by_convention[c].text if c in row.by_convention else "") for c in STRAIN_CONVENTIONS},
        "closest_variant": nearest.label if nearest is not None else "",
        "closest": nearest.text if nearest is not None else "",
        "tolerance": claim.tolerance_text(), "verdict": result,
        "reason": row.reason(nearest) if row.reason is not None else "",
    }
    for c in STRAIN_CONVENTIONS:
        found = row.by_convention.get(c)
        gap, within = score(claim, found.value) if found is not None else (math.nan, False)
        out[f"within_{c}"] = "" if math.isnan(gap) else ("yes" if within else "no")
    if not math.isnan(distance) and claim.kind in ("stats", "number", "range") and not claim.absolute:
        out["closest"] += f" ({100 * distance:.0f} % off)" if distance > 0 else ""
    return out


def build_table(results_dir: str | Path, settings: Settings) -> pd.DataFrame:
    """The table "The paper, number by number" of one campaign.

    Parameters
    ----------
    results_dir : str or Path
        The campaign's results directory.
    settings : Settings

    Returns
    -------
    pandas.DataFrame
        :data:`TABLE_COLUMNS`, one row per claim, in the paper's order.
    """
    results = Results(results_dir)
    rows = []
    for group in (*SCREEN_GROUPS, *DESIGN_GROUPS):
        rows += [table_row(row, settings.convention) for row in group(results, settings)]
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def markdown(table: pd.DataFrame, *, conventions=STRAIN_CONVENTIONS) -> str:
    """The table as GitHub markdown: claim, paper, ours, the other conventions, closest variant, verdict."""
    if table.empty:
        return "(no claims)\n"
    default = table["convention"].iloc[0]
    others = [c for c in conventions if c != default]
    header = ["where", "claim", "paper", f"ours ({default})", *others, "closest variant", "verdict"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in table.itertuples(index=False):
        row = row._asdict()
        nearest = f"{row['closest_variant']}: {row['closest']}" if row["closest_variant"] else ""
        scored = row["verdict"] in (REPRODUCED, BY_VARIANT, DIFFERS) and row["tolerance"]
        verdict_text = row["verdict"] + (f" ({row['tolerance']})" if scored else "")
        if row["reason"]:
            verdict_text += f". {row['reason']}"
        cells = [row["where"], row["claim"], row["paper"], row["ours"], *(row[f"ours_{c}"] for c in others),
                 nearest, verdict_text]
        lines.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def write_claims(table: pd.DataFrame, parquet: str | Path, tsv: str | Path) -> None:
    """Write the table as Parquet (byte-reproducible) and TSV, and log the count of each verdict."""
    import logging

    from constrict.data.tables import write_table

    write_table(table, parquet)
    table.to_csv(tsv, sep="\t", index=False)
    counts = table["verdict"].value_counts()
    logging.getLogger(__name__).info("%d claims: %s", len(table),
                                     ", ".join(f"{n} {v}" for v, n in counts.items()))

"""The surrogate's training table: one row per distinct (SEI composition, voltage).

Built from the gathered screen (one row per electrolyte x coating x
voltage, docs/campaign.md). Every screen row lands in exactly one of these
counts, per voltage (:func:`exclusions`):

- ``n_error``: ``status == "error"`` (no numbers);
- ``n_not_reacting``: ok rows with ``reacts == False`` (no interphase);
- ``n_nan``: ok, reacting, Kcrit NaN (should be 0);
- ``n_inf``: Kcrit = +inf (no constriction stops the decomposition);
- ``n_duplicate``: finite rows whose SEI composition already has a row at
  this voltage (many coatings leave the electrolyte to decay alone, x_m = 0,
  and give the same SEI);
- ``n_conflicting``: finite rows of an SEI whose duplicates disagree on
  Kcrit by more than :data:`KCRIT_RTOL` (relative); dropped, because the
  features cannot tell them apart;
- ``n_kept``: one row per remaining distinct SEI composition;
  ``n_kept_undetermined`` of them have a linear Kcrit that the data do not
  determine (``kcrit_determined`` false on any of its screen rows; docs/science.md,
  "Uncertainty of Kcrit"). They stay in the table, flagged.

Kcrit is a function of the SEI composition, the voltage and the working
ion only (docs/science.md sections 2-3), so duplicates agree unless they
come from electrolytes with different working ions (Li and Na).

Groups (for the grouped split) are the connected components of the graph
that links each SEI composition to the chemical systems of the coatings that
take part in forming it (x_m > 0); an SEI formed by the electrolyte alone
(x_m = 0, the coating takes no part) is linked to ``"electrolyte:<formula>"``
instead. So no coating chemical system and no duplicate SEI sits on both
sides of a grouped split, at any voltage.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from constrict.campaign.statistics import element_fractions
from constrict.core.errors import ConstrictError, SchemaError

log = logging.getLogger(__name__)

KCRIT_RTOL = 1e-6
"""Duplicates of one SEI agree when their Kcrit differ by at most this
fraction of the larger one (the engine's LPs agree to ~1e-9)."""

SCREEN_COLUMNS = (
    "electrolyte", "working_ion", "coating_formula", "convention", "reacts", "x_m",
    "sei_composition", "voltage_v", "kcrit_gpa", "kcrit_determined", "status",
)
"""Screen columns the surrogate reads."""

TABLE_COLUMNS = (
    "sei_composition", "voltage_v", "kcrit_gpa", "kcrit_determined", "group", "electrolytes", "coating_systems",
    "n_interfaces",
)
"""Columns of the training table besides the element fractions."""

COUNT_COLUMNS = (
    "voltage_v", "n_rows", "n_error", "n_not_reacting", "n_nan", "n_inf", "n_duplicate", "n_conflicting", "n_kept",
    "n_kept_undetermined",
)
"""Columns of :func:`exclusions`."""


def read_screen(path: str | Path) -> pd.DataFrame:
    """Read the columns of a gathered screen that the surrogate needs.

    Raises
    ------
    ConstrictError
        The file does not exist (one line saying how to make it).
    SchemaError
        A needed column is missing.
    """
    path = Path(path)
    if not path.is_file():
        raise ConstrictError(f"screen table {path} not found; run the screen first (results/screen/screen.parquet)")
    import pyarrow.parquet as pq

    names = pq.read_schema(path).names
    missing = [c for c in SCREEN_COLUMNS if c not in names]
    if missing:
        raise SchemaError(f"{path} lacks column(s) {', '.join(missing)}; it must follow the screen result schema")
    return pd.read_parquet(path, columns=list(SCREEN_COLUMNS))


def _row_kind(screen: pd.DataFrame) -> np.ndarray:
    """Per screen row: "error", "not_reacting", "nan", "inf" or "finite"."""
    kcrit_gpa = screen["kcrit_gpa"].to_numpy(dtype=float)
    reacts = screen["reacts"].fillna(False).astype(bool).to_numpy()
    is_error = screen["status"].to_numpy() == "error"
    return np.select(
        [is_error, ~reacts, np.isnan(kcrit_gpa), np.isinf(kcrit_gpa)],
        ["error", "not_reacting", "nan", "inf"],
        default="finite",
    )


def _coating_systems(formulas: pd.Series) -> pd.Series:
    """Chemical system (``"Li-Nb-O"``, elements sorted) of each coating formula."""
    from pymatgen.core import Composition

    unique = formulas.unique()
    systems = {f: Composition(f).chemical_system for f in unique}
    return formulas.map(systems)


def _groups(sei: pd.Series, origin: pd.Series) -> pd.Series:
    """Connected components of the SEI <-> origin graph, labelled by their first origin (sorted).

    Parameters
    ----------
    sei, origin : pandas.Series of str, length n_links
        One link per finite screen row: its SEI composition and its origin
        (the coating's chemical system, or ``electrolyte:<formula>``).

    Returns
    -------
    pandas.Series of str
        SEI composition -> group label.
    """
    sei_codes, sei_names = pd.factorize(sei, sort=True)
    origin_codes, origin_names = pd.factorize(origin, sort=True)
    n_sei, n_origin = len(sei_names), len(origin_names)
    graph = coo_matrix(
        (np.ones(len(sei_codes)), (sei_codes, n_sei + origin_codes)), shape=(n_sei + n_origin, n_sei + n_origin)
    )
    _, component = connected_components(graph, directed=False)
    # label = alphabetically first origin of the component (origins are sorted)
    first_origin = pd.Series(origin_names, index=component[n_sei:]).groupby(level=0).min()
    return pd.Series(first_origin.loc[component[:n_sei]].to_numpy(), index=sei_names, name="group")


def _joined(frame: pd.DataFrame, keys: list[str], column: str) -> pd.Series:
    """The distinct values of ``column`` per ``keys``, sorted and joined by ";" (index: keys)."""
    pairs = frame[[*keys, column]].drop_duplicates().sort_values([*keys, column])
    several = pairs.duplicated(keys, keep=False)
    # most keys have one value; join in Python only where there are several
    single = pairs[~several].set_index(keys)[column]
    joined = pairs[several].groupby(keys)[column].agg(";".join)
    return pd.concat([single, joined]).sort_index()


def training_table(screen: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """De-duplicated training rows and the count of every excluded screen row.

    Parameters
    ----------
    screen : pandas.DataFrame
        Gathered screen rows (at least :data:`SCREEN_COLUMNS`) of one
        reaction-strain convention.

    Returns
    -------
    table : pandas.DataFrame of shape (n_kept, 7 + n_elements)
        One row per distinct (SEI composition, voltage) with finite Kcrit,
        sorted by voltage then composition: :data:`TABLE_COLUMNS`
        (``kcrit_gpa`` in GPa; ``electrolytes`` and ``coating_systems`` the
        sorted sources joined by ``";"``; ``n_interfaces`` the screen rows
        behind it), then one column per element seen (atom fraction, 0
        where absent, alphabetical).
    counts : pandas.DataFrame
        :data:`COUNT_COLUMNS`, one row per voltage; the counts add up to
        ``n_rows``.

    Raises
    ------
    SchemaError
        The screen mixes reaction-strain conventions.
    """
    conventions = sorted(screen["convention"].dropna().unique())
    if len(conventions) > 1:
        raise SchemaError(f"screen mixes conventions {conventions}; train one surrogate per convention")
    kind = _row_kind(screen)
    finite = screen[kind == "finite"].copy()
    finite["coating_system"] = _coating_systems(finite["coating_formula"])
    coating_takes_part = finite["x_m"].to_numpy(dtype=float) > 0
    origin = np.where(coating_takes_part, finite["coating_system"], "electrolyte:" + finite["electrolyte"])
    groups = _groups(finite["sei_composition"], pd.Series(origin, index=finite.index))

    keys = ["voltage_v", "sei_composition"]
    by_key = finite.groupby(keys, sort=True)
    spread = by_key["kcrit_gpa"].agg(["min", "max", "size"])
    conflicting = (spread["max"] - spread["min"]) > KCRIT_RTOL * spread["max"].abs()
    table = by_key.agg(kcrit_gpa=("kcrit_gpa", "median"), kcrit_determined=("kcrit_determined", "all"),
                       n_interfaces=("kcrit_gpa", "size"))
    table["electrolytes"] = _joined(finite, keys, "electrolyte").loc[table.index]
    table["coating_systems"] = _joined(finite, keys, "coating_system").loc[table.index]
    table = table[~conflicting.to_numpy()].reset_index()
    table["group"] = groups.loc[table["sei_composition"]].to_numpy()
    distinct = table["sei_composition"].unique()  # the same SEI recurs at every voltage
    fractions = element_fractions(list(distinct)).set_axis(list(distinct)).loc[table["sei_composition"]]
    table = pd.concat([table[list(TABLE_COLUMNS)], fractions.set_index(table.index)], axis=1)

    counts = []
    voltage_v = screen["voltage_v"].to_numpy(dtype=float)
    for v in sorted(np.unique(voltage_v)):
        at_v = voltage_v == v
        n_kind = {k: int(((kind == k) & at_v).sum()) for k in ("error", "not_reacting", "nan", "inf", "finite")}
        spread_v = spread.xs(v, level="voltage_v") if n_kind["finite"] else spread.iloc[:0]
        conflict_v = conflicting.xs(v, level="voltage_v") if n_kind["finite"] else conflicting.iloc[:0]
        n_kept = int((~conflict_v).sum())
        n_conflicting = int(spread_v["size"][conflict_v].sum())
        kept_v = table[np.isclose(table["voltage_v"].to_numpy(dtype=float), v)]
        counts.append({
            "voltage_v": float(v), "n_rows": int(at_v.sum()), "n_error": n_kind["error"],
            "n_not_reacting": n_kind["not_reacting"], "n_nan": n_kind["nan"], "n_inf": n_kind["inf"],
            "n_duplicate": n_kind["finite"] - n_conflicting - n_kept, "n_conflicting": n_conflicting, "n_kept": n_kept,
            "n_kept_undetermined": int((~kept_v["kcrit_determined"].astype(bool)).sum()),
        })
    counts = pd.DataFrame(counts, columns=list(COUNT_COLUMNS))
    for row in counts.itertuples():
        log.info("%g V: %d screen rows -> %d kept, %d of them undetermined (error %d, not reacting %d, NaN %d, "
                 "inf %d, duplicate %d, conflicting %d)", row.voltage_v, row.n_rows, row.n_kept,
                 row.n_kept_undetermined, row.n_error, row.n_not_reacting, row.n_nan, row.n_inf, row.n_duplicate,
                 row.n_conflicting)
    return table, counts


def element_columns(table: pd.DataFrame) -> list[str]:
    """The element-fraction columns of a training table, in order."""
    return [c for c in table.columns if c not in TABLE_COLUMNS]


def at_voltage(table: pd.DataFrame, voltage_v: float) -> pd.DataFrame:
    """The rows of one voltage (V), index reset.

    Raises
    ------
    ConstrictError
        No row at that voltage; names the voltages present.
    """
    rows = table[np.isclose(table["voltage_v"].to_numpy(dtype=float), voltage_v)]
    if rows.empty:
        present = ", ".join(f"{v:g}" for v in sorted(table["voltage_v"].unique()))
        raise ConstrictError(f"no training rows at {voltage_v:g} V; the table has {present} V")
    return rows.reset_index(drop=True)


def data_hash(X: pd.DataFrame, y: Sequence[float]) -> str:
    """SHA-256 (hex) of a feature table and its target: column names, then values as float64 bytes.

    Parameters
    ----------
    X : pandas.DataFrame of shape (n_rows, n_features)
    y : sequence of float, length n_rows
    """
    digest = hashlib.sha256(json.dumps(list(map(str, X.columns))).encode())
    digest.update(np.ascontiguousarray(X.to_numpy(dtype=np.float64)).tobytes())
    digest.update(np.ascontiguousarray(np.asarray(y, dtype=np.float64)).tobytes())
    return digest.hexdigest()

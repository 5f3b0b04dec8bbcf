"""The cathode-stack ranking: per cathode state, electrolyte and coating, the two interfaces and the coating alone.

The join reads the gathered stack interfaces (:mod:`constrict.cathode.campaign`
plans them) and the coating-alone table, and ranks the coatings within each
cathode state and electrolyte by the effective modulus the stack needs.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from constrict import DEFAULT_CONVENTION
from constrict.cathode.physics import interface_kcrit_gpa, required_keff_gpa
from constrict.core.errors import ConfigError, SchemaError
from constrict.data.tables import read_results, write_table
from constrict.physics.uncertainty import UncertaintyModel, determined

log = logging.getLogger(__name__)

_SIDE_COLUMNS = {
    "reacts": pa.bool_(),
    "mutual": pa.bool_(),
    "x_m": pa.float64(),
    "e_rxn_ev_per_atom": pa.float64(),
    "e_rxn_mutual_ev_per_atom": pa.float64(),
    "sei_products": pa.string(),
    "products": pa.string(),
    "dg_ev_per_atom": pa.float64(),
    "strain": pa.float64(),
    "kcrit_gpa": pa.float64(),
    "kcrit_sc_gpa": pa.float64(),
    "kcrit_hi_gpa": pa.float64(),
    "kcrit_lo_gpa": pa.float64(),
    "kcrit_determined": pa.bool_(),
}

RANKING_SCHEMA = pa.schema(
    [
        ("cathode", pa.string()),
        ("electrolyte", pa.string()),
        ("rank", pa.int64()),
        ("n_coatings", pa.int64()),
        ("coating_formula", pa.string()),
        ("known_coating", pa.bool_()),
        ("keff_required_gpa", pa.float64()),
        ("keff_required_hi_gpa", pa.float64()),
        ("keff_required_lo_gpa", pa.float64()),
        ("keff_required_determined", pa.bool_()),
        ("limiting", pa.string()),
        ("constriction_stable", pa.bool_()),
        ("keff_gpa", pa.float64()),
        ("keff_required_sc_gpa", pa.float64()),
        ("coating_kcrit_gpa", pa.float64()),
        ("cathode_kcrit_gpa", pa.float64()),
        ("electrolyte_kcrit_gpa", pa.float64()),
        ("coating_kcrit_hi_gpa", pa.float64()),
        ("cathode_kcrit_hi_gpa", pa.float64()),
        ("electrolyte_kcrit_hi_gpa", pa.float64()),
        ("cathode_e_rxn_ev_per_atom", pa.float64()),
        ("electrolyte_e_rxn_ev_per_atom", pa.float64()),
        ("coating_window_low_v", pa.float64()),
        ("coating_window_high_v", pa.float64()),
        ("voltage_v", pa.float64()),
        ("voltage_source", pa.string()),
        ("cathode_formula", pa.string()),
        ("cathode_state", pa.string()),
        ("electrolyte_formula", pa.string()),
        ("working_ion", pa.string()),
        ("convention", pa.string()),
        ("coating_id", pa.string()),
        ("coating_band_gap_ev", pa.float64()),
        ("coating_e_above_hull_ev", pa.float64()),
        ("coating_kcrit_sc_gpa", pa.float64()),
        ("coating_kcrit_lo_gpa", pa.float64()),
        ("coating_kcrit_determined", pa.bool_()),
        ("coating_dg_ev_per_atom", pa.float64()),
        ("coating_products", pa.string()),
        *[(f"{side}_{name}", kind) for side in ("cathode", "electrolyte") for name, kind in _SIDE_COLUMNS.items()
          if name not in ("kcrit_gpa", "kcrit_hi_gpa", "e_rxn_ev_per_atom")],
        ("status", pa.string()),
        ("error", pa.string()),
    ]
)
"""The ranking (docs/cathode.md lists every column and unit): one row per cathode state x
electrolyte x coating, ranked by the upper bound of the required Keff within each cathode
state and electrolyte."""

KNOWN_COLUMNS = ["cathode", "electrolyte", "coating_formula", "rank", "n_coatings", "keff_required_gpa",
                 "keff_required_hi_gpa", "keff_required_determined", "limiting",
                 "constriction_stable", "coating_kcrit_gpa", "cathode_kcrit_gpa", "electrolyte_kcrit_gpa",
                 "cathode_e_rxn_ev_per_atom", "electrolyte_e_rxn_ev_per_atom", "coating_window_low_v",
                 "coating_window_high_v"]
"""Columns of ``known_coatings.tsv``: where each known coating ranks."""


def _side(interfaces: pd.DataFrame, prefix: str, convention: str) -> pd.DataFrame:
    """Interface rows renamed with a side prefix; ``strain`` is the strain under the convention."""
    strain = interfaces[f"eps_{convention}"]
    side = interfaces.assign(strain=strain)[["electrolyte", "coating_id", "voltage_v", "status", "error",
                                             *_SIDE_COLUMNS]]
    return side.rename(columns={c: f"{prefix}_{c}" for c in ["status", "error", *_SIDE_COLUMNS]})


def _rows_at(side: pd.DataFrame, reactant: str, voltage_v: float) -> pd.DataFrame:
    """One reactant's interface rows at one voltage, keyed by coating_id."""
    rows = side[(side["electrolyte"] == reactant) & (side["voltage_v"] == voltage_v)]
    return rows.drop(columns=["electrolyte", "voltage_v"])


def rank_stacks(
    interfaces: pd.DataFrame,
    alone: pd.DataFrame,
    reactants: pd.DataFrame,
    coatings: pd.DataFrame,
    *,
    keff_gpa: float,
    max_ratio: float = UncertaintyModel().max_ratio,
) -> pd.DataFrame:
    """The ranking: every cathode state x electrolyte x coating, by the upper bound of the Keff the stack needs.

    For cathode state c (voltage V_c) and electrolyte e of c's working ion,
    each coating k joins the c|k and e|k interface rows at V_c and the k-alone
    row at V_c. An interface that forms no SEI counts Kcrit 0
    (:func:`~constrict.cathode.physics.interface_kcrit_gpa`). The required
    Keff is the largest of the three Kcrit; its interval is
    [largest kcrit_lo, largest kcrit_hi]. Within (c, e) the rows are ranked
    by the upper bound ``keff_required_hi_gpa`` (a stack is only as good as
    the data can promise), ties broken by the point value, the next largest
    Kcrit, then the smallest, then the summed reaction energy of both
    interfaces (less negative first), then coating_id; error rows come
    last. A coating with c's or e's own composition has no interface there
    and is left out of (c, e).

    Parameters
    ----------
    interfaces : DataFrame
        Gathered stack interfaces (screen result schema; ``electrolyte``
        holds the reactant a as planned).
    alone : DataFrame
        ``ALONE_SCHEMA`` rows.
    reactants : DataFrame
        ``REACTANT_SCHEMA`` rows.
    coatings : DataFrame
        Stack coatings (entry_id, reduced_formula, band_gap_ev,
        e_above_hull_ev, known_coating).
    keff_gpa : float
        Keff (GPa) of the ``constriction_stable`` column.
    max_ratio : float
        The determined rule's ratio (config ``uncertainty.max_ratio``) for
        ``keff_required_determined``.

    Returns
    -------
    DataFrame
        ``RANKING_SCHEMA`` columns, sorted by cathode (config order),
        electrolyte (config order), rank.
    """
    if not (np.isfinite(keff_gpa) and keff_gpa >= 0):
        raise ConfigError(f"keff_gpa must be a finite modulus >= 0 GPa, got {keff_gpa}")
    conventions = set(interfaces["convention"]) | set(alone["convention"])
    if len(conventions) > 1:
        raise SchemaError(f"stack tables mix strain conventions {sorted(conventions)}")
    convention = conventions.pop() if conventions else DEFAULT_CONVENTION
    cathodes = reactants[reactants["role"] == "cathode"].reset_index(drop=True)
    electrolytes = reactants[reactants["role"] == "electrolyte"].reset_index(drop=True)
    coating_info = coatings[["entry_id", "reduced_formula", "band_gap_ev", "e_above_hull_ev", "known_coating"]].rename(
        columns={"entry_id": "coating_id", "reduced_formula": "coating_formula", "band_gap_ev": "coating_band_gap_ev",
                 "e_above_hull_ev": "coating_e_above_hull_ev"})
    alone_cols = alone.rename(columns={"window_low_v": "coating_window_low_v", "window_high_v": "coating_window_high_v",
                                       "kcrit_gpa": "coating_kcrit_gpa", "kcrit_sc_gpa": "coating_kcrit_sc_gpa",
                                       "kcrit_lo_gpa": "coating_kcrit_lo_gpa", "kcrit_hi_gpa": "coating_kcrit_hi_gpa",
                                       "kcrit_determined": "coating_kcrit_determined",
                                       "dg_ev_per_atom": "coating_dg_ev_per_atom", "products": "coating_products",
                                       "status": "coating_status", "error": "coating_error"})
    alone_cols = alone_cols[["coating_id", "working_ion", "voltage_v", "coating_window_low_v", "coating_window_high_v",
                             "coating_kcrit_gpa", "coating_kcrit_sc_gpa", "coating_kcrit_lo_gpa",
                             "coating_kcrit_hi_gpa", "coating_kcrit_determined", "coating_dg_ev_per_atom",
                             "coating_products", "coating_status", "coating_error"]]
    cathode_side = _side(interfaces, "cathode", convention)
    electrolyte_side = _side(interfaces, "electrolyte", convention)
    frames = []
    for c_order, c in enumerate(cathodes.itertuples(index=False)):
        for e_order, e in enumerate(electrolytes[electrolytes["working_ion"] == c.working_ion].itertuples(index=False)):
            stack = (coating_info
                     .merge(_rows_at(cathode_side, c.reactant, c.voltage_v), on="coating_id")
                     .merge(_rows_at(electrolyte_side, e.reactant, c.voltage_v), on="coating_id")
                     .merge(alone_cols[(alone_cols["working_ion"] == c.working_ion)
                                       & (alone_cols["voltage_v"] == c.voltage_v)], on="coating_id"))
            stack = stack.assign(cathode=c.label, electrolyte=e.label, cathode_formula=c.formula,
                                 cathode_state=c.state, voltage_source=c.voltage_source,
                                 electrolyte_formula=e.formula, convention=convention, keff_gpa=float(keff_gpa),
                                 _c=c_order, _e=e_order)
            frames.append(stack)
    if not frames:
        return pd.DataFrame({f.name: pd.Series(dtype=f.type.to_pandas_dtype()) for f in RANKING_SCHEMA})
    table = pd.concat(frames, ignore_index=True)
    return _ranked(table, max_ratio)


def _ranked(table: pd.DataFrame, max_ratio: float) -> pd.DataFrame:
    """Required Keff with its interval, status, constriction_stable and rank of joined stack rows."""
    kcrit = {}
    for quantity in ("kcrit_gpa", "kcrit_sc_gpa", "kcrit_lo_gpa", "kcrit_hi_gpa"):
        for side in ("cathode", "electrolyte"):
            column = f"{side}_{quantity}"
            table[column] = interface_kcrit_gpa(table[column], table[f"{side}_reacts"])
        kcrit[quantity] = [table[f"{side}_{quantity}"] for side in ("coating", "cathode", "electrolyte")]
    for side in ("cathode", "electrolyte"):  # no interphase: Kcrit 0 for certain
        no_sei = ~table[f"{side}_reacts"] & (table[f"{side}_status"] == "ok")
        table[f"{side}_kcrit_determined"] = table[f"{side}_kcrit_determined"] | no_sei
    table["keff_required_gpa"], table["limiting"] = required_keff_gpa(*kcrit["kcrit_gpa"])
    table["keff_required_sc_gpa"], _ = required_keff_gpa(*kcrit["kcrit_sc_gpa"])
    table["keff_required_lo_gpa"], _ = required_keff_gpa(*kcrit["kcrit_lo_gpa"])
    table["keff_required_hi_gpa"], _ = required_keff_gpa(*kcrit["kcrit_hi_gpa"])
    table["keff_required_determined"] = [determined(lo, hi, max_ratio) for lo, hi in
                                         zip(table["keff_required_lo_gpa"], table["keff_required_hi_gpa"], strict=True)]
    errors = [table[f"{side}_error"].where(table[f"{side}_status"] == "error", "") for side in
              ("coating", "cathode", "electrolyte")]
    table["error"] = [
        "; ".join(f"{side}: {text}" for side, text in zip(("coating", "cathode", "electrolyte"), row, strict=True)
                  if text) for row in zip(*errors, strict=True)]
    table["status"] = np.where(table["error"] == "", "ok", "error")
    bad = table["status"] == "error"
    keff_columns = ["keff_required_gpa", "keff_required_sc_gpa", "keff_required_lo_gpa", "keff_required_hi_gpa"]
    table.loc[bad, keff_columns] = np.nan
    table.loc[bad, "limiting"] = ""
    table.loc[bad, "keff_required_determined"] = False
    table["constriction_stable"] = table["keff_required_gpa"] <= table["keff_gpa"]
    three = np.sort(np.stack([np.asarray(k, dtype=float) for k in kcrit["kcrit_gpa"]], axis=1), axis=1)
    table["_second"], table["_third"] = three[:, 1], three[:, 0]
    table["_rxn"] = -(table["cathode_e_rxn_ev_per_atom"].fillna(0) + table["electrolyte_e_rxn_ev_per_atom"].fillna(0))
    table["_bad"] = bad.astype(int)
    table = table.sort_values(["_c", "_e", "_bad", "keff_required_hi_gpa", "keff_required_gpa", "_second", "_third",
                               "_rxn", "coating_id"],
                              kind="mergesort", na_position="last").reset_index(drop=True)
    table["rank"] = table.groupby(["_c", "_e"]).cumcount().astype("int64") + 1
    table["n_coatings"] = table.groupby(["_c", "_e"])["rank"].transform("size").astype("int64")
    table = table[RANKING_SCHEMA.names]
    for field in RANKING_SCHEMA:
        if pa.types.is_floating(field.type):
            table[field.name] = table[field.name].astype("float64")
        elif pa.types.is_boolean(field.type):
            table[field.name] = table[field.name].astype(bool)
    return table


def known_coating_ranks(ranking: pd.DataFrame) -> pd.DataFrame:
    """Where each known coating ranks, per cathode state and electrolyte (``KNOWN_COLUMNS``)."""
    return ranking.loc[ranking["known_coating"], KNOWN_COLUMNS].reset_index(drop=True)


def write_ranking(
    interfaces_path: str | Path,
    alone_path: str | Path,
    reactants_path: str | Path,
    coatings_path: str | Path,
    *,
    keff_gpa: float,
    ranking_path: str | Path,
    tsv_path: str | Path,
    known_path: str | Path,
    max_ratio: float = UncertaintyModel().max_ratio,
) -> pd.DataFrame:
    """Rank the stacks (:func:`rank_stacks`) and write the ranking as Parquet and TSV, and the known coatings' ranks.

    TSV numbers are rounded to 1e-9 and carry 6 significant digits; ``inf``
    is written as ``inf``, a missing number as an empty field. The Parquet
    keeps every number as computed.
    """
    ranking = rank_stacks(read_results(interfaces_path), pd.read_parquet(alone_path), pd.read_parquet(reactants_path),
                          pd.read_parquet(coatings_path), keff_gpa=keff_gpa, max_ratio=max_ratio)
    write_table(ranking, ranking_path, RANKING_SCHEMA)
    for frame, path in ((ranking, tsv_path), (known_coating_ranks(ranking), known_path)):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        floats = frame.select_dtypes("float").columns
        readable = frame.assign(**{c: frame[c].round(9) + 0.0 for c in floats})  # no -4e-16 or -0 in the TSV
        readable.to_csv(path, sep="\t", index=False, float_format="%.6g")
    for (cathode, electrolyte), group in ranking.groupby(["cathode", "electrolyte"], sort=False):
        ok = group[group["status"] == "ok"]
        log.info("%s | coating | %s: %d stacks, %d constriction-stable at Keff = %g GPa, %d need Keff = 0, "
                 "%d need inf, %d not determined, %d errors; ranked by the upper bound of the required Keff: "
                 "best %s (%.3g GPa, upper bound %.3g)", cathode, electrolyte, len(group),
                 int(ok["constriction_stable"].sum()), keff_gpa, int((ok["keff_required_gpa"] == 0).sum()),
                 int(np.isinf(ok["keff_required_gpa"]).sum()), int((~ok["keff_required_determined"]).sum()),
                 len(group) - len(ok), group["coating_formula"].iloc[0], group["keff_required_gpa"].iloc[0],
                 group["keff_required_hi_gpa"].iloc[0])
    for row in known_coating_ranks(ranking).itertuples(index=False):
        log.info("known coating %s on %s | %s: rank %d of %d, required Keff %.3g GPa (%s)", row.coating_formula,
                 row.cathode, row.electrolyte, row.rank, row.n_coatings, row.keff_required_gpa, row.limiting)
    return ranking


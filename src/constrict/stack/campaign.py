"""The cathode-stack campaign: its plan, the coating-alone table and the ranking.

The interfaces reuse the screen's machinery unchanged: the reactants a of a
plan (:func:`constrict.campaign.plan.plan_shards`) are the cathode states and the
electrolytes that share their working ion, the coatings are the stack's
coatings, and every shard is evaluated by
:func:`constrict.campaign.screen.screen_shard` at every cathode voltage and gathered
by :func:`constrict.campaign.screen.gather`. The result rows keep the screen's
schema; their ``electrolyte`` column holds the reactant a as the plan wrote
it (a cathode formula, ``hull:<composition>`` for a charged cathode, or an
electrolyte formula). The ranking joins, per cathode state, electrolyte and
coating, the two interfaces at the cathode's voltage and the coating alone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from constrict import DEFAULT_CONVENTION
from constrict.campaign.plan import PLAN_SCHEMA, count_pairs, plan_shards, resolve_electrolytes
from constrict.campaign.screen import entries_within, table_phase_sigmas
from constrict.core.errors import ConfigError, ConstrictError, SchemaError
from constrict.data.coatings import campaign_coatings
from constrict.data.entries import EntrySet, parse_composition
from constrict.data.tables import RESULT_SCHEMA, error_rows, read_results, write_table
from constrict.physics.evaluate import composition_reactant
from constrict.physics.uncertainty import UncertaintyModel, determined
from constrict.stack.cathodes import (
    Cathode,
    cathode_states,
    cathodes_from_config,
    select_stack_coatings,
)
from constrict.stack.physics import coating_alone, interface_kcrit_gpa, required_keff_gpa

log = logging.getLogger(__name__)

REACTANT_SCHEMA = pa.schema(
    [
        ("reactant", pa.string()),
        ("label", pa.string()),
        ("role", pa.string()),
        ("formula", pa.string()),
        ("reduced_formula", pa.string()),
        ("chemical_system", pa.string()),
        ("working_ion", pa.string()),
        ("cathode", pa.string()),
        ("state", pa.string()),
        ("voltage_v", pa.float64()),
        ("voltage_source", pa.string()),
    ]
)
"""The reactants a of the stack plan: one row per cathode state (role ``cathode``,
with its voltage) or electrolyte (role ``electrolyte``, voltage NaN). ``reduced_formula``
is the table's (Li0.5CoO2 -> Li(CoO2)2): a coating with it is left out (no interface with itself)."""

SKIPPED_COLUMNS = ["role", "reactant", "label", "working_ion", "reason"]

ALONE_SCHEMA = pa.schema(
    [
        *(RESULT_SCHEMA.field(name) for name in ("coating_id", "coating_formula", "working_ion", "convention")),
        ("window_low_v", pa.float64()),
        ("window_high_v", pa.float64()),
        *(RESULT_SCHEMA.field(name) for name in RESULT_SCHEMA.names[RESULT_SCHEMA.get_field_index("voltage_v"):]),
    ]
)
"""The coating alone: one row per coating x working ion x cathode voltage
(:func:`constrict.stack.physics.coating_alone`)."""

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


def _chemical_system(formula: str) -> str:
    return "-".join(sorted(el.symbol for el in parse_composition(formula).elements))


def _reduced_formula(formula: str) -> str:
    """The table's reduced formula of a composition, fractional amounts included (Li0.5CoO2 -> Li(CoO2)2)."""
    from pymatgen.core import Composition

    return Composition(parse_composition(formula).get_integer_formula_and_factor()[0]).reduced_formula


def stack_reactants(
    entries: pd.DataFrame, cathodes: Sequence[Cathode], electrolytes: Sequence[Mapping[str, Any]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The reactants a of the stack plan, and those left out with the reason.

    A cathode's assembled formula must be an entry of the data; its charged
    composition must have a hull (:func:`constrict.physics.evaluate.composition_reactant`,
    checked on the entries of its chemical system); its working ion needs an
    elemental entry. An electrolyte is kept when it is in the data
    (:func:`constrict.campaign.plan.resolve_electrolytes`) and a cathode exchanges its
    working ion: Li cathodes pair only with Li electrolytes.

    Parameters
    ----------
    entries : DataFrame
        The campaign's entry table.
    cathodes : sequence of Cathode
    electrolytes : sequence of dict
        The config's ``electrolytes`` items.

    Returns
    -------
    reactants : DataFrame
        ``REACTANT_SCHEMA`` columns, cathode states first (config order),
        then electrolytes.
    skipped : DataFrame
        Columns role, reactant, label, working_ion, reason.
    """
    formulas = set(entries["reduced_formula"])
    elemental = set(entries.loc[entries["nelements"] == 1, "chemical_system"])
    rows, skipped = [], []
    for state in cathode_states(cathodes):
        cathode = state.cathode
        reason = None
        if cathode.working_ion not in elemental:
            reason = f"no elemental {cathode.working_ion} entry, so no voltage reference for the working ion"
        elif state.state == "assembled" and _reduced_formula(state.formula) not in formulas:
            reason = f"{state.formula} is not in the entry data; add it as a custom entry or choose another source"
        elif state.state == "charged":
            system = _chemical_system(state.formula)
            try:
                composition_reactant(EntrySet.from_frame(entries_within(entries, [system]).reset_index(drop=True)),
                                     state.formula)
            except ConstrictError as err:
                reason = f"charged composition {state.formula}: {err}"
        if reason:
            log.warning("skipping cathode %s: %s", state.label, reason)
            skipped.append({"role": "cathode", "reactant": state.reactant, "label": state.label,
                            "working_ion": cathode.working_ion, "reason": reason})
            continue
        rows.append({"reactant": state.reactant, "label": state.label, "role": "cathode", "formula": state.formula,
                     "reduced_formula": _reduced_formula(state.formula),
                     "chemical_system": _chemical_system(state.formula), "working_ion": cathode.working_ion,
                     "cathode": cathode.label, "state": state.state, "voltage_v": cathode.voltage_v,
                     "voltage_source": cathode.voltage_source})
    ions = {row["working_ion"] for row in rows}
    available, missing = resolve_electrolytes(entries, electrolytes)
    for _, item in missing.iterrows():
        skipped.append({"role": "electrolyte", "reactant": item["electrolyte"], "label": item["electrolyte_label"],
                        "working_ion": item["working_ion"], "reason": item["reason"]})
    for item in available:
        if item["working_ion"] not in ions:
            reason = (f"working ion {item['working_ion']}: no cathode exchanges it (a cathode pairs only with "
                      "electrolytes of its own working ion)")
            log.info("electrolyte %s not stacked: %s", item["label"], reason)
            skipped.append({"role": "electrolyte", "reactant": item["formula"], "label": item["label"],
                            "working_ion": item["working_ion"], "reason": reason})
            continue
        rows.append({"reactant": item["formula"], "label": item["label"], "role": "electrolyte",
                     "formula": item["formula"], "reduced_formula": item["reduced_formula"],
                     "chemical_system": "-".join(item["elements"]), "working_ion": item["working_ion"],
                     "cathode": "", "state": "", "voltage_v": np.nan, "voltage_source": ""})
    reactants = pd.DataFrame(rows, columns=REACTANT_SCHEMA.names)
    return reactants, pd.DataFrame(skipped, columns=SKIPPED_COLUMNS)


def _plan_items(reactants: pd.DataFrame) -> list[dict[str, Any]]:
    """Reactants as the items :func:`constrict.campaign.plan.plan_shards` pairs with every coating."""
    return [{"formula": r.reactant, "label": r.label, "working_ion": r.working_ion,
             "reduced_formula": r.reduced_formula, "elements": r.chemical_system.split("-")}
            for r in reactants.itertuples(index=False)]


def stack_inputs(
    entries: pd.DataFrame, coatings: pd.DataFrame, stack_config: Mapping[str, Any], cathodes_config, electrolytes
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[str]]:
    """Coatings, reactants and skipped reactants of a stack campaign, from the config.

    Parameters
    ----------
    entries : DataFrame
        The campaign's entry table.
    coatings : DataFrame
        The screen's coatings.
    stack_config : dict
        The config's ``cathode`` block (``selection``, ``known_coatings``).
    cathodes_config, electrolytes : sequence of dict
        The config's ``cathodes`` and ``electrolytes``.

    Returns
    -------
    (stack coatings, reactants, skipped, missing known coatings)
    """
    selection = stack_config["selection"]
    stack_coatings, missing = select_stack_coatings(
        entries, coatings, require_elements=selection["require_elements"],
        exclude_elements=selection["exclude_elements"], known_coatings=stack_config["known_coatings"])
    reactants, skipped = stack_reactants(entries, cathodes_from_config(cathodes_config), electrolytes)
    return stack_coatings, reactants, skipped, missing


def count_stack_pairs(
    entries: pd.DataFrame, config: Mapping[str, Any]
) -> int:
    """Interfaces the stack campaign evaluates (its plan's length), from a validated config.

    The same steps as :func:`write_stack_plan`: the screen's coatings
    (:func:`constrict.data.coatings.campaign_coatings`), the stack selection,
    the reactants, self-pairs left out.
    """
    coatings = campaign_coatings(entries, config["selection"], config["random_state"])
    stack_coatings, reactants, _, _ = stack_inputs(entries, coatings, config["cathode"], config["cathodes"],
                                                   config["electrolytes"])
    return count_pairs(stack_coatings, _plan_items(reactants))


def check_stack_config(config: Mapping[str, Any]) -> None:
    """Checks of the ``cathodes`` key that the schema cannot express.

    Raises
    ------
    ConfigError
        A cathode that does not hold its working ion, a bad formula or
        voltage, or a cathode listed twice.
    """
    cathodes_from_config(config["cathodes"])


def write_stack_plan(
    entries_path: str | Path,
    coatings_path: str | Path,
    *,
    stack_config: Mapping[str, Any],
    cathodes_config: Sequence[Mapping[str, Any]],
    electrolytes: Sequence[Mapping[str, Any]],
    n_shards: int,
    partition_size: int,
    plan_path: str | Path,
    reactants_path: str | Path,
    coatings_out: str | Path,
    skipped_path: str | Path,
) -> pd.DataFrame:
    """Plan the stack interfaces and write the plan, the reactants, the stack coatings and the skipped list.

    Writes ``plan_path`` (``PLAN_SCHEMA``, the shard count in its metadata,
    so :func:`constrict.campaign.screen.screen_shard` evaluates it as it does the
    screen's), ``reactants_path`` (``REACTANT_SCHEMA``), ``coatings_out``
    (entry-table columns plus ``known_coating``) and ``skipped_path`` (TSV:
    reactants and known coatings left out, with the reason).
    """
    entries = pd.read_parquet(entries_path)
    coatings = pd.read_parquet(coatings_path)
    stack_coatings, reactants, skipped, missing = stack_inputs(entries, coatings, stack_config, cathodes_config,
                                                               electrolytes)
    for formula in missing:
        skipped.loc[len(skipped)] = {"role": "known coating", "reactant": formula, "label": formula,
                                     "working_ion": "", "reason": f"{formula} is not in the entry data"}
    plan = plan_shards(stack_coatings, _plan_items(reactants), n_shards=n_shards, partition_size=partition_size)
    write_table(plan, plan_path, PLAN_SCHEMA, metadata={"n_shards": str(n_shards)})
    write_table(reactants, reactants_path, REACTANT_SCHEMA)
    write_table(stack_coatings, coatings_out)
    Path(skipped_path).parent.mkdir(parents=True, exist_ok=True)
    skipped.to_csv(skipped_path, sep="\t", index=False)
    n_cathode = int((reactants["role"] == "cathode").sum())
    log.info("stack plan: %d coatings (%d known) x %d cathode states + %d electrolytes = %d interfaces in %d shards; "
             "%d left out (%s)", len(stack_coatings), int(stack_coatings["known_coating"].sum()), n_cathode,
             len(reactants) - n_cathode, len(plan), n_shards, len(skipped), skipped_path)
    return plan


def write_coatings_alone(
    entries_path: str | Path,
    coatings_path: str | Path,
    reactants_path: str | Path,
    out_path: str | Path,
    *,
    convention: str = DEFAULT_CONVENTION,
    uncertainty: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Window and self-decomposition of every stack coating at every cathode voltage of its working ion.

    One process, coatings in entry_id order; the entry set holds the
    entries inside the coatings' chemical systems (with the working ions).
    A coating that fails gives rows with ``status = "error"``. The Kcrit
    intervals use the per-phase uncertainties of the whole entry table
    under ``uncertainty`` (the config's mapping; :mod:`constrict.physics.uncertainty`).

    Returns
    -------
    DataFrame
        ``ALONE_SCHEMA`` rows, sorted by coating_id, working_ion, voltage_v.
    """
    coatings = pd.read_parquet(coatings_path, columns=["entry_id", "reduced_formula", "chemical_system"])
    reactants = pd.read_parquet(reactants_path)
    cathodes = reactants[reactants["role"] == "cathode"]
    voltages = {ion: sorted(group["voltage_v"].unique()) for ion, group in cathodes.groupby("working_ion")}
    entries = pd.read_parquet(entries_path)
    systems = {"-".join(sorted(set(s.split("-")) | {ion})) for s in coatings["chemical_system"] for ion in voltages}
    entry_set = EntrySet.from_frame(entries_within(entries, systems).reset_index(drop=True))
    sigmas = table_phase_sigmas(str(entries_path), UncertaintyModel.from_config(uncertainty)).for_entry_set(entry_set)
    rows: list[dict] = []
    start = last = time.perf_counter()
    for i, coating in enumerate(coatings.itertuples(index=False), start=1):
        for ion, volts in voltages.items():
            try:
                rows.extend(coating_alone(entry_set, coating.entry_id, voltages_v=volts, working_ion=ion,
                                          convention=convention, sigmas=sigmas))
            except Exception as exc:
                pair = {"electrolyte": "", "electrolyte_label": "", "working_ion": ion, "coating_id": coating.entry_id,
                        "coating_formula": coating.reduced_formula, "chemical_system": coating.chemical_system}
                rows.extend({name: row.get(name, np.nan) for name in ALONE_SCHEMA.names}
                            for row in error_rows(pair, volts, convention, exc))
        if time.perf_counter() - last >= 10 or i == len(coatings):
            last = time.perf_counter()
            log.info("coatings alone: %d/%d, %.0f s", i, len(coatings), last - start)
    table = pd.DataFrame(rows, columns=ALONE_SCHEMA.names)
    for name in ("window_low_v", "window_high_v"):
        table[name] = table[name].astype(float)
    table = table.sort_values(["coating_id", "working_ion", "voltage_v"], kind="mergesort").reset_index(drop=True)
    write_table(table, out_path, ALONE_SCHEMA)
    n_error = int((table["status"] == "error").sum())
    log.info("coatings alone: %d rows, %d stable at their voltage (Kcrit 0), %d error rows", len(table),
             int((table["kcrit_gpa"] == 0).sum()), n_error)
    return table


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
    (:func:`~constrict.stack.physics.interface_kcrit_gpa`). The required
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


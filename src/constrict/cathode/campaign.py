"""The cathode-stack campaign: its plan and the coating-alone table (the ranking: :mod:`constrict.cathode.ranking`).

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
from constrict.cathode.cathodes import (
    Cathode,
    cathode_states,
    cathodes_from_config,
    select_stack_coatings,
)
from constrict.cathode.physics import coating_alone
from constrict.core.errors import ConstrictError
from constrict.data.coatings import campaign_coatings
from constrict.data.entries import EntrySet, parse_composition
from constrict.data.tables import RESULT_SCHEMA, error_rows, write_table
from constrict.physics.evaluate import composition_reactant
from constrict.physics.uncertainty import UncertaintyModel

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
(:func:`constrict.cathode.physics.coating_alone`)."""

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

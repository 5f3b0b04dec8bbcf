"""The shard plan: every electrolyte x coating pair, sorted and cut into shards.

A *pair* (an interface) is one electrolyte x one coating. The plan sorts the
pairs by their combined chemical system (then the coating's system, the
electrolyte, the coating id), so that pairs sharing hulls sit side by side,
and cuts them into partitions of about ``PARTITION_PAIRS`` pairs at
chemical-system boundaries, and the partitions (whole, in plan order) into a
fixed number of shards balanced by pair count. The shard count is known
before the plan is built (:func:`n_shards_for` of :func:`count_interfaces`,
or set), so the workflow's DAG lists every shard job up front.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from constrict.core.config import electrolyte_label
from constrict.core.errors import ConstrictError
from constrict.data.coatings import campaign_coatings
from constrict.data.tables import write_table

log = logging.getLogger(__name__)

PLAN_SCHEMA = pa.schema(
    [
        ("shard", pa.string()),
        ("partition", pa.int64()),
        ("pair_index", pa.int64()),
        ("electrolyte", pa.string()),
        ("electrolyte_label", pa.string()),
        ("working_ion", pa.string()),
        ("coating_id", pa.string()),
        ("coating_formula", pa.string()),
        ("coating_chemical_system", pa.string()),
        ("chemical_system", pa.string()),
    ]
)
"""One row per pair; ``shard`` is the zero-padded shard id, ``partition`` the unit of Dask work."""

PARTITION_PAIRS = 200
"""Default target pairs per partition (cut at chemical-system boundaries)."""

PLAN_SORT = ["chemical_system", "coating_chemical_system", "electrolyte", "coating_id"]
"""Evaluation order: pairs of one combined chemical system side by side."""

SKIPPED_COLUMNS = ["electrolyte", "electrolyte_label", "working_ion", "reason"]


def resolve_electrolytes(
    entries: pd.DataFrame, electrolytes: Sequence[dict[str, Any]]
) -> tuple[list[dict[str, Any]], pd.DataFrame]:
    """Split the configured electrolytes into those in the data and those not.

    Parameters
    ----------
    entries : DataFrame
        Entry table (docs/schema.md).
    electrolytes : sequence of dict
        Config items with ``formula``, ``working_ion``, ``stand_in_for``.

    Returns
    -------
    available : list of dict
        Items found, each with ``label`` and ``reduced_formula`` and
        ``elements`` added.
    skipped : DataFrame
        Columns electrolyte, electrolyte_label, working_ion, reason.
    """
    from pymatgen.core import Composition

    by_formula = set(entries["reduced_formula"])
    elements_present = set(entries.loc[entries["nelements"] == 1, "reduced_formula"].map(_element_of))
    available, skipped = [], []
    for item in electrolytes:
        label = electrolyte_label(item)
        comp = Composition(item["formula"])
        reduced = comp.reduced_formula
        if reduced not in by_formula:
            reason = f"{item['formula']} is not in the entry data; add it as a custom entry or choose another source"
        elif item["working_ion"] not in elements_present:
            reason = f"no elemental {item['working_ion']} entry, so no voltage reference for the working ion"
        else:
            elements = sorted(el.symbol for el in comp.elements)
            available.append({**item, "label": label, "reduced_formula": reduced, "elements": elements})
            continue
        log.warning("skipping electrolyte %s: %s", label, reason)
        skipped.append({"electrolyte": item["formula"], "electrolyte_label": label,
                        "working_ion": item["working_ion"], "reason": reason})
    return available, pd.DataFrame(skipped, columns=SKIPPED_COLUMNS)


def _element_of(reduced_formula: str) -> str:
    from pymatgen.core import Composition

    return Composition(reduced_formula).elements[0].symbol



def _self_pair(coatings: pd.DataFrame, electrolyte: dict[str, Any]) -> pd.Series:
    """Coatings with the electrolyte's own composition (no interface with itself)."""
    return coatings["reduced_formula"] == electrolyte["reduced_formula"]


def count_pairs(coatings: pd.DataFrame, electrolytes: Sequence[dict[str, Any]]) -> int:
    """Pairs :func:`plan_shards` makes of these coatings and available electrolytes (self-pairs left out)."""
    return sum(len(coatings) - int(_self_pair(coatings, e).sum()) for e in electrolytes)


def count_interfaces(
    entries: pd.DataFrame,
    *,
    electrolytes: Sequence[dict[str, Any]],
    selection: dict[str, Any],
    random_state: int = 0,
) -> int:
    """Interfaces a campaign will screen, without building its plan.

    The same steps as the workflow (:func:`campaign_coatings`,
    :func:`resolve_electrolytes`, :func:`count_pairs`), so the count equals
    the length of the plan built from the same entry table.

    Parameters
    ----------
    entries : DataFrame
        The campaign's entry table.
    electrolytes : sequence of dict
        Config items (``formula``, ``working_ion``, ``stand_in_for``);
        those missing from the data count for nothing.
    selection : dict
        The config's ``selection`` block.
    random_state : int
        The campaign's seed.
    """
    coatings = campaign_coatings(entries, selection, random_state)
    available, _ = resolve_electrolytes(entries, electrolytes)
    return count_pairs(coatings, available)


def n_shards_for(n_pairs: int, shard_size: int) -> int:
    """Shards of about ``shard_size`` pairs for ``n_pairs`` pairs: ``ceil(n_pairs / shard_size)``, at least 1."""
    if shard_size < 1:
        raise ConstrictError(f"shard_size must be >= 1, got {shard_size}")
    return max(1, -(-int(n_pairs) // int(shard_size)))


def shard_id(index: int, n_shards: int) -> str:
    """Zero-padded shard id, at least 4 digits: ``shard_id(3, 40) == "0003"``."""
    return f"{index:0{max(4, len(str(max(n_shards - 1, 0))))}d}"


def plan_shards(
    coatings: pd.DataFrame,
    electrolytes: Sequence[dict[str, Any]],
    *,
    n_shards: int,
    partition_size: int = PARTITION_PAIRS,
) -> pd.DataFrame:
    """Every electrolyte x coating pair, sorted by chemical system (``PLAN_SORT``) and cut into shards.

    Parameters
    ----------
    coatings : DataFrame
        Selected coatings (entry-table columns; entry_id, reduced_formula,
        chemical_system, elements are used).
    electrolytes : sequence of dict
        Available electrolytes from :func:`resolve_electrolytes`.
    n_shards : int
        Number of shards (>= 1). Whole partitions, in plan order, are
        spread over exactly this many shards, balanced by pair count
        (:func:`shards_of_partitions`); a shard is empty only when there are
        fewer partitions than shards.
    partition_size : int
        Target pairs per partition (> 0), the unit of Dask work and of a
        fresh engine state.

    Returns
    -------
    DataFrame
        Columns of ``PLAN_SCHEMA``, one row per pair, in evaluation order
        (:func:`count_pairs` rows). A coating with the electrolyte's own
        composition is left out (no interface with itself). Shard ids are
        ``shard_id(i, n_shards)``; empty shards have no rows.
    """
    if n_shards < 1 or partition_size < 1:
        raise ConstrictError(f"n_shards and partition_size must be >= 1, got {n_shards}, {partition_size}")
    rows = []
    for electrolyte in electrolytes:
        same = _self_pair(coatings, electrolyte)
        if same.any():
            log.info("%s is itself a selected coating; its self-pair is left out", electrolyte["label"])
        own = set(electrolyte["elements"])
        columns = ["entry_id", "reduced_formula", "chemical_system", "elements"]
        for coating in coatings.loc[~same, columns].itertuples(index=False):
            rows.append({
                "electrolyte": electrolyte["formula"],
                "electrolyte_label": electrolyte["label"],
                "working_ion": electrolyte["working_ion"],
                "coating_id": coating.entry_id,
                "coating_formula": coating.reduced_formula,
                "coating_chemical_system": coating.chemical_system,
                "chemical_system": "-".join(sorted(own | set(coating.elements))),
            })
    plan = pd.DataFrame(rows, columns=[c for c in PLAN_SCHEMA.names if c not in ("shard", "partition", "pair_index")])
    plan = plan.sort_values(PLAN_SORT, kind="mergesort")
    plan = plan.reset_index(drop=True)
    partition = partition_ids(plan["chemical_system"].tolist(), partition_size)
    shard = shards_of_partitions(np.bincount(partition) if len(plan) else np.array([], int), n_shards)
    plan.insert(0, "pair_index", np.arange(len(plan), dtype=np.int64))
    plan.insert(0, "partition", partition)
    plan.insert(0, "shard", [shard_id(int(i), n_shards) for i in shard[partition]])
    return plan


def partition_ids(chemical_systems: Sequence[str], target: int) -> np.ndarray:
    """Partition id of each pair (in plan order): chunks of >= ``target`` pairs cut where the system changes.

    Pairs of one combined chemical system stay in one partition, so the
    engine's per-system caches serve them all; a partition is never cut
    inside a system, so it may exceed ``target`` by the size of one system.

    Returns
    -------
    ndarray of int64, shape (n_pairs,)
    """
    ids = np.zeros(len(chemical_systems), dtype=np.int64)
    current = count = 0
    for i, system in enumerate(chemical_systems):
        if i and system != chemical_systems[i - 1] and count >= target:
            current, count = current + 1, 0
        ids[i] = current
        count += 1
    return ids


def shards_of_partitions(partition_sizes: Sequence[int], n_shards: int) -> np.ndarray:
    """Shard of each partition: whole partitions, in order, over ``n_shards`` shards balanced by size.

    Shard ``j`` starts at the partition boundary nearest to ``j / n_shards``
    of all pairs, keeping at least one partition for itself and for each
    later shard. Deterministic; every shard holds a contiguous run of
    partitions and none is empty unless there are fewer partitions than
    shards (then partition ``i`` is shard ``i`` and the last shards are
    empty).

    Parameters
    ----------
    partition_sizes : sequence of int
        Pairs per partition, in plan order.
    n_shards : int
        Number of shards (>= 1).

    Returns
    -------
    ndarray of int64, shape (n_partitions,)
        Shard index of each partition, non-decreasing.
    """
    sizes = np.asarray(partition_sizes, dtype=np.int64)
    n_parts = len(sizes)
    if n_shards < 1:
        raise ConstrictError(f"n_shards must be >= 1, got {n_shards}")
    if n_parts <= n_shards:
        return np.arange(n_parts, dtype=np.int64)
    bounds = np.concatenate([[0], np.cumsum(sizes)])  # bounds[c] = pairs before partition c
    total = int(bounds[-1])
    starts = [0]
    for j in range(1, n_shards):
        lo, hi = starts[-1] + 1, n_parts - (n_shards - j)  # room for this shard and every later one
        target = total * j / n_shards
        c = int(np.clip(np.searchsorted(bounds, target), lo, hi))
        if c > lo and abs(bounds[c - 1] - target) <= abs(bounds[c] - target):
            c -= 1
        starts.append(c)
    shard = np.zeros(n_parts, dtype=np.int64)
    for j, start in enumerate(starts[1:], start=1):
        shard[start:] = j
    return shard


def shard_ids(plan: pd.DataFrame | str | Path) -> list[str]:
    """Sorted ids of the non-empty shards of a plan (a DataFrame or its Parquet path)."""
    if not isinstance(plan, pd.DataFrame):
        plan = pd.read_parquet(plan, columns=["shard"])
    return sorted(plan["shard"].unique())


def all_shard_ids(n_shards: int) -> list[str]:
    """Every shard id of a plan of ``n_shards`` shards, empty ones included: ``0000`` ... ."""
    return [shard_id(i, n_shards) for i in range(n_shards)]


def plan_n_shards(plan_path: str | Path) -> int:
    """The shard count a plan file was built for (stored in its Parquet metadata)."""
    metadata = pq.read_schema(plan_path).metadata or {}
    if b"n_shards" not in metadata:
        raise ConstrictError(f"{plan_path} does not record its shard count; rerun plan_shards")
    return int(metadata[b"n_shards"])



def write_plan(
    entries_path: str | Path,
    coatings_path: str | Path,
    electrolytes: Sequence[dict[str, Any]],
    *,
    plan_path: str | Path,
    skipped_path: str | Path,
    n_shards: int,
    partition_size: int = PARTITION_PAIRS,
) -> pd.DataFrame:
    """Resolve the electrolytes, plan ``n_shards`` shards, write the plan and the skipped list.

    Writes ``plan_path`` (Parquet, ``PLAN_SCHEMA``, the shard count in its
    metadata under ``n_shards``) and ``skipped_path`` (TSV, one row per
    configured electrolyte missing from the data, with the reason; header
    only when none is missing).
    """
    entries = pd.read_parquet(entries_path, columns=["reduced_formula", "nelements"])
    coatings = pd.read_parquet(coatings_path, columns=["entry_id", "reduced_formula", "chemical_system", "elements"])
    available, skipped = resolve_electrolytes(entries, electrolytes)
    plan = plan_shards(coatings, available, n_shards=n_shards, partition_size=partition_size)
    write_table(plan, plan_path, PLAN_SCHEMA, metadata={"n_shards": str(n_shards)})
    Path(skipped_path).parent.mkdir(parents=True, exist_ok=True)
    skipped.to_csv(skipped_path, sep="\t", index=False)
    sizes = plan.groupby("shard").size()
    log.info("plan: %d coatings x %d electrolytes = %d interfaces in %d shards (%d non-empty, %d-%d interfaces "
             "each; %d partitions); %d electrolytes skipped", len(coatings), len(available), len(plan), n_shards,
             len(sizes), sizes.min() if len(sizes) else 0, sizes.max() if len(sizes) else 0,
             plan["partition"].nunique(), len(skipped))
    return plan

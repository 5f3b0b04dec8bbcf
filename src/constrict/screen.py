"""The screening campaign: plan shards, evaluate them (Dask), gather.

A *pair* (an interface) is one electrolyte x one coating. The plan sorts the
pairs by their combined chemical system (then the coating's system, the
electrolyte, the coating id), so that pairs sharing hulls sit side by side,
and cuts them into partitions of about ``PARTITION_PAIRS`` pairs at
chemical-system boundaries, and the partitions (whole, in plan order) into a
fixed number of shards balanced by pair count. The shard count is known
before the plan is built (:func:`n_shards_for` of :func:`count_interfaces`,
or set), so the workflow's DAG lists every shard job up front. A shard is
one Snakemake job; its partitions are
evaluated by Dask (a local cluster of processes, or the synchronous
scheduler for one thread). Each worker process builds the engine's
``EntrySet`` once, and every partition starts from a pristine copy of it,
so no result depends on which worker ran what before (the LP solver
warm-starts from its last basis, which moves the last bits).

Every table is Parquet, written atomically (temp file, then rename) and
deterministically (fixed schema, sort order and row-group size, no pandas
metadata), so the same inputs give byte-identical files.
"""

from __future__ import annotations

import copy
import functools
import logging
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from constrict.config import electrolyte_label
from constrict.errors import ConstrictError, SchemaError
from constrict.evaluate import RESULT_SCHEMA, evaluate_interface

log = logging.getLogger(__name__)

ROW_GROUP_SIZE = 65_536
"""Rows per Parquet row group (fixed, so files are byte-reproducible)."""


RESULT_SORT = ["electrolyte", "coating_id", "voltage_v"]

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

_FLOAT_FIELDS = [f.name for f in RESULT_SCHEMA if pa.types.is_floating(f.type) and f.name != "voltage_v"]
_STRING_FIELDS = ["sei_composition", "sei_products", "products"]


# ---------------------------------------------------------------- Parquet I/O
def write_table(
    df: pd.DataFrame, path: str | Path, schema: pa.Schema | None = None, metadata: dict[str, str] | None = None
) -> None:
    """Write ``df`` to Parquet atomically and byte-reproducibly.

    Parameters
    ----------
    df : DataFrame
        Must hold exactly the columns of ``schema`` (any order).
    path : str or Path
        Destination; a temp file beside it is renamed over it at the end, so a
        killed writer leaves no partial output.
    schema : pyarrow.Schema, optional
        Column names, order and types; None keeps the frame's own columns and
        the types Arrow infers.
    metadata : dict of str, optional
        Key-value metadata stored in the file's schema (in place of pandas'
        own, which is always dropped).
    """
    if schema is not None:
        missing = [n for n in schema.names if n not in df.columns]
        extra = [c for c in df.columns if c not in schema.names]
        if missing or extra:
            raise SchemaError(f"table for {Path(path).name}: missing columns {missing}, unexpected {extra}")
        df = df[schema.names]
    table = pa.Table.from_pandas(df, schema=schema, preserve_index=False)
    table = table.replace_schema_metadata(dict(sorted(metadata.items())) if metadata else None)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, tmp, row_group_size=ROW_GROUP_SIZE, compression="zstd")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_results(path: str | Path) -> pd.DataFrame:
    """Read a shard or the gathered screen, checking the result schema."""
    table = pq.read_table(path)
    if table.schema.names != RESULT_SCHEMA.names:
        raise SchemaError(f"{path}: columns {table.schema.names} do not match the screen result schema")
    return table.to_pandas()


# ---------------------------------------------------------------------- plan
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


def limit_coatings(
    coatings: pd.DataFrame,
    *,
    allowed_elements: Iterable[str] | None = None,
    max_coatings: int | None = None,
    random_state: int = 0,
) -> pd.DataFrame:
    """Narrow a coating selection: only some elements, and/or a seeded draw.

    Parameters
    ----------
    coatings : DataFrame
        Selected coatings (entry-table columns), sorted by entry_id.
    allowed_elements : iterable of str, optional
        Keep coatings made of these elements alone.
    max_coatings : int, optional
        Draw this many (without replacement, seeded) when more are left.
    random_state : int
        Seed of the draw.

    Returns
    -------
    DataFrame
        The kept rows, sorted by entry_id.
    """
    if allowed_elements is not None:
        allowed = frozenset(allowed_elements)
        coatings = coatings[coatings["elements"].map(lambda els: allowed.issuperset(els))]
    if max_coatings is not None and len(coatings) > max_coatings:
        coatings = coatings.sample(n=max_coatings, random_state=np.random.RandomState(random_state))
    return coatings.sort_values("entry_id", kind="mergesort").reset_index(drop=True)


def campaign_coatings(entries: pd.DataFrame, selection: dict[str, Any], random_state: int = 0) -> pd.DataFrame:
    """The coatings of a campaign: the config's ``selection`` block applied to an entry table.

    :func:`constrict.coatings.select_coatings` with the band-gap, hull and
    element keys, then :func:`limit_coatings` (``allowed_elements``,
    ``max_coatings``). ``exclude_elements: "default"`` (or left out) keeps
    the package default, ``constrict.coatings.EXCLUDED_ELEMENTS``.

    Parameters
    ----------
    entries : DataFrame
        Entry table (docs/schema.md).
    selection : dict
        The config's ``selection`` block (validated, defaults filled).
    random_state : int
        Seed of the ``max_coatings`` draw.

    Returns
    -------
    DataFrame
        The coatings (entry-table columns), sorted by entry_id.
    """
    from constrict.coatings import select_coatings

    selection = dict(selection)
    limits = {key: selection.pop(key, None) for key in ("allowed_elements", "max_coatings")}
    if selection.get("exclude_elements", "default") == "default":
        selection.pop("exclude_elements", None)
    coatings = select_coatings(entries, **selection)
    log.info("selected %d coatings of %d entries with %s", len(coatings), len(entries), selection)
    coatings = limit_coatings(coatings, **limits, random_state=random_state)
    log.info("kept %d coatings with %s (random_state %d)", len(coatings), limits, random_state)
    return coatings


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
        for coating in coatings.loc[~same, ["entry_id", "reduced_formula", "chemical_system", "elements"]].itertuples(index=False):
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

# ------------------------------------------------------------------ evaluate
def entries_within(entries: pd.DataFrame, chemical_systems: Iterable[str]) -> pd.DataFrame:
    """Rows of the entry table whose elements all lie inside one of the chemical systems.

    Every hull, reaction and decomposition of a pair needs only the entries
    of its combined chemical system and its subsystems, so a shard's results
    are exact on this subset; it is about 10-15 % of the table for a shard
    of the default campaign, which makes the per-worker setup cheap.

    Parameters
    ----------
    entries : DataFrame
        Entry table with an ``elements`` column (list of str).
    chemical_systems : iterable of str
        '-'-joined element symbols, e.g. ``"Li-P-S-Zr"``.
    """
    symbols = sorted({el for els in entries["elements"] for el in els})
    if len(symbols) > 128:
        raise SchemaError(f"{len(symbols)} distinct elements in the entry table; at most 128 are supported")
    bit = {el: i for i, el in enumerate(symbols)}

    def masks(element_lists) -> tuple[np.ndarray, np.ndarray]:
        ints = [sum(1 << bit[el] for el in els if el in bit) for els in element_lists]
        low = np.array([m & 0xFFFFFFFFFFFFFFFF for m in ints], dtype=np.uint64)
        high = np.array([m >> 64 for m in ints], dtype=np.uint64)
        return low, high

    entry_low, entry_high = masks(entries["elements"])
    sys_low, sys_high = masks([system.split("-") for system in sorted(set(chemical_systems))])
    keep = np.zeros(len(entries), dtype=bool)
    for low, high in zip(sys_low, sys_high, strict=True):
        keep |= ((entry_low & ~low) == 0) & ((entry_high & ~high) == 0)
    return entries[keep]


@functools.lru_cache(maxsize=2)
def _entry_set(entries_path: str, chemical_systems: tuple[str, ...] | None = None):
    """The engine's EntrySet over the entries a shard needs, built once per process."""
    from constrict.hull import EntrySet

    entries = pd.read_parquet(entries_path)
    if chemical_systems is not None:
        entries = entries_within(entries, chemical_systems)
    return EntrySet.from_frame(entries.reset_index(drop=True))


def _error_rows(pair: dict[str, Any], voltages_v: Sequence[float], convention: str, exc: Exception) -> list[dict]:
    message = " ".join(str(exc).split()) or "no message"
    error = f"{type(exc).__name__}: {message}"[:500]
    base = {name: np.nan for name in _FLOAT_FIELDS}
    base.update({name: "{}" for name in _STRING_FIELDS})
    base.update(
        electrolyte=pair["electrolyte"], electrolyte_label=pair["electrolyte_label"],
        working_ion=pair["working_ion"], coating_id=pair["coating_id"],
        coating_formula=pair["coating_formula"], chemical_system=pair["chemical_system"],
        convention=convention, reacts=False, mutual=False, status="error", error=error,
    )
    return [{**base, "voltage_v": float(v)} for v in voltages_v]


def evaluate_pairs(
    pairs: Sequence[dict[str, Any]],
    entries_path: str,
    voltages_v: Sequence[float],
    convention: str,
    chemical_systems: tuple[str, ...] | None = None,
) -> list[dict]:
    """Evaluate pairs with the engine; one bad pair gives error rows, never an exception.

    Parameters
    ----------
    pairs : sequence of dict
        Plan rows (electrolyte, electrolyte_label, working_ion, coating_id,
        coating_formula, chemical_system).
    entries_path : str
        Entry-table Parquet; its EntrySet is cached per process.
    voltages_v : sequence of float
        Voltages vs. the working-ion metal (V).
    convention : {"ion_metal", "reservoir"}
        Reaction-strain convention.
    chemical_systems : tuple of str, optional
        The combined systems of the whole shard (sorted); the EntrySet is
        built over the entries inside them (:func:`entries_within`) once
        per process; each call works on a fresh copy. None = the whole table.

    Returns
    -------
    list of dict
        ``len(pairs) * len(voltages_v)`` result rows.
    """
    # A pristine copy per partition: results never depend on earlier work.
    entry_set = copy.deepcopy(_entry_set(entries_path, chemical_systems))
    rows: list[dict] = []
    for pair in pairs:
        try:
            result = evaluate_interface(
                entry_set, pair["electrolyte"], pair["coating_id"],
                voltages_v=list(voltages_v), working_ion=pair["working_ion"], convention=convention,
            )
            for row in result:
                row["electrolyte"] = pair["electrolyte"]
                row["electrolyte_label"] = pair["electrolyte_label"]
            if len(result) != len(voltages_v):
                raise SchemaError(f"engine returned {len(result)} rows for {len(voltages_v)} voltages")
        except Exception as exc:  # noqa: BLE001 - one bad pair must not kill the shard
            result = _error_rows(pair, voltages_v, convention, exc)
        rows.extend(result)
    return rows


class _Progress:
    """Logs interfaces done, rate (interfaces/s) and ETA at most every ``every_s`` seconds."""

    def __init__(self, total: int, label: str, every_s: float = 10.0):
        self.total, self.label, self.every_s = total, label, every_s
        self.done = 0
        self.start = self.last = time.perf_counter()

    def update(self, n: int) -> None:
        self.done += n
        now = time.perf_counter()
        if now - self.last >= self.every_s or self.done >= self.total:
            self.last = now
            elapsed = max(now - self.start, 1e-9)
            rate = self.done / elapsed
            eta = (self.total - self.done) / rate if rate > 0 else float("inf")
            log.info("%s: %d/%d interfaces (%.1f%%), %.1f interfaces/s, elapsed %.0f s, ETA %.0f s",
                     self.label, self.done, self.total, 100 * self.done / max(self.total, 1),
                     rate, elapsed, eta)


def screen_pairs(
    pairs: pd.DataFrame,
    entries_path: str | Path,
    *,
    voltages_v: Sequence[float],
    convention: str = "ion_metal",
    threads: int = 1,
    mem_mb: int | None = None,
    label: str = "screen",
) -> pd.DataFrame:
    """Evaluate plan rows with Dask and return the sorted result table.

    Parameters
    ----------
    pairs : DataFrame
        Plan rows (``PLAN_SCHEMA`` columns), in plan order.
    entries_path : str or Path
        Entry-table Parquet that every worker loads once.
    voltages_v : sequence of float
        Voltages vs. the working-ion metal (V).
    convention : {"ion_metal", "reservoir"}
        Reaction-strain convention.
    threads : int
        Dask worker processes; 1 uses the synchronous scheduler in-process.
    mem_mb : int, optional
        Memory for all workers together (MB); split evenly between them.
    label : str
        Prefix of the progress lines in the log.

    Returns
    -------
    DataFrame
        ``RESULT_SCHEMA`` columns, ``len(pairs) * len(voltages_v)`` rows,
        sorted by electrolyte, coating_id, voltage_v.
    """
    entries_path = str(Path(entries_path).resolve())
    voltages_v = [float(v) for v in voltages_v]
    threads = max(1, int(threads))
    partitions = [group.to_dict("records") for _, group in pairs.groupby("partition", sort=True)]
    systems = tuple(sorted(pairs["chemical_system"].unique()))
    progress = _Progress(len(pairs), label)
    log.info("%s: %d interfaces x %d voltages in %d partitions on %d %s", label, len(pairs),
             len(voltages_v), len(partitions), threads, "worker processes" if threads > 1 else "thread (synchronous)")
    rows: list[dict] = []
    if threads == 1 or len(partitions) <= 1:
        rows = _run_synchronous(partitions, entries_path, voltages_v, convention, systems, progress)
    else:
        rows = _run_distributed(partitions, entries_path, voltages_v, convention, systems, progress, threads, mem_mb)
    return results_frame(rows)


def _run_synchronous(partitions, entries_path, voltages_v, convention, systems, progress) -> list[dict]:
    import dask
    from dask.callbacks import Callback

    class _Posttask(Callback):
        def _posttask(self, key, result, dsk, state, worker_id):
            progress.update(len(result) // max(len(voltages_v), 1))

    tasks = [dask.delayed(evaluate_pairs, pure=True)(p, entries_path, voltages_v, convention, systems)
             for p in partitions]
    with _Posttask():
        results = dask.compute(*tasks, scheduler="synchronous")
    return [row for part in results for row in part]


def _run_distributed(partitions, entries_path, voltages_v, convention, systems, progress, threads, mem_mb) -> list[dict]:
    from dask.distributed import Client, LocalCluster, as_completed

    memory_limit = f"{int(mem_mb) // threads}MB" if mem_mb else "auto"
    rows: list[dict] = []
    for name in ("distributed", "tornado", "bokeh"):
        logging.getLogger(name).setLevel(logging.WARNING)
    with (
        LocalCluster(n_workers=threads, threads_per_worker=1, processes=True, dashboard_address=None,
                     scheduler_kwargs={"dashboard": False}, memory_limit=memory_limit,
                     silence_logs=logging.WARNING) as cluster,
        Client(cluster) as client,
    ):
        [systems_future] = client.scatter([systems], broadcast=True)
        futures = [client.submit(evaluate_pairs, p, entries_path, voltages_v, convention, systems_future, pure=False)
                   for p in partitions]
        for future in as_completed(futures):
            part = future.result()
            rows.extend(part)
            progress.update(len(part) // max(len(voltages_v), 1))
            future.release()
    return rows


def results_frame(rows: Iterable[dict] | pd.DataFrame) -> pd.DataFrame:
    """Result rows as a DataFrame with the contract columns, types and sort order."""
    df = rows.copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    if df.empty:
        return pd.DataFrame({f.name: pd.Series(dtype=f.type.to_pandas_dtype()) for f in RESULT_SCHEMA})
    missing = [n for n in RESULT_SCHEMA.names if n not in df.columns]
    extra = [c for c in df.columns if c not in RESULT_SCHEMA.names]
    if missing or extra:
        raise SchemaError(f"engine rows break the result contract: missing {missing}, unexpected {extra}")
    df = df[RESULT_SCHEMA.names]
    for name in _FLOAT_FIELDS + ["voltage_v"]:
        df[name] = df[name].astype("float64")
    for name in ("reacts", "mutual"):
        df[name] = df[name].astype(bool)
    return df.sort_values(RESULT_SORT, kind="mergesort").reset_index(drop=True)


def screen_shard(
    plan_path: str | Path,
    shard: str,
    entries_path: str | Path,
    out_path: str | Path,
    *,
    voltages_v: Sequence[float],
    convention: str = "ion_metal",
    threads: int = 1,
    mem_mb: int | None = None,
) -> pd.DataFrame:
    """Evaluate one shard of the plan and write its Parquet atomically.

    A shard of the plan with no pairs (fewer partitions than shards) writes
    an empty table with the full result schema; a shard id outside the plan
    is an error.
    """
    if shard not in all_shard_ids(plan_n_shards(plan_path)):
        raise ConstrictError(f"shard {shard} is not in {plan_path}; rerun plan_shards")
    plan = pd.read_parquet(plan_path)
    pairs = plan[plan["shard"] == shard]
    if pairs.empty:
        log.info("shard %s: no interfaces (fewer partitions than shards); writing an empty table", shard)
        write_table(results_frame([]), out_path, RESULT_SCHEMA)
        return results_frame([])
    results = screen_pairs(pairs, entries_path, voltages_v=voltages_v, convention=convention,
                           threads=threads, mem_mb=mem_mb, label=f"shard {shard}")
    n_error = int((results["status"] == "error").sum() // max(len(voltages_v), 1))
    if n_error:
        first = results.loc[results["status"] == "error", "error"].iloc[0]
        log.warning("shard %s: %d of %d interfaces failed (first: %s)", shard, n_error, len(pairs), first)
    write_table(results, out_path, RESULT_SCHEMA)
    return results


def gather(shard_paths: Sequence[str | Path], out_path: str | Path) -> pd.DataFrame:
    """Concatenate shard results into one sorted, byte-reproducible Parquet."""
    frames = [read_results(p) for p in sorted(map(str, shard_paths))]
    filled = [f for f in frames if len(f)]  # empty shards add no rows
    results = results_frame(pd.concat(filled, ignore_index=True) if filled else [])
    write_table(results, out_path, RESULT_SCHEMA)
    n_pairs = results.drop_duplicates(["electrolyte", "coating_id"]).shape[0]
    log.info("gathered %d shards: %d rows, %d interfaces, %d error rows, %d reacting rows",
             len(frames), len(results), n_pairs, int((results["status"] == "error").sum()),
             int(results["reacts"].sum()))
    return results



def log_to(log_path: str | Path) -> None:
    """Send logging and stderr of a workflow script to its Snakemake log.

    A ConstrictError then ends the script with its one-line message in the
    log (exit code 2) instead of a traceback; other errors keep theirs.
    """
    import sys

    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    stream = open(log_path, "a", buffering=1)  # noqa: SIM115 - lives as long as the script
    sys.stderr = stream
    logging.basicConfig(level=logging.INFO, stream=stream, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.captureWarnings(True)

    def excepthook(kind, value, traceback):
        if issubclass(kind, ConstrictError):
            stream.write(f"error: {value}\n")
            stream.flush()
            raise SystemExit(2)
        sys.__excepthook__(kind, value, traceback)

    sys.excepthook = excepthook

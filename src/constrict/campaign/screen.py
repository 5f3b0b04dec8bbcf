"""The screening run: evaluate a shard's pairs (Dask inside) and gather the shards.

A shard is one Snakemake job; its partitions (:mod:`constrict.campaign.plan`) are
evaluated one after the other in the job's own process (one thread), or by
a local Dask cluster of worker processes. Each process loads the engine's
``EntrySet`` of the entry table once (from the on-disk entry cache of
:mod:`constrict.data.entry_cache` after the first build), and every partition
starts from a fresh copy of it (:meth:`EntrySet.fresh`), so no result
depends on which worker ran what before (the LP solver warm-starts from its
last basis, which moves the last bits).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from constrict import DEFAULT_CONVENTION
from constrict.campaign.plan import all_shard_ids, plan_n_shards
from constrict.core.errors import ConstrictError, SchemaError
from constrict.data.tables import RESULT_SCHEMA, error_rows, read_results, results_frame, write_table
from constrict.physics.evaluate import evaluate_interface, resolve_reactant
from constrict.physics.uncertainty import UncertaintyModel

log = logging.getLogger(__name__)


def entries_within(entries: pd.DataFrame, chemical_systems: Iterable[str]) -> pd.DataFrame:
    """Rows of the entry table whose elements all lie inside one of the chemical systems.

    Every hull, reaction and decomposition of a pair needs only the entries
    of its combined chemical system and its subsystems, so results computed
    on this subset are exact.

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


def _read_table(path: str) -> pd.DataFrame:
    return pd.read_parquet(path).reset_index(drop=True)


@functools.lru_cache(maxsize=2)
def _entry_set(entries_path: str):
    """The engine's EntrySet of an entry table, once per process, from the on-disk cache when it has it."""
    from constrict.data import entry_cache
    from constrict.data.entries import EntrySet

    digest = entry_cache.file_digest(entries_path)
    loader = functools.partial(_read_table, entries_path)
    entry_set = entry_cache.read_cached(digest, frame=loader)
    if entry_set is None:
        entry_set = EntrySet.from_frame(loader())
        entry_cache.write_cached(entry_set, digest)
    return entry_set


@functools.lru_cache(maxsize=2)
def table_phase_sigmas(entries_path: str, model: UncertaintyModel | None = None):
    """Per-phase uncertainties of an entry-table file, once per process.

    The entry set comes from the on-disk entry cache and the evidence
    columns are read without validation, so this costs a fraction of a
    second. Fitted over the whole table: for an entry set of some of its
    rows use ``.for_entry_set(subset)``.

    Parameters
    ----------
    entries_path : str
        Entry-table Parquet.
    model : UncertaintyModel, optional
        Default ``UncertaintyModel()``.

    Returns
    -------
    PhaseSigmas
    """
    from constrict.physics.uncertainty import phase_sigmas, read_evidence

    return phase_sigmas(_entry_set(str(entries_path)), model, evidence=read_evidence(entries_path))


def table_entry_set(entries_path: str):
    """The engine's EntrySet of an entry-table file, once per process (from the on-disk entry cache)."""
    return _entry_set(str(Path(entries_path).resolve()))


def evaluate_pairs(
    pairs: Sequence[dict[str, Any]],
    entries_path: str,
    voltages_v: Sequence[float],
    convention: str,
    uncertainty: UncertaintyModel | None = None,
) -> list[dict]:
    """Evaluate pairs with the engine; one bad pair gives error rows, never an exception.

    Parameters
    ----------
    pairs : sequence of dict
        Plan rows (electrolyte, electrolyte_label, working_ion, coating_id,
        coating_formula, chemical_system).
    entries_path : str
        Entry-table Parquet; its EntrySet is loaded once per process and
        each call works on a fresh copy (no LP state of earlier calls).
    voltages_v : sequence of float
        Voltages vs. the working-ion metal (V).
    convention : {"ion_metal", "reservoir", "released_metal"}
        Reaction-strain convention.
    uncertainty : UncertaintyModel, optional
        Per-phase uncertainties and interval settings of the Kcrit interval
        (default ``UncertaintyModel()``).

    Returns
    -------
    list of dict
        ``len(pairs) * len(voltages_v)`` result rows.
    """
    sigmas = table_phase_sigmas(entries_path, uncertainty or UncertaintyModel())
    entry_set = _entry_set(entries_path).fresh()
    electrolytes = {}  # formula -> Reactant, looked up once (a formula that is no reduced formula is parsed)
    rows: list[dict] = []
    for pair in pairs:
        try:
            formula = pair["electrolyte"]
            if formula not in electrolytes:
                electrolytes[formula] = resolve_reactant(entry_set, formula)[0]
            result = evaluate_interface(
                entry_set, electrolytes[formula], pair["coating_id"],
                voltages_v=list(voltages_v), working_ion=pair["working_ion"], convention=convention,
                sigmas=sigmas,
            )
            for row in result:
                row["electrolyte"] = pair["electrolyte"]
                row["electrolyte_label"] = pair["electrolyte_label"]
            if len(result) != len(voltages_v):
                raise SchemaError(f"engine returned {len(result)} rows for {len(voltages_v)} voltages")
        except ConstrictError as exc:  # the physics refused this pair; a code bug still fails the shard
            result = error_rows(pair, voltages_v, convention, exc)
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
    convention: str = DEFAULT_CONVENTION,
    threads: int = 1,
    mem_mb: int | None = None,
    label: str = "screen",
    uncertainty: UncertaintyModel | None = None,
) -> pd.DataFrame:
    """Evaluate plan rows (in this process, or with Dask) and return the sorted result table.

    Parameters
    ----------
    pairs : DataFrame
        Plan rows (``PLAN_SCHEMA`` columns), in plan order.
    entries_path : str or Path
        Entry-table Parquet that every worker loads once.
    voltages_v : sequence of float
        Voltages vs. the working-ion metal (V).
    convention : {"ion_metal", "reservoir", "released_metal"}
        Reaction-strain convention.
    threads : int
        Dask worker processes; 1 evaluates the partitions in this process, in plan
        order (Dask's synchronous scheduler would only add its start-up).
    mem_mb : int, optional
        Memory for all workers together (MB); split evenly between them.
    label : str
        Prefix of the progress lines in the log.
    uncertainty : UncertaintyModel, optional
        Settings of the Kcrit interval (:func:`evaluate_pairs`).

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
    progress = _Progress(len(pairs), label)
    log.info("%s: %d interfaces x %d voltages in %d partitions on %d %s", label, len(pairs),
             len(voltages_v), len(partitions), threads, "worker processes" if threads > 1 else "thread (in process)")
    rows: list[dict] = []
    if threads == 1 or len(partitions) <= 1:
        rows = _run_in_process(partitions, entries_path, voltages_v, convention, uncertainty, progress)
    else:
        rows = _run_distributed(partitions, entries_path, voltages_v, convention, uncertainty, progress, threads,
                                mem_mb)
    return results_frame(rows)


def _run_in_process(partitions, entries_path, voltages_v, convention, uncertainty, progress) -> list[dict]:
    rows: list[dict] = []
    for partition in partitions:
        part = evaluate_pairs(partition, entries_path, voltages_v, convention, uncertainty)
        rows.extend(part)
        progress.update(len(part) // max(len(voltages_v), 1))
    return rows


def _run_distributed(partitions, entries_path, voltages_v, convention, uncertainty, progress, threads,
                     mem_mb) -> list[dict]:
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
        futures = [client.submit(evaluate_pairs, p, entries_path, voltages_v, convention, uncertainty, pure=False)
                   for p in partitions]
        for future in as_completed(futures):
            part = future.result()
            rows.extend(part)
            progress.update(len(part) // max(len(voltages_v), 1))
            future.release()
    return rows


def screen_shard(
    plan_path: str | Path,
    shard: str,
    entries_path: str | Path,
    out_path: str | Path,
    *,
    voltages_v: Sequence[float],
    convention: str = DEFAULT_CONVENTION,
    threads: int = 1,
    mem_mb: int | None = None,
    uncertainty: Mapping[str, Any] | UncertaintyModel | None = None,
) -> pd.DataFrame:
    """Evaluate one shard of the plan and write its Parquet atomically.

    A shard of the plan with no pairs (fewer partitions than shards) writes
    an empty table with the full result schema; a shard id outside the plan
    is an error. ``uncertainty`` is the config's ``uncertainty:`` mapping
    (or an :class:`~constrict.physics.uncertainty.UncertaintyModel`), checked here.
    """
    if not isinstance(uncertainty, UncertaintyModel):
        uncertainty = UncertaintyModel.from_config(uncertainty)
    if shard not in all_shard_ids(plan_n_shards(plan_path)):
        raise ConstrictError(f"shard {shard} is not in {plan_path}; rerun plan_shards")
    plan = pd.read_parquet(plan_path)
    pairs = plan[plan["shard"] == shard]
    if pairs.empty:
        log.info("shard %s: no interfaces (fewer partitions than shards); writing an empty table", shard)
        write_table(results_frame([]), out_path, RESULT_SCHEMA)
        return results_frame([])
    results = screen_pairs(pairs, entries_path, voltages_v=voltages_v, convention=convention,
                           threads=threads, mem_mb=mem_mb, label=f"shard {shard}", uncertainty=uncertainty)
    n_error = int((results["status"] == "error").sum() // max(len(voltages_v), 1))
    if n_error:
        first = results.loc[results["status"] == "error", "error"].iloc[0]
        if n_error == len(pairs):
            raise ConstrictError(f"shard {shard}: all {n_error} interfaces failed (first: {first}); nothing written")
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

"""The reproduction study of one campaign: every variant table under results/reproduction/.

:func:`run_study` reads the gathered screen, the entry table and the
coatings (and, where the design stage ran, its table and Fig. 5 data) and
writes the tables of :data:`TABLES`, each as Parquet and TSV. The study's
own physics is small: a sample screen on another source and composition,
the windows under each convention, the electrolytes' limit strains and the
designed compositions; everything else follows from the stored columns.
The config is the campaign's, validated (its ``reproduction`` block;
workflow/schemas/config.schema.yaml).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from constrict.campaign.statistics import REQUIRED_COLUMNS as SUMMARY_COLUMNS
from constrict.data.tables import results_frame, write_table
from constrict.reproduction import check_reproduction_config
from constrict.reproduction.samples import (
    SAMPLE_COLUMNS,
    design_rows,
    design_variants,
    limit_strains,
    pair_systems,
    sample_coatings,
    screen_pairs,
    windows_by_convention,
)
from constrict.reproduction.surrogate_tasks import TaskVariant, campaign_task_key, surrogate_variants
from constrict.reproduction.variants import VOLUME_COLUMNS, element_signs, variant_stats

log = logging.getLogger(__name__)

TABLES = ("stats", "signs", "windows", "strains", "samples", "surrogate", "design")
"""The study's tables: results/reproduction/<name>.parquet and .tsv."""

SCREEN_COLUMNS = tuple(dict.fromkeys((
    *SUMMARY_COLUMNS, "coating_formula", "x_m", *VOLUME_COLUMNS,
)))
"""Screen columns the study reads: the summary's (its correlations run on them), the surrogate's, the volumes."""


def _write(frame: pd.DataFrame, out_dir: Path, name: str) -> None:
    write_table(frame.reset_index(drop=True), out_dir / f"{name}.parquet")
    frame.to_csv(out_dir / f"{name}.tsv", sep="\t", index=False, float_format="%.6g")


def _entry_set(table: pd.DataFrame, systems: list[str]):
    from constrict.data.entries import EntrySet
    from constrict.data.sources import restrict_to_chemical_systems

    return EntrySet.from_frame(restrict_to_chemical_systems(table, systems))


def _sample(config: dict, coatings: pd.DataFrame, entries: pd.DataFrame, other_path: str | Path) -> pd.DataFrame:
    """The sample screen: the same coatings against the sample electrolytes, on the campaign's source and another.

    The other source's table is restricted to the sample's chemical systems
    before it is checked (:func:`constrict.data.sources.schema.validate_entries`),
    which costs a fraction of checking all of it.
    """
    from constrict.data.sources import restrict_to_chemical_systems
    from constrict.data.sources.schema import finalize_entries, validate_entries

    block = config["reproduction"]["sample"]
    other = block["other_source"]
    if block["coatings"] == 0:
        return results_frame([]).assign(source=pd.Series(dtype=str))[list(SAMPLE_COLUMNS)]
    other_formulas = set(pq.read_table(other_path, columns=["reduced_formula"]).column(0).to_pylist())
    chosen = sample_coatings(coatings, block["coatings"], random_state=config["random_state"],
                             available=other_formulas)
    electrolytes = [{**e, "label": e["formula"]} for e in block["electrolytes"]]
    systems = pair_systems([e["formula"] for e in electrolytes], chosen)
    log.info("sample: %d coatings x %d electrolytes on %s and %s (%d chemical systems)", len(chosen),
             len(electrolytes), config["source"]["name"], other, len(systems))
    frames = []
    other_table = restrict_to_chemical_systems(pd.read_parquet(other_path), systems)
    for source, table in ((config["source"]["name"], entries),
                          (other, validate_entries(finalize_entries(other_table)))):
        entry_set = _entry_set(table, systems)
        frames.append(screen_pairs(entry_set, electrolytes, chosen, voltages_v=config["voltages_v"],
                                   convention=config["convention"], source=source))
    return pd.concat(frames, ignore_index=True)[list(SAMPLE_COLUMNS)]


def _design_pairs(config: dict, design_table: pd.DataFrame | None, fig5: pd.DataFrame | None) -> pd.DataFrame:
    """(electrolyte, formula, working_ion, voltage_v) of every designed composition the table compares."""
    frames = []
    ion = config["design"]["working_ion"]
    for frame in (design_table, fig5):
        if frame is not None and not frame.empty:
            frames.append(frame[["electrolyte", "formula", "voltage_v"]].assign(working_ion=ion))
    if not frames:
        return pd.DataFrame(columns=["electrolyte", "formula", "voltage_v", "working_ion"])
    pairs = pd.concat(frames, ignore_index=True).drop_duplicates()
    return pairs[pairs["formula"].notna() & (pairs["formula"] != "")]


def run_study(*, screen: str | Path, entries: str | Path, coatings: str | Path, other_source: str | Path,
              out_dir: str | Path, config: dict, design_table: str | Path | None = None,
              fig5: str | Path | None = None, training_table: str | Path | None = None,
              threads: int = 1) -> dict[str, Path]:
    """Write every table of :data:`TABLES` under ``out_dir``.

    Parameters
    ----------
    screen, entries, coatings : str or Path
        The campaign's screen.parquet, entries.parquet and coatings.parquet.
    other_source : str or Path
        The other source's entry table (``reproduction.sample.other_source``).
    out_dir : str or Path
        Where the tables go (results/reproduction).
    config : dict
        The validated campaign config.
    design_table, fig5 : str or Path, optional
        The design stage's design_table.parquet and fig5.parquet (None: not run).
    training_table : str or Path, optional
        The surrogate stage's training_table.parquet: the rows of the
        campaign's own task, so that they are not built again (None: built).
    threads : int
        Threads of the surrogate fits.

    Returns
    -------
    dict of str to Path
        Table name -> its Parquet file.
    """
    check_reproduction_config(config)
    block = config["reproduction"]
    conventions, normalisations = block["conventions"], block["normalisations"]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.process_time()

    def done(name: str, frame: pd.DataFrame) -> None:
        _write(frame, out_dir, name)
        log.info("%s: %d rows (%.1f CPU-s so far)", name, len(frame), time.process_time() - started)

    rows = pd.read_parquet(screen, columns=list(SCREEN_COLUMNS))
    frames = [variant_stats(rows, conventions=conventions, normalisations=normalisations, cap_gpa=block["cap_gpa"],
                            data="screen", source=config["source"]["name"])]
    done("signs", element_signs(rows, voltage_v=block["voltage_v"], conventions=conventions,
                                normalisations=normalisations))

    entry_table = pd.read_parquet(entries)
    sample = _sample(config, pd.read_parquet(coatings), entry_table, other_source)
    done("samples", sample)
    for name, group in sample.groupby("source", sort=True):
        frames.append(variant_stats(group, conventions=conventions, normalisations=normalisations,
                                    cap_gpa=block["cap_gpa"], data="sample", source=name))
    done("stats", pd.concat(frames, ignore_index=True))

    electrolytes = config["electrolytes"]
    pairs = _design_pairs(config, pd.read_parquet(design_table) if design_table else None,
                          pd.read_parquet(fig5) if fig5 else None)
    systems = pair_systems([e["formula"] for e in electrolytes], [e["formula"] for e in electrolytes])
    systems += pair_systems(pairs["electrolyte"].unique(), pairs["formula"].unique()) if len(pairs) else []
    entry_set = _entry_set(entry_table, sorted(set(systems)))
    done("windows", windows_by_convention(entry_set, electrolytes, block["window_keff_gpa"], conventions))
    done("strains", limit_strains(entry_set, electrolytes, block["limit_voltages_v"], conventions))
    done("design", design_variants(design_rows(entry_set, pairs), conventions=conventions,
                                   normalisations=normalisations, keff_gpa=block["fig5_keff_gpa"]))

    sur = block["surrogate"]
    variants = [TaskVariant.from_config(item, surrogate=config["surrogate"], convention=config["convention"])
                for item in sur["variants"]]
    known = {}
    if training_table is not None:
        from constrict.surrogate.data import at_voltage, element_columns

        table = at_voltage(pd.read_parquet(training_table), block["voltage_v"])
        known[campaign_task_key(config)] = table[["kcrit_gpa", *element_columns(table)]]
    done("surrogate", surrogate_variants(rows, variants, voltage_v=block["voltage_v"],
                                         random_state=config["random_state"], max_train_rows=sur["max_train_rows"],
                                         n_jobs=threads, tables=known))
    return {name: out_dir / f"{name}.parquet" for name in TABLES}

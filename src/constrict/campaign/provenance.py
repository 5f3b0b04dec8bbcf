"""What a campaign ran on: data counts, input hashes, software versions and the config.

Everything here is read from the campaign's own files (the entry table,
the coatings, the skipped electrolytes), so the report's provenance tables
never hold a typed number.
"""

from __future__ import annotations

import hashlib
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd
import yaml

from constrict.data.coatings import selection_counts

PACKAGES = (
    "constrict", "numpy", "scipy", "highspy", "pandas", "pyarrow", "pymatgen", "mp-api", "emmet-core",
    "scikit-learn", "shap", "skops", "dask", "snakemake", "matplotlib",
)
"""Libraries whose versions the report lists (every pinned one that touches a number)."""

COUNT_COLUMNS = ["section", "item", "count", "note"]


def file_sha256(path: str | Path) -> str:
    """SHA-256 (hex) of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def software_versions(packages=PACKAGES) -> pd.DataFrame:
    """Installed versions, Python first.

    Returns
    -------
    pandas.DataFrame
        Columns ``package`` and ``version`` ("not installed" where absent).
    """
    rows = [{"package": "python", "version": ".".join(map(str, sys.version_info[:3]))}]
    for name in packages:
        try:
            rows.append({"package": name, "version": version(name)})
        except PackageNotFoundError:
            rows.append({"package": name, "version": "not installed"})
    return pd.DataFrame(rows, columns=["package", "version"])


def _selection_keys(selection: dict) -> dict:
    """The keys of the config's ``selection`` block that :func:`selection_counts` takes."""
    keys = {k: v for k, v in selection.items() if k not in ("allowed_elements", "max_coatings")}
    if keys.get("exclude_elements", "default") == "default":
        keys.pop("exclude_elements", None)
    return keys


def data_counts(
    entries: pd.DataFrame, coatings: pd.DataFrame, skipped: pd.DataFrame, selection: dict
) -> pd.DataFrame:
    """Counts of the entry table, the coating selection and the skipped electrolytes.

    Parameters
    ----------
    entries : pandas.DataFrame
        The campaign's entry table (results/entries.parquet).
    coatings : pandas.DataFrame
        The selected coatings (results/coatings.parquet).
    skipped : pandas.DataFrame
        Electrolytes left out (results/screen/skipped.tsv).
    selection : dict
        The config's ``selection`` block.

    Returns
    -------
    pandas.DataFrame
        Columns section, item, count, note: entries per source, volume rule
        and band-gap rule; entries kept after each selection criterion; the
        coatings screened; one row per skipped electrolyte with its reason.
    """
    rows = [{"section": "entries", "item": "all", "count": len(entries), "note": ""}]
    for column, note in (("source", "source"), ("volume_rule", "how the volume was chosen (docs/data.md)"),
                         ("band_gap_rule", "how the band gap was chosen (docs/data.md)")):
        if column in entries.columns:
            counts = entries[column].fillna("none").value_counts().sort_index()
            rows += [{"section": f"entries by {column}", "item": str(k), "count": int(v), "note": note}
                     for k, v in counts.items()]
    steps = selection_counts(entries, **_selection_keys(selection))
    rows += [{"section": "coating selection", "item": s, "count": int(n), "note": "kept after this criterion"}
             for s, n in zip(steps["step"], steps["n_kept"], strict=True)]
    limits = {k: selection.get(k) for k in ("allowed_elements", "max_coatings") if selection.get(k) is not None}
    rows.append({"section": "coating selection", "item": "screened", "count": len(coatings),
                 "note": f"after {limits}" if limits else "no further limit"})
    rows += [{"section": "electrolytes skipped", "item": r.electrolyte_label, "count": 0, "note": r.reason}
             for r in skipped.itertuples(index=False)]
    return pd.DataFrame(rows, columns=COUNT_COLUMNS)


def write_provenance(
    entries_path: str | Path,
    coatings_path: str | Path,
    skipped_path: str | Path,
    config: dict,
    out_dir: str | Path,
) -> dict[str, Path]:
    """Write the campaign's provenance tables into ``out_dir``.

    Files: ``data_counts.tsv`` (:func:`data_counts`), ``inputs.tsv`` (file,
    rows, SHA-256 of the entry table and the coatings), ``versions.tsv``
    (:func:`software_versions`) and ``config.yaml`` (the validated config,
    defaults filled, as the workflow ran it).

    Returns
    -------
    dict of str to Path
        Every file written, keyed by its stem.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    entries = pd.read_parquet(entries_path)
    coatings = pd.read_parquet(coatings_path)
    skipped = pd.read_csv(skipped_path, sep="\t")
    written = {name: out_dir / f"{name}.tsv" for name in ("data_counts", "inputs", "versions")}
    data_counts(entries, coatings, skipped, config["selection"]).to_csv(written["data_counts"], sep="\t", index=False)
    inputs = pd.DataFrame(
        [{"file": Path(p).name, "rows": len(df), "sha256": file_sha256(p)}
         for p, df in ((entries_path, entries), (coatings_path, coatings))]
    )
    inputs.to_csv(written["inputs"], sep="\t", index=False)
    software_versions().to_csv(written["versions"], sep="\t", index=False)
    written["config"] = out_dir / "config.yaml"
    written["config"].write_text(yaml.safe_dump(dict(config), sort_keys=True))
    return written

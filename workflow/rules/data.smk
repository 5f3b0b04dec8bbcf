# Entry data: the offline snapshots (committed, built only on request), the
# mp-api cache, and the entry table of this campaign.


# The committed snapshots are inputs of the campaign, never rebuilt by it:
# the rule exists only when asked for (config build_snapshot: true), so
# neither a fresh clone (no record of the code that made the committed file)
# nor --forceall rebuilds them. It declares no inputs, so raw-file mtimes
# cannot trigger it either:
#   make snapshot   (snakemake --config build_snapshot=True --forcerun build_snapshot data/mp_offline.parquet)
if config["build_snapshot"]:

    rule build_snapshot:
        output:
            repo_path("data/{offline}.parquet"),
        log:
            f"{LOGS}/build_snapshot/{{offline}}.log",
        benchmark:
            f"{BENCHMARKS}/build_snapshot/{{offline}}.tsv"
        conda:
            CONDA_ENV
        threads: 1
        resources:
            mem_mb=16000,
            runtime=120,
        params:
            raw_dir=repo_path("data/raw"),
        script:
            "../scripts/build_snapshot.py"


# mp-api: each chemical system is downloaded once into cache/mp_api/ (needs
# MP_API_KEY); delete the cache to refetch.
rule fetch_entries:
    output:
        repo_path("cache/mp_api_entries.parquet"),
    log:
        f"{LOGS}/fetch_entries.log",
    benchmark:
        f"{BENCHMARKS}/fetch_entries.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=8000,
        runtime=240,
    params:
        chemical_systems=SOURCE["chemical_systems"],
        cache_dir=lambda wildcards, output: str(Path(output[0]).parent / "mp_api"),
    script:
        "../scripts/fetch_entries.py"


# The entry table this campaign uses: the source, plus custom entries.
rule prepare_entries:
    input:
        unpack(entries_inputs),
    output:
        f"{RESULTS}/entries.parquet",
    log:
        f"{LOGS}/prepare_entries.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=15,
    params:
        source=SOURCE["name"],
        chemical_systems=SOURCE["chemical_systems"],
    script:
        "../scripts/prepare_entries.py"


# What the entry checks did (docs/data.md, "Volume plausibility"): counts per
# check and value, every replaced volume and every flagged energy, each with
# the interface-voltages of the screen whose SEI or products hold it.
rule data_quality:
    input:
        entries=f"{RESULTS}/entries.parquet",
        screen=f"{RESULTS}/screen/screen.parquet",
    output:
        counts=report(
            f"{RESULTS}/data/quality_counts.tsv",
            caption="../report/data_quality_counts.rst",
            category="1. Data",
            labels={"table": "data quality: counts"},
        ),
        changes=report(
            f"{RESULTS}/data/quality_changes.tsv",
            caption="../report/data_quality_changes.rst",
            category="1. Data",
            labels={"table": "data quality: replaced volumes"},
        ),
        energies=report(
            f"{RESULTS}/data/quality_energies.tsv",
            caption="../report/data_quality_energies.rst",
            category="1. Data",
            labels={"table": "data quality: flagged energies"},
        ),
    log:
        f"{LOGS}/data_quality.log",
    benchmark:
        f"{BENCHMARKS}/data_quality.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    script:
        "../scripts/data_quality.py"

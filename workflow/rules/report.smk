# The report's own tables (constrict.campaign.provenance, constrict.physics.windows): what the
# campaign ran on, and the electrolytes' windows. `make report` then builds
# results/report.html with `snakemake --report`. On when report.enabled is true.


rule provenance:
    input:
        entries=f"{RESULTS}/entries.parquet",
        coatings=f"{RESULTS}/coatings.parquet",
        skipped=f"{RESULTS}/screen/skipped.tsv",
    output:
        counts=report(
            f"{REPORT}/data_counts.tsv",
            caption="../report/data_counts.rst",
            category="1. Data",
            labels={"table": "entries and coatings"},
        ),
        inputs=report(
            f"{REPORT}/inputs.tsv",
            caption="../report/inputs.rst",
            category="1. Data",
            labels={"table": "input files and hashes"},
        ),
        versions=report(
            f"{REPORT}/versions.tsv",
            caption="../report/versions.rst",
            category="8. Provenance",
            labels={"table": "software versions"},
        ),
        config=report(
            f"{REPORT}/config.yaml",
            caption="../report/config.rst",
            category="8. Provenance",
            labels={"table": "config"},
        ),
    log:
        f"{LOGS}/provenance.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        config=config,
    script:
        "../scripts/provenance.py"


rule windows:
    input:
        entries=f"{RESULTS}/entries.parquet",
    output:
        table=report(
            f"{REPORT}/windows.tsv",
            caption="../report/windows.rst",
            category="3. Windows",
            labels={"figure": "table"},
        ),
        figure=report(
            f"{REPORT}/windows.png",
            caption="../report/windows.rst",
            category="3. Windows",
            labels={"figure": "bars"},
        ),
    log:
        f"{LOGS}/windows.log",
    benchmark:
        f"{BENCHMARKS}/windows.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        electrolytes=config["electrolytes"],
        keff_gpa=config["report"]["window_keff_gpa"],
        convention=config["convention"],
    script:
        "../scripts/windows.py"


rule kcrit_sc_example:
    input:
        entries=f"{RESULTS}/entries.parquet",
    output:
        summary=report(
            f"{REPORT}/kcrit_sc_example.tsv",
            caption="../report/kcrit_sc_example.rst",
            category="4. Kcrit_sc",
            labels={"item": "summary"},
        ),
        steps=report(
            f"{REPORT}/kcrit_sc_steps.tsv",
            caption="../report/kcrit_sc_example.rst",
            category="4. Kcrit_sc",
            labels={"item": "Dinkelbach steps"},
        ),
        envelope=f"{REPORT}/kcrit_sc_envelope.tsv",
        figure=report(
            f"{REPORT}/kcrit_sc_example.png",
            caption="../report/kcrit_sc_example.rst",
            category="4. Kcrit_sc",
            labels={"item": "figure"},
        ),
    log:
        f"{LOGS}/kcrit_sc_example.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        example=config["report"]["kcrit_sc_example"],
        convention=config["convention"],
    script:
        "../scripts/kcrit_sc_example.py"

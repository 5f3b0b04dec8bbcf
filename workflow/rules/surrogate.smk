# The Kcrit surrogate (docs/surrogate.md): the training table of the gathered
# screen, one model per voltage evaluated on every split, parity plots and one
# metrics table. On when config surrogate.enabled is true. SURROGATE and
# surrogate_voltages() are defined in common.smk.


rule surrogate_table:
    input:
        screen=f"{RESULTS}/screen/screen.parquet",
    output:
        table=f"{SURROGATE}/training_table.parquet",
        exclusions=f"{SURROGATE}/exclusions.tsv",
    log:
        f"{LOGS}/surrogate_table.log",
    benchmark:
        f"{BENCHMARKS}/surrogate_table.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=15,
    script:
        "../scripts/surrogate_table.py"


# Every model on every split at one voltage; the default model (fitted on the
# random split's training rows) is saved with its metadata.
rule surrogate_train:
    input:
        table=f"{SURROGATE}/training_table.parquet",
    output:
        model=f"{SURROGATE}/models/kcrit_{{voltage}}V.skops",
        metrics=f"{SURROGATE}/evaluation/metrics_{{voltage}}V.tsv",
        predictions=f"{SURROGATE}/evaluation/predictions_{{voltage}}V.parquet",
    log:
        f"{LOGS}/surrogate_train/{{voltage}}V.log",
    benchmark:
        f"{BENCHMARKS}/surrogate_train/{{voltage}}V.tsv"
    wildcard_constraints:
        voltage=r"\d+(\.\d+)?",
    conda:
        CONDA_ENV
    threads: config["surrogate"]["threads"]
    resources:
        mem_mb=6000,
        runtime=30,
    params:
        surrogate=config["surrogate"],
        random_state=config["random_state"],
    script:
        "../scripts/surrogate_train.py"


rule surrogate_parity:
    input:
        predictions=f"{SURROGATE}/evaluation/predictions_{{voltage}}V.parquet",
    output:
        report(
            f"{SURROGATE}/parity_{{voltage}}V.png",
            caption="../report/surrogate_parity.rst",
            category="5. Surrogate",
            labels={"figure": "parity", "voltage": "{voltage} V"},
        ),
    log:
        f"{LOGS}/surrogate_parity/{{voltage}}V.log",
    benchmark:
        f"{BENCHMARKS}/surrogate_parity/{{voltage}}V.tsv"
    wildcard_constraints:
        voltage=r"\d+(\.\d+)?",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        cap_gpa=config["surrogate"]["cap_gpa"],
    script:
        "../scripts/surrogate_parity.py"


rule surrogate_metrics:
    input:
        metrics=expand(
            f"{SURROGATE}/evaluation/metrics_{{voltage}}V.tsv",
            voltage=surrogate_voltages(),
        ),
        models=expand(
            f"{SURROGATE}/models/kcrit_{{voltage}}V.skops",
            voltage=surrogate_voltages(),
        ),
    output:
        report(
            f"{SURROGATE}/metrics.tsv",
            caption="../report/surrogate_metrics.rst",
            category="5. Surrogate",
            labels={"table": "metrics"},
        ),
    log:
        f"{LOGS}/surrogate_metrics.log",
    benchmark:
        f"{BENCHMARKS}/surrogate_metrics.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../scripts/surrogate_metrics.py"


# Not in the default run: how the target transform and the tree size were
# chosen (grouped-split error of each setting; docs/surrogate.md).
rule surrogate_tree_size:
    input:
        table=f"{SURROGATE}/training_table.parquet",
    output:
        f"{SURROGATE}/tree_size_{{voltage}}V.tsv",
    log:
        f"{LOGS}/surrogate_tree_size/{{voltage}}V.log",
    benchmark:
        f"{BENCHMARKS}/surrogate_tree_size/{{voltage}}V.tsv"
    wildcard_constraints:
        voltage=r"\d+(\.\d+)?",
    conda:
        CONDA_ENV
    threads: config["surrogate"]["threads"]
    resources:
        mem_mb=6000,
        runtime=120,
    params:
        surrogate=config["surrogate"],
        random_state=config["random_state"],
    script:
        "../scripts/surrogate_tree_size.py"

# The reproduction study (docs/reproduction.md): every number of the paper
# beside ours under each strain convention, normalisation, target set, data
# source and surrogate task, then the table "The paper, number by number".
# On when config reproduction.enabled is true. REPRODUCTION,
# REPRODUCTION_TABLES and the input functions are defined in common.smk.

# The keys of the config the study reads; a change of any reruns it.
REPRODUCTION_CONFIG = {
    key: config[key]
    for key in (
        "reproduction",
        "source",
        "electrolytes",
        "voltages_v",
        "convention",
        "random_state",
        "surrogate",
        "design",
    )
}


rule reproduction:
    input:
        unpack(reproduction_inputs),
    output:
        **{name: f"{REPRODUCTION}/{name}.parquet" for name in REPRODUCTION_TABLES},
        **{f"{name}_tsv": f"{REPRODUCTION}/{name}.tsv" for name in REPRODUCTION_TABLES},
    log:
        f"{LOGS}/reproduction.log",
    benchmark:
        f"{BENCHMARKS}/reproduction.tsv"
    conda:
        CONDA_ENV
    threads: config["reproduction"]["threads"]
    resources:
        mem_mb=6000,
        runtime=30,
    params:
        config=REPRODUCTION_CONFIG,
    script:
        "../scripts/reproduction.py"


rule reproduction_table:
    input:
        unpack(reproduction_table_inputs),
    output:
        table=f"{REPRODUCTION}/claims.parquet",
        tsv=report(
            f"{REPRODUCTION}/claims.tsv",
            caption="../report/reproduction.rst",
            category="9. The paper, number by number",
            labels={"table": "claims"},
        ),
    log:
        f"{LOGS}/reproduction_table.log",
    benchmark:
        f"{BENCHMARKS}/reproduction_table.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        config=REPRODUCTION_CONFIG,
    script:
        "../scripts/reproduction_table.py"

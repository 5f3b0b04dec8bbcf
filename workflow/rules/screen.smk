# Coatings, the shard plan, the shards (Dask inside) and the gathered screen.


rule select_coatings:
    input:
        entries=f"{RESULTS}/entries.parquet",
    output:
        f"{RESULTS}/coatings.parquet",
    log:
        f"{LOGS}/select_coatings.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=15,
    params:
        selection=config["selection"],
        random_state=config["random_state"],
    script:
        "../scripts/select_coatings.py"


# The number of shards is fixed before the plan is written (n_shards() in
# common.smk), so the DAG lists every shard job up front.
rule plan_shards:
    input:
        entries=f"{RESULTS}/entries.parquet",
        coatings=f"{RESULTS}/coatings.parquet",
    output:
        plan=f"{RESULTS}/screen/plan.parquet",
        skipped=f"{RESULTS}/screen/skipped.tsv",
    log:
        f"{LOGS}/plan_shards.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        electrolytes=config["electrolytes"],
        n_shards=lambda wildcards: n_shards(),
        partition_size=config["partition_size"],
    script:
        "../scripts/plan_shards.py"


rule screen_shard:
    input:
        entries=f"{RESULTS}/entries.parquet",
        plan=f"{RESULTS}/screen/plan.parquet",
    output:
        f"{RESULTS}/screen/shards/{{shard}}.parquet",
    log:
        f"{LOGS}/screen_shard/{{shard}}.log",
    benchmark:
        f"{BENCHMARKS}/screen_shard/{{shard}}.tsv"
    conda:
        CONDA_ENV
    threads: config["threads"]
    resources:
        mem_mb=config["mem_mb"],
        runtime=config["runtime_min"],
    params:
        voltages_v=config["voltages_v"],
        convention=config["convention"],
        uncertainty=config["uncertainty"],
    script:
        "../scripts/screen_shard.py"


rule gather:
    input:
        shard_results,
    output:
        f"{RESULTS}/screen/screen.parquet",
    log:
        f"{LOGS}/gather.log",
    benchmark:
        f"{BENCHMARKS}/gather.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    script:
        "../scripts/gather.py"

# Coatings, the shard plan, the shards (Dask inside) and the gathered screen.


rule select_coatings:
    input:
        entries=f"{RESULTS}/entries.parquet",
    output:
        f"{RESULTS}/coatings.parquet",
    params:
        selection=config["selection"],
        random_state=config["random_state"],
    log:
        f"{LOGS}/select_coatings.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=15,
    conda:
        CONDA_ENV
    script:
        "../scripts/select_coatings.py"


# A checkpoint: the number of shards is known once the plan is written.
checkpoint plan_shards:
    input:
        entries=f"{RESULTS}/entries.parquet",
        coatings=f"{RESULTS}/coatings.parquet",
    output:
        plan=f"{RESULTS}/screen/plan.parquet",
        skipped=f"{RESULTS}/screen/skipped.tsv",
    params:
        electrolytes=config["electrolytes"],
        shard_size=config["shard_size"],
        partition_size=config["partition_size"],
    log:
        f"{LOGS}/plan_shards.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/plan_shards.py"


rule screen_shard:
    input:
        entries=f"{RESULTS}/entries.parquet",
        plan=f"{RESULTS}/screen/plan.parquet",
    output:
        f"{RESULTS}/screen/shards/{{shard}}.parquet",
    params:
        voltages_v=config["voltages_v"],
        convention=config["convention"],
    log:
        f"{LOGS}/screen_shard/{{shard}}.log",
    benchmark:
        f"{BENCHMARKS}/screen_shard/{{shard}}.tsv"
    threads: config["threads"]
    resources:
        mem_mb=config["mem_mb"],
        runtime=config["runtime_min"],
    conda:
        CONDA_ENV
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
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        CONDA_ENV
    script:
        "../scripts/gather.py"

# Cathode | coating | electrolyte stacks (docs/cathode.md): the stack plan, its
# shards (evaluated and gathered by the screen's own adapters), the coatings
# alone, the ranking and its figures. On when config cathode.enabled is true.


# The reactants a (cathode states, electrolytes of their working ion), the
# stack coatings and the plan of every reactant x coating pair.
rule cathode_plan:
    input:
        entries=f"{RESULTS}/entries.parquet",
        coatings=f"{RESULTS}/coatings.parquet",
    output:
        plan=f"{CATHODE}/plan.parquet",
        reactants=f"{CATHODE}/reactants.parquet",
        coatings=f"{CATHODE}/coatings.parquet",
        skipped=f"{CATHODE}/skipped.tsv",
    log:
        f"{LOGS}/cathode_plan.log",
    benchmark:
        f"{BENCHMARKS}/cathode_plan.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=15,
    params:
        stack=config["cathode"],
        cathodes=config["cathodes"],
        electrolytes=config["electrolytes"],
        n_shards=lambda wildcards: cathode_n_shards(),
        partition_size=config["partition_size"],
    script:
        "../scripts/cathode_plan.py"


# Every interface of a shard at every cathode voltage: the screen's adapter.
rule cathode_shard:
    input:
        entries=f"{RESULTS}/entries.parquet",
        plan=f"{CATHODE}/plan.parquet",
    output:
        f"{CATHODE}/shards/{{shard}}.parquet",
    log:
        f"{LOGS}/cathode_shard/{{shard}}.log",
    benchmark:
        f"{BENCHMARKS}/cathode_shard/{{shard}}.tsv"
    conda:
        CONDA_ENV
    threads: config["threads"]
    resources:
        mem_mb=config["mem_mb"],
        runtime=config["runtime_min"],
    params:
        voltages_v=cathode_voltages_v(),
        convention=config["convention"],
        uncertainty=config["uncertainty"],
    script:
        "../scripts/screen_shard.py"


rule cathode_gather:
    input:
        cathode_shard_results,
    output:
        f"{CATHODE}/interfaces.parquet",
    log:
        f"{LOGS}/cathode_gather.log",
    benchmark:
        f"{BENCHMARKS}/cathode_gather.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    script:
        "../scripts/gather.py"


# Each stack coating alone: its window and self-decomposition Kcrit at each
# cathode voltage.
rule cathode_coatings_alone:
    input:
        entries=f"{RESULTS}/entries.parquet",
        coatings=f"{CATHODE}/coatings.parquet",
        reactants=f"{CATHODE}/reactants.parquet",
    output:
        f"{CATHODE}/coatings_alone.parquet",
    log:
        f"{LOGS}/cathode_coatings_alone.log",
    benchmark:
        f"{BENCHMARKS}/cathode_coatings_alone.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=config["runtime_min"],
    params:
        convention=config["convention"],
        uncertainty=config["uncertainty"],
    script:
        "../scripts/cathode_coatings_alone.py"


rule cathode_rank:
    input:
        interfaces=f"{CATHODE}/interfaces.parquet",
        alone=f"{CATHODE}/coatings_alone.parquet",
        reactants=f"{CATHODE}/reactants.parquet",
        coatings=f"{CATHODE}/coatings.parquet",
    output:
        ranking=f"{CATHODE}/ranking.parquet",
        tsv=report(
            f"{CATHODE}/ranking.tsv",
            caption="../report/cathode_ranking.rst",
            category="7. Cathode stack",
            labels={"table": "ranking"},
        ),
        known=report(
            f"{CATHODE}/known_coatings.tsv",
            caption="../report/cathode_known.rst",
            category="7. Cathode stack",
            labels={"table": "known coatings"},
        ),
    log:
        f"{LOGS}/cathode_rank.log",
    benchmark:
        f"{BENCHMARKS}/cathode_rank.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=15,
    params:
        keff_gpa=config["cathode"]["keff_gpa"],
        max_ratio=config["uncertainty"]["max_ratio"],
    script:
        "../scripts/cathode_rank.py"


rule cathode_figures:
    input:
        ranking=f"{CATHODE}/ranking.parquet",
    output:
        kcrit=report(
            f"{CATHODE}/kcrit_interfaces.png",
            caption="../report/cathode_kcrit.rst",
            category="7. Cathode stack",
            labels={"figure": "Kcrit of both interfaces"},
        ),
        keff=report(
            f"{CATHODE}/keff_required.png",
            caption="../report/cathode_keff.rst",
            category="7. Cathode stack",
            labels={"figure": "required Keff"},
        ),
    log:
        f"{LOGS}/cathode_figures.log",
    benchmark:
        f"{BENCHMARKS}/cathode_figures.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=15,
    script:
        "../scripts/cathode_figures.py"

# Kcrit statistics and figures of the gathered screen (constrict.summary).


rule summarise:
    input:
        screen=f"{RESULTS}/screen/screen.parquet",
    output:
        report(
            directory(f"{RESULTS}/summary"),
            patterns=["{name}.png", "{name}.tsv"],
            caption="../report/summary.rst",
            category="2. Screen",
            labels={"file": "{name}"},
        ),
    log:
        f"{LOGS}/summarise.log",
    benchmark:
        f"{BENCHMARKS}/summarise.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    script:
        "../scripts/summarise.py"

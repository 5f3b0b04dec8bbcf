# Kcrit statistics and figures of the gathered screen (constrict.summary).


rule summarise:
    input:
        screen=f"{RESULTS}/screen/screen.parquet",
    output:
        directory(f"{RESULTS}/summary"),
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

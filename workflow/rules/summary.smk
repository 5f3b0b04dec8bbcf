# Kcrit statistics and figures of the gathered screen (constrict.campaign.statistics).


rule summarise:
    input:
        screen=f"{RESULTS}/screen/screen.parquet",
    output:
        report(
            directory(f"{RESULTS}/summary"),
            # one label with the suffix: a figure and its table of the same name stay two rows
            patterns=["{file,[^/]+[.](?:png|tsv)}"],
            caption="../report/summary.rst",
            category="2. Screen",
            labels={"file": "{file}"},
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

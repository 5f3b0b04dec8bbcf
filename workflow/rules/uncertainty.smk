# The Monte-Carlo check of the Kcrit intervals (constrict.campaign.mc_stage): a seeded
# sample of the screen's interfaces re-solved with every entry's energy and
# volume drawn from its uncertainty. Opt-in: config monte_carlo.enabled.

UNCERTAINTY = f"{RESULTS}/uncertainty"


rule uncertainty_mc:
    input:
        screen=f"{RESULTS}/screen/screen.parquet",
        entries=f"{RESULTS}/entries.parquet",
    output:
        samples=f"{UNCERTAINTY}/mc_samples.parquet",
        coverage=report(
            f"{UNCERTAINTY}/mc_coverage.tsv",
            caption="../report/uncertainty_mc.rst",
            category="2. Screen",
            labels={"table": "Kcrit interval: Monte-Carlo coverage"},
        ),
    log:
        f"{LOGS}/uncertainty_mc.log",
    benchmark:
        f"{BENCHMARKS}/uncertainty_mc.tsv"
    conda:
        CONDA_ENV
    threads: config["monte_carlo"]["threads"]
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        monte_carlo=config["monte_carlo"],
        uncertainty=config["uncertainty"],
        convention=config["convention"],
        random_state=config["random_state"],
    script:
        "../scripts/uncertainty_mc.py"

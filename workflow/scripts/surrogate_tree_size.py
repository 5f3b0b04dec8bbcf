"""Snakemake adapter: grouped-split error, fit time and tree size of each candidate setting at one voltage."""

from constrict.campaign.workflow import log_to

if __name__ == "__main__":
    log_to(snakemake.log[0])
    from constrict.surrogate.evaluation import SurrogateOptions
    from constrict.surrogate.pipeline import study

    options = SurrogateOptions.from_config(
        snakemake.params.surrogate, random_state=snakemake.params.random_state, n_jobs=snakemake.threads
    )
    study(snakemake.input.table, float(snakemake.wildcards.voltage), options, snakemake.output[0])

"""Snakemake adapter: the surrogate's training table and exclusion counts of the gathered screen."""

from constrict.campaign.workflow import log_to

if __name__ == "__main__":
    log_to(snakemake.log[0])
    from constrict.surrogate.pipeline import prepare

    prepare(snakemake.input.screen, snakemake.output.table, snakemake.output.exclusions)

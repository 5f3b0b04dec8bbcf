"""Snakemake adapter: Kcrit statistics and figures of the gathered screen."""

from constrict.campaign.workflow import log_to

if __name__ == "__main__":
    log_to(snakemake.log[0])
    from constrict.campaign.summary_stage import summarise

    summarise(snakemake.input.screen, snakemake.output[0])

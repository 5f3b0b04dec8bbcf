"""Snakemake adapter: the figures of the stack ranking."""

from constrict.campaign.workflow import log_to

if __name__ == "__main__":
    log_to(snakemake.log[0])
    from constrict.cathode.plots import stack_figures

    stack_figures(snakemake.input.ranking, snakemake.output.kcrit, snakemake.output.keff)

"""Snakemake adapter: one metrics table over the voltages."""

from constrict.campaign.workflow import log_to

if __name__ == "__main__":
    log_to(snakemake.log[0])
    from constrict.surrogate.pipeline import collect_metrics

    collect_metrics(snakemake.input.metrics, snakemake.output[0])

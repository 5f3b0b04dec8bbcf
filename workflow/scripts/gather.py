"""Snakemake adapter: gather the shard results into one sorted Parquet."""

from constrict.campaign.workflow import log_to

if __name__ == "__main__":
    log_to(snakemake.log[0])
    from constrict.campaign.screen import gather

    gather(snakemake.input, snakemake.output[0])

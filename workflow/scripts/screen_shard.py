"""Snakemake adapter: evaluate one shard (Dask inside) into its Parquet."""

from constrict.campaign.workflow import log_to

# The guard matters: Dask starts its workers with `spawn`, which re-imports this file.
if __name__ == "__main__":
    log_to(snakemake.log[0])
    from constrict.campaign.screen import screen_shard

    screen_shard(
        snakemake.input.plan, snakemake.wildcards.shard, snakemake.input.entries, snakemake.output[0],
        voltages_v=snakemake.params.voltages_v, convention=snakemake.params.convention,
        threads=snakemake.threads, mem_mb=snakemake.resources.mem_mb,
        uncertainty=snakemake.params.get("uncertainty"),
    )

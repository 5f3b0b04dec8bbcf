"""Snakemake adapter: the shard plan and the list of skipped electrolytes."""

from constrict.campaign.workflow import log_to

if __name__ == "__main__":
    log_to(snakemake.log[0])
    from constrict.campaign.plan import write_plan

    write_plan(
        snakemake.input.entries, snakemake.input.coatings, snakemake.params.electrolytes,
        plan_path=snakemake.output.plan, skipped_path=snakemake.output.skipped,
        n_shards=snakemake.params.n_shards, partition_size=snakemake.params.partition_size,
    )

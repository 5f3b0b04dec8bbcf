"""Snakemake adapter: the stack plan, its reactants and coatings, and what was left out."""

from constrict.campaign.workflow import log_to

if __name__ == "__main__":
    log_to(snakemake.log[0])
    from constrict.cathode.campaign import write_stack_plan

    write_stack_plan(
        snakemake.input.entries, snakemake.input.coatings, stack_config=snakemake.params.stack,
        cathodes_config=snakemake.params.cathodes, electrolytes=snakemake.params.electrolytes,
        n_shards=snakemake.params.n_shards, partition_size=snakemake.params.partition_size,
        plan_path=snakemake.output.plan, reactants_path=snakemake.output.reactants,
        coatings_out=snakemake.output.coatings, skipped_path=snakemake.output.skipped,
    )

"""Snakemake adapter: the reproduction study's variant tables (constrict.reproduction.stage)."""

from constrict.campaign.workflow import log_to

if __name__ == "__main__":
    log_to(snakemake.log[0])
    from pathlib import Path

    from constrict.reproduction.stage import run_study

    inputs = snakemake.input
    run_study(screen=inputs.screen, entries=inputs.entries, coatings=inputs.coatings,
              other_source=inputs.other_source, design_table=inputs.get("design_table"), fig5=inputs.get("fig5"),
              training_table=inputs.get("training_table"),
              out_dir=Path(snakemake.output.stats).parent, config=snakemake.params.config, threads=snakemake.threads)

"""Snakemake adapter: the physics-in-the-loop route of the configured parents."""

from constrict.campaign.workflow import log_to

if __name__ == "__main__":
    log_to(snakemake.log[0])
    from constrict.design.stage import config_of, run_physics

    p = snakemake.params
    config = config_of(p.design, p.convention, p.random_state, p.get("uncertainty"))
    run_physics(snakemake.input.entries, snakemake.input.shap, config,
                processes=snakemake.threads, **snakemake.output)

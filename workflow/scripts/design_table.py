"""Snakemake adapter: the design table, predicted and computed side by side, and the verification at every voltage."""

from constrict.campaign.workflow import log_to

if __name__ == "__main__":
    log_to(snakemake.log[0])
    from constrict.design.stage import config_of, run_table

    p, i = snakemake.params, snakemake.input
    config = config_of(p.design, p.convention, p.random_state, p.get("uncertainty"))
    run_table(i.entries, i.model, i.training, i.shap, i.physics, config,
              **snakemake.output)

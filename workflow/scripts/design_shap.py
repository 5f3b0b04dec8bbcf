"""Snakemake adapter: the SHAP-guided route and the grid optimum of every parent and level."""

from constrict.campaign.workflow import log_to

if __name__ == "__main__":
    log_to(snakemake.log[0])
    from constrict.design.stage import config_of, run_shap

    p = snakemake.params
    config = config_of(p.design, p.convention, p.random_state, p.get("uncertainty"))
    run_shap(snakemake.input.model, config, processes=snakemake.threads,
             **snakemake.output)

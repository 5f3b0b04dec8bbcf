"""Snakemake adapter: the SHAP-guided route and the grid optimum of every parent and level."""

from constrict.workflow import log_to

if __name__ == "__main__":
    log_to(snakemake.log[0])
    from constrict.design.stage import config_of, run_shap

    p = snakemake.params
    run_shap(snakemake.input.model, config_of(p.design, p.convention, p.random_state), processes=snakemake.threads,
             **snakemake.output)

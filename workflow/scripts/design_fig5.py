"""Snakemake adapter: Fig. 5 and Fig. S4 data of the first parent's children."""

from constrict.campaign.workflow import log_to

if __name__ == "__main__":
    log_to(snakemake.log[0])
    from constrict.design.stage import config_of, run_fig5

    p, i = snakemake.params, snakemake.input
    config = config_of(p.design, p.convention, p.random_state, p.get("uncertainty"))
    models = {float(key[len("model_"):-1]): path for key, path in i.items() if key.startswith("model_")}
    run_fig5(i.entries, models, i.shap, config, **snakemake.output)

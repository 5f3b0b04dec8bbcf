"""Snakemake adapter: every design figure (Fig. 4c, routes, predicted vs computed, Fig. 5a/b, Fig. S4)."""

from constrict.campaign.workflow import log_to

if __name__ == "__main__":
    log_to(snakemake.log[0])
    from constrict.design.stage import config_of, run_figures

    p = snakemake.params
    config = config_of(p.design, p.convention, p.random_state, p.get("uncertainty"))
    run_figures(dict(snakemake.input.items()), config,
                dict(snakemake.output.items()))

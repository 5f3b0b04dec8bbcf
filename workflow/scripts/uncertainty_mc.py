"""Snakemake adapter: the Monte-Carlo check of the Kcrit intervals."""

from constrict.campaign.workflow import log_to

# The guard matters: the worker processes re-import this file.
if __name__ == "__main__":
    log_to(snakemake.log[0])
    from constrict.campaign.mc_stage import run_check

    p = snakemake.params
    run_check(
        snakemake.input.screen, snakemake.input.entries, samples_path=snakemake.output.samples,
        coverage_path=snakemake.output.coverage, n_interfaces=p.monte_carlo["n_interfaces"],
        n_samples=p.monte_carlo["n_samples"], random_state=p.random_state, threads=snakemake.threads,
        convention=p.convention, uncertainty=p.uncertainty,
    )

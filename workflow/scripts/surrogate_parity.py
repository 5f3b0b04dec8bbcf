"""Snakemake adapter: the parity plot of one voltage (random holdout, grouped holdout beside it)."""

from constrict.campaign.workflow import log_to

if __name__ == "__main__":
    log_to(snakemake.log[0])
    from constrict.surrogate.pipeline import parity

    parity(
        snakemake.input.predictions,
        snakemake.output[0],
        voltage_v=float(snakemake.wildcards.voltage),
        cap_gpa=snakemake.params.cap_gpa,
    )

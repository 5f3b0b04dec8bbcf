"""Snakemake adapter: each stack coating alone (window, self-decomposition Kcrit) at the cathode voltages."""

from constrict.campaign.workflow import log_to

if __name__ == "__main__":
    log_to(snakemake.log[0])
    from constrict.cathode.campaign import write_coatings_alone

    write_coatings_alone(
        snakemake.input.entries, snakemake.input.coatings, snakemake.input.reactants, snakemake.output[0],
        convention=snakemake.params.convention, uncertainty=snakemake.params.get("uncertainty"),
    )

"""Snakemake adapter: rank the cathode | coating | electrolyte stacks."""

from constrict.campaign.workflow import log_to

if __name__ == "__main__":
    log_to(snakemake.log[0])
    from constrict.cathode.ranking import write_ranking

    write_ranking(
        snakemake.input.interfaces, snakemake.input.alone, snakemake.input.reactants, snakemake.input.coatings,
        keff_gpa=snakemake.params.keff_gpa, ranking_path=snakemake.output.ranking, tsv_path=snakemake.output.tsv,
        known_path=snakemake.output.known, max_ratio=snakemake.params.max_ratio,
    )

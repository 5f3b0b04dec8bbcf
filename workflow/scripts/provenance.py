"""Snakemake adapter: the campaign's data counts, input hashes, versions and config."""

from constrict.campaign.workflow import log_to

if __name__ == "__main__":
    log_to(snakemake.log[0])
    from constrict.campaign.provenance import write_provenance

    written = write_provenance(snakemake.input.entries, snakemake.input.coatings, snakemake.input.skipped,
                               snakemake.params.config, snakemake.output.counts.rsplit("/", 1)[0])

"""Snakemake adapter: build an offline entry snapshot from data/raw."""

from constrict.campaign.workflow import log_to

if __name__ == "__main__":
    log_to(snakemake.log[0])
    from constrict.data.sources.offline import build_offline_snapshot

    build_offline_snapshot(snakemake.params.raw_dir, snakemake.output[0], source=snakemake.wildcards.offline)

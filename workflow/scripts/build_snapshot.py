"""Snakemake adapter: build an offline entry snapshot from data/raw."""

from constrict.workflow import log_to

if __name__ == "__main__":
    log_to(snakemake.log[0])
    from constrict.sources.offline import build_offline_snapshot

    build_offline_snapshot(snakemake.params.raw_dir, snakemake.output[0], source=snakemake.wildcards.offline)

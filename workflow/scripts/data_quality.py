"""Snakemake adapter: the campaign's data-quality tables (constrict.data_quality)."""

from pathlib import Path

from constrict.workflow import log_to

if __name__ == "__main__":
    log_to(snakemake.log[0])
    from constrict.data_quality import write_quality_tables

    write_quality_tables(snakemake.input.entries, snakemake.input.screen, Path(snakemake.output.counts).parent)

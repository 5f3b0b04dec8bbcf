"""Snakemake adapter: the campaign's data-quality tables (constrict.data.quality_report)."""

from pathlib import Path

from constrict.campaign.workflow import log_to

if __name__ == "__main__":
    log_to(snakemake.log[0])
    from constrict.data.quality_report import write_quality_tables

    write_quality_tables(snakemake.input.entries, snakemake.input.screen, Path(snakemake.output.counts).parent)

"""Snakemake adapter: the table "The paper, number by number" (constrict.reproduction.table)."""

from constrict.campaign.workflow import log_to

if __name__ == "__main__":
    log_to(snakemake.log[0])
    from pathlib import Path

    from constrict.reproduction.table import Settings, build_table, write_claims

    results_dir = Path(snakemake.output.table).parent.parent  # <results_dir>/reproduction/claims.parquet
    table = build_table(results_dir, Settings.from_config(snakemake.params.config))
    write_claims(table, snakemake.output.table, snakemake.output.tsv)

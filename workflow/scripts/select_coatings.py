"""Snakemake adapter: select the coatings from the entry table."""

from constrict.screen import log_to

if __name__ == "__main__":
    log_to(snakemake.log[0])
    import pandas as pd

    from constrict.screen import campaign_coatings, write_table

    entries = pd.read_parquet(snakemake.input.entries)
    coatings = campaign_coatings(entries, snakemake.params.selection, snakemake.params.random_state)
    write_table(coatings, snakemake.output[0])

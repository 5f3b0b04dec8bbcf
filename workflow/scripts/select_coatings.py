"""Snakemake adapter: select the coatings from the entry table."""

from constrict.screen import log_to

if __name__ == "__main__":
    log_to(snakemake.log[0])
    import pandas as pd

    from constrict.coatings import select_coatings
    from constrict.screen import write_table

    entries = pd.read_parquet(snakemake.input.entries)
    coatings = select_coatings(entries, **snakemake.params.selection, random_state=snakemake.params.random_state)
    write_table(coatings, snakemake.output[0])

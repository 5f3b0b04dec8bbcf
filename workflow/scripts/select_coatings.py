"""Snakemake adapter: select the coatings from the entry table."""

from constrict.campaign.workflow import log_to

if __name__ == "__main__":
    log_to(snakemake.log[0])
    import pandas as pd

    from constrict.data.coatings import campaign_coatings
    from constrict.data.tables import write_table

    entries = pd.read_parquet(snakemake.input.entries)
    coatings = campaign_coatings(entries, snakemake.params.selection, snakemake.params.random_state)
    write_table(coatings, snakemake.output[0])

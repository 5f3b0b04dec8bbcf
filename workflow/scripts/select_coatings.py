"""Snakemake adapter: select the coatings from the entry table."""

from constrict.screen import log_to

if __name__ == "__main__":
    log_to(snakemake.log[0])
    import logging

    import pandas as pd

    from constrict.coatings import select_coatings
    from constrict.screen import limit_coatings, write_table

    selection = dict(snakemake.params.selection)
    limits = {key: selection.pop(key) for key in ("allowed_elements", "max_coatings")}
    entries = pd.read_parquet(snakemake.input.entries)
    coatings = select_coatings(entries, **selection)
    logging.info("selected %d coatings of %d entries with %s", len(coatings), len(entries), selection)
    coatings = limit_coatings(coatings, **limits, random_state=snakemake.params.random_state)
    logging.info("kept %d coatings with %s (random_state %d)", len(coatings), limits, snakemake.params.random_state)
    write_table(coatings, snakemake.output[0])

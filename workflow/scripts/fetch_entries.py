"""Snakemake adapter: fetch entries with mp-api (cached, one energy scale) into one labelled table."""

from constrict.campaign.workflow import log_to

if __name__ == "__main__":
    log_to(snakemake.log[0])
    from constrict.data.sources import load_entries
    from constrict.data.sources.schema import write_entries

    entries = load_entries("mp_api", chemical_systems=snakemake.params.chemical_systems,
                           cache_dir=snakemake.params.cache_dir)
    write_entries(entries, snakemake.output[0], metadata=entries.attrs.get("parquet_metadata"))

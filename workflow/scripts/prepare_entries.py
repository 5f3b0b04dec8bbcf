"""Snakemake adapter: the campaign's entry table (source plus custom entries)."""

from constrict.screen import log_to

if __name__ == "__main__":
    log_to(snakemake.log[0])
    from constrict.sources import load_entries
    from constrict.sources.schema import write_entries

    custom = snakemake.input.get("custom")
    entries = load_entries(snakemake.params.source, path=snakemake.input.table, custom=custom)
    write_entries(entries, snakemake.output[0])

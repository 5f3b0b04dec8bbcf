"""Snakemake adapter: the campaign's entry table (source plus custom entries)."""

from constrict.campaign.workflow import log_to

if __name__ == "__main__":
    log_to(snakemake.log[0])
    import logging

    from constrict.data.sources import load_entries
    from constrict.data.sources.schema import read_entries, write_entries

    source, custom = snakemake.params.source, snakemake.input.get("custom")
    systems = snakemake.params.chemical_systems
    if source == "mp_api":  # the fetched cache; fetch_entries already kept only `systems`
        entries = read_entries(snakemake.input.table)
        if custom:
            from constrict.data.sources.custom import merge_custom_entries

            entries = merge_custom_entries(entries, custom)
    else:
        entries = load_entries(source, path=snakemake.input.table, custom=custom, chemical_systems=systems)
    logging.info("%d entries from %s%s", len(entries), source, f" plus {custom}" if custom else "")
    write_entries(entries, snakemake.output[0])

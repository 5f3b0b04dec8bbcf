"""Snakemake adapter: the electrolytes' windows, unconstrained and at each Keff."""

from constrict.campaign.workflow import log_to

if __name__ == "__main__":
    log_to(snakemake.log[0])
    import pandas as pd

    from constrict.campaign.plots import electrolyte_windows_figure
    from constrict.data.entries import EntrySet
    from constrict.physics.windows import electrolyte_windows

    entry_set = EntrySet.from_frame(pd.read_parquet(snakemake.input.entries))
    windows = electrolyte_windows(entry_set, snakemake.params.electrolytes, snakemake.params.keff_gpa,
                                  convention=snakemake.params.convention)
    windows.to_csv(snakemake.output.table, sep="\t", index=False, float_format="%.4f")
    electrolyte_windows_figure(windows, snakemake.output.figure)

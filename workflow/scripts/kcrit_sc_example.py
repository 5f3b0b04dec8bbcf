"""Snakemake adapter: one interface's Kcrit and Kcrit_sc worked through."""

from constrict.campaign.workflow import log_to

if __name__ == "__main__":
    log_to(snakemake.log[0])
    import pandas as pd

    from constrict.campaign.plots import kcrit_sc_figure
    from constrict.data.entries import EntrySet
    from constrict.physics.sc_example import kcrit_sc_example

    example = snakemake.params.example
    entry_set = EntrySet.from_frame(pd.read_parquet(snakemake.input.entries))
    worked = kcrit_sc_example(entry_set, example["electrolyte"], example["coating"], voltage_v=example["voltage_v"],
                              working_ion=example["working_ion"], convention=snakemake.params.convention)
    pd.DataFrame({"quantity": list(worked.summary), "value": list(worked.summary.values())}).to_csv(
        snakemake.output.summary, sep="\t", index=False)
    worked.steps.to_csv(snakemake.output.steps, sep="\t", index=False, float_format="%.6g")
    worked.envelope.to_csv(snakemake.output.envelope, sep="\t", index=False, float_format="%.6g")
    kcrit_sc_figure(worked.summary, worked.envelope, snakemake.output.figure)

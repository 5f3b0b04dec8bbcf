"""Snakemake adapter: every model on every split at one voltage; the default model saved."""

from constrict.campaign.workflow import log_to

if __name__ == "__main__":
    log_to(snakemake.log[0])
    from constrict.surrogate.evaluation import SurrogateOptions
    from constrict.surrogate.pipeline import train_voltage

    options = SurrogateOptions.from_config(
        snakemake.params.surrogate, random_state=snakemake.params.random_state, n_jobs=snakemake.threads
    )
    train_voltage(
        snakemake.input.table,
        float(snakemake.wildcards.voltage),
        options,
        model_path=snakemake.output.model,
        metrics_path=snakemake.output.metrics,
        predictions_path=snakemake.output.predictions,
    )

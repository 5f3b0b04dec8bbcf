# constrict: screen solid-electrolyte / coating interfaces in the constrained
# ensemble. Rules live in workflow/rules/, the science in src/constrict/.
#
#   snakemake --profile profiles/local --configfile config/config.yaml --cores 2
#
# docs/campaign.md describes the rules, the config keys and the outputs.

from snakemake.utils import min_version

min_version("9.0")

# No `configfile:` here: pass --configfile; every key left out takes its
# default from workflow/schemas/config.schema.yaml (config/config.yaml spells
# the defaults out).


include: "workflow/rules/common.smk"


report: "workflow/report/workflow.rst"


wildcard_constraints:
    shard=r"\d+",
    offline=r"mp_offline|oqmd_offline",


# Run on the submitting host under a cluster executor: fetch_entries needs
# the internet (compute nodes often have none); the others take seconds,
# less than a batch job's scheduling overhead.
localrules:
    fetch_entries,
    select_coatings,
    plan_shards,
    cathode_plan,


include: "workflow/rules/data.smk"
include: "workflow/rules/screen.smk"
include: "workflow/rules/summary.smk"
include: "workflow/rules/surrogate.smk"
include: "workflow/rules/cathode.smk"
include: "workflow/rules/design.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/reproduction.smk"
include: "workflow/rules/uncertainty.smk"


rule all:
    default_target: True
    input:
        final_targets(),

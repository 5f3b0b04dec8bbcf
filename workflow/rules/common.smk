# Config validation, paths and the targets of `rule all`.

import functools
import os
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from constrict.core.config import validate_config
from constrict.core.errors import ConfigError

# Types, bounds and defaults: workflow/schemas/config.schema.yaml. First our
# own pass (one-line errors naming the key, plus checks the schema cannot
# express), then Snakemake's validation of the same schema.
try:
    config.update(validate_config(config))
except ConfigError as error:
    raise WorkflowError(f"invalid config: {error}") from None
validate(config, "../schemas/config.schema.yaml")

REPO = Path(workflow.basedir)
RESULTS = config["results_dir"].rstrip("/")
LOGS = f"{RESULTS}/logs"
BENCHMARKS = f"{RESULTS}/benchmarks"
SOURCE = config["source"]
CONDA_ENV = "../../envs/constrict.yaml"


def repo_path(path):
    """A repository path (data/, cache/), relative when below the working directory."""
    path = Path(path)
    if not path.is_absolute():
        path = REPO / path
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def source_table():
    """The entry table of the configured source, before custom entries."""
    if SOURCE["path"]:
        return repo_path(SOURCE["path"])
    if SOURCE["name"] == "mp_api":
        return repo_path("cache/mp_api_entries.parquet")
    return repo_path(f"data/{SOURCE['name']}.parquet")


def entries_inputs(wildcards):
    """Inputs of prepare_entries: the source table and the custom entries file."""
    inputs = {"table": source_table()}
    if SOURCE["custom_entries"]:
        inputs["custom"] = repo_path(SOURCE["custom_entries"])
    return inputs


@functools.cache
def source_entries():
    """The source's entry table with the custom entries, loaded once per Snakemake process."""
    from constrict.data.sources import load_entries

    custom = repo_path(SOURCE["custom_entries"]) if SOURCE["custom_entries"] else None
    return load_entries(
        SOURCE["name"],
        path=source_table(),
        custom=custom,
        chemical_systems=SOURCE["chemical_systems"],
    )


def countable_entries(key):
    """source_entries() to count interfaces with; a one-line error naming ``key`` if the table is missing."""
    table = source_table()
    if not Path(table).is_file():
        raise WorkflowError(
            f"invalid config: config.{key}: {table} does not exist yet, so the interfaces cannot be "
            f"counted; build it first (make snapshot) or set {key}"
        )
    return source_entries()


@functools.cache
def n_shards():
    """Number of shard jobs, known when the DAG is built.

    config n_shards if set; otherwise (offline sources, whose table is in
    the repository) ceil(interfaces / shard_size), the interfaces counted
    from the same table, selection and electrolytes that the rules use
    (constrict.campaign.plan.count_interfaces). mp_api requires n_shards (checked
    with the config).
    """
    if config["n_shards"] is not None:
        return config["n_shards"]
    from constrict.campaign.plan import count_interfaces, n_shards_for

    def count():
        return count_interfaces(
            countable_entries("n_shards"),
            electrolytes=config["electrolytes"],
            selection=config["selection"],
            random_state=config["random_state"],
        )

    parts = {k: config[k] for k in ("electrolytes", "selection", "random_state")}
    return n_shards_for(cached_pairs("screen", parts, count), config["shard_size"])


COUNTING_CODE = (
    "constrict",
    "constrict.campaign.plan",
    "constrict.data.coatings",
    "constrict.data.sources",
    "constrict.data.sources.schema",
    "constrict.cathode.campaign",
    "constrict.cathode.cathodes",
)
"""Modules whose source enters the key of a cached count."""


def cached_pairs(kind, parts, count):
    """count() cached under the SHA-256 of the table, custom entries, ``parts`` and the counting code.

    A dry run then reads one small file instead of loading the entry table
    and solving LPs (constrict.campaign.shard_counts).
    """
    from constrict.campaign.shard_counts import cached_count, count_key

    table = source_table()
    if not Path(table).is_file():
        return count()  # countable_entries gives the one-line error
    custom = repo_path(SOURCE["custom_entries"]) if SOURCE["custom_entries"] else None
    parts = {**parts, "source": SOURCE}
    return cached_count(count_key(kind, [table, custom], parts, COUNTING_CODE), count)


def shard_results(wildcards):
    """Every shard output: shard_id(i, n_shards()) for i in range(n_shards())."""
    from constrict.campaign.plan import all_shard_ids

    return expand(
        f"{RESULTS}/screen/shards/{{shard}}.parquet", shard=all_shard_ids(n_shards())
    )


# The cathode stage (workflow/rules/cathode.smk, docs/cathode.md).
if config["cathode"]["enabled"]:
    from constrict.cathode.campaign import check_stack_config

    try:
        check_stack_config(config)
    except ConfigError as error:
        raise WorkflowError(f"invalid config: {error}") from None

CATHODE = f"{RESULTS}/cathode"


@functools.cache
def cathode_n_shards():
    """Shard jobs of the stack plan: cathode.n_shards, or ceil(interfaces / cathode.shard_size).

    The interfaces are counted as the plan makes them
    (constrict.cathode.campaign.count_stack_pairs). mp_api (no entries when
    the DAG is built): cathode.n_shards, else the screen's n_shards.
    """
    if config["cathode"]["n_shards"] is not None:
        return config["cathode"]["n_shards"]
    if SOURCE["name"] == "mp_api":
        return n_shards()
    from constrict.campaign.plan import n_shards_for
    from constrict.cathode.campaign import count_stack_pairs

    pairs = cached_pairs(
        "cathode",
        dict(config),
        lambda: count_stack_pairs(countable_entries("cathode.n_shards"), config),
    )
    return n_shards_for(pairs, config["cathode"]["shard_size"])


def cathode_shard_results(wildcards):
    """Every stack shard output, empty shards included."""
    from constrict.campaign.plan import all_shard_ids

    return expand(
        f"{CATHODE}/shards/{{shard}}.parquet",
        shard=all_shard_ids(cathode_n_shards()),
    )


def cathode_voltages_v():
    """Every stack interface is evaluated at these voltages (V): the cathodes' top-of-charge ones."""
    from constrict.cathode.cathodes import cathodes_from_config, stack_voltages_v

    return stack_voltages_v(cathodes_from_config(config["cathodes"]))


def cathode_targets():
    """The stack stage's outputs in the default run."""
    return [
        f"{CATHODE}/ranking.parquet",
        f"{CATHODE}/ranking.tsv",
        f"{CATHODE}/known_coatings.tsv",
        f"{CATHODE}/kcrit_interfaces.png",
        f"{CATHODE}/keff_required.png",
    ]


REPORT = f"{RESULTS}/report"


def report_targets():
    """The report stage's tables and figures (workflow/rules/report.smk)."""
    return [
        f"{REPORT}/data_counts.tsv",
        f"{REPORT}/windows.tsv",
        f"{REPORT}/windows.png",
        f"{REPORT}/kcrit_sc_example.png",
    ]


# The surrogate stage (workflow/rules/surrogate.smk, docs/surrogate.md).
SURROGATE = f"{RESULTS}/surrogate"


def surrogate_voltages():
    """Voltage labels of the surrogate's files, e.g. ["2", "3", "3.5"] (V)."""
    return [f"{float(v):g}" for v in config["voltages_v"]]


def surrogate_targets():
    """The surrogate stage's outputs in the default run."""
    return [
        f"{SURROGATE}/metrics.tsv",
        *expand(f"{SURROGATE}/parity_{{voltage}}V.png", voltage=surrogate_voltages()),
    ]


# The design stage (workflow/rules/design.smk, docs/design.md).
if config["design"]["enabled"]:
    from constrict.design.config import check_design_config

    try:
        check_design_config(config)
    except ConfigError as error:
        raise WorkflowError(f"invalid config: {error}") from None

DESIGN = f"{RESULTS}/design"


def design_model(voltage_v):
    """The surrogate file of one voltage (workflow/rules/surrogate.smk)."""
    return f"{RESULTS}/surrogate/models/kcrit_{float(voltage_v):g}V.skops"


def fig5_inputs(wildcards):
    """Inputs of design_fig5: entries, the SHAP children, the surrogates of the Fig. 5 / S4 voltages screened."""
    design = config["design"]
    wanted = {float(design["voltage_v"]), *map(float, design["extra_voltages_v"])}
    screened = {float(v) for v in config["voltages_v"]}
    models = {f"model_{v:g}V": design_model(v) for v in sorted(wanted & screened)}
    return {
        "entries": f"{RESULTS}/entries.parquet",
        "shap": f"{DESIGN}/shap_children.parquet",
        **models,
    }


def design_targets():
    """The design stage's outputs in the default run."""
    from constrict.design.stage import FIGURES

    tables = [f"{DESIGN}/design_table.tsv", f"{DESIGN}/fig5.tsv"]
    return tables + [f"{DESIGN}/{name}" for name, _ in FIGURES.values()]


# The reproduction study (workflow/rules/reproduction.smk, docs/reproduction.md).
if config["reproduction"]["enabled"]:
    from constrict.reproduction import check_reproduction_config

    try:
        check_reproduction_config(config)
    except ConfigError as error:
        raise WorkflowError(f"invalid config: {error}") from None

REPRODUCTION = f"{RESULTS}/reproduction"

# Every reproduction table, its Parquet and TSV (constrict.reproduction.stage.TABLES).
REPRODUCTION_TABLES = (
    "stats",
    "signs",
    "windows",
    "strains",
    "samples",
    "surrogate",
    "design",
)


def reproduction_inputs(wildcards):
    """Inputs of the reproduction study: the screen, entries, coatings, the other source and, if run, the design."""
    other = config["reproduction"]["sample"]["other_source"]
    inputs = {
        "screen": f"{RESULTS}/screen/screen.parquet",
        "entries": f"{RESULTS}/entries.parquet",
        "coatings": f"{RESULTS}/coatings.parquet",
        "other_source": repo_path(f"data/{other}.parquet"),
    }
    if config["surrogate"]["enabled"]:
        inputs["training_table"] = f"{SURROGATE}/training_table.parquet"
    if config["design"]["enabled"]:
        inputs["design_table"] = f"{DESIGN}/design_table.parquet"
        inputs["fig5"] = f"{DESIGN}/fig5.parquet"
    return inputs


def reproduction_table_inputs(wildcards):
    """Inputs of the table: the study's tables and the outputs of every stage that runs."""
    inputs = {name: f"{REPRODUCTION}/{name}.parquet" for name in REPRODUCTION_TABLES}
    if config["summary"]["enabled"]:
        inputs["summary"] = f"{RESULTS}/summary"
    if config["surrogate"]["enabled"]:
        inputs["metrics"] = f"{SURROGATE}/metrics.tsv"
    if config["design"]["enabled"]:
        inputs["design_table"] = f"{DESIGN}/design_table.parquet"
        inputs["fig5"] = f"{DESIGN}/fig5.parquet"
    if config["report"]["enabled"]:
        inputs["windows"] = f"{REPORT}/windows.tsv"
    return inputs


def final_targets():
    """Targets of the default run: the gathered screen and, if enabled, its summary and the cathode stage."""
    targets = [f"{RESULTS}/screen/screen.parquet", f"{RESULTS}/screen/skipped.tsv"]
    targets.extend(  # workflow/rules/data.smk
        expand(
            f"{RESULTS}/data/quality_{{table}}.tsv",
            table=["counts", "changes", "energies"],
        )
    )
    if config["summary"]["enabled"]:
        targets.append(f"{RESULTS}/summary")
    if config["surrogate"]["enabled"]:
        targets.extend(surrogate_targets())  # workflow/rules/surrogate.smk
    if config["cathode"]["enabled"]:
        targets.extend(cathode_targets())  # workflow/rules/cathode.smk
    if config["design"]["enabled"]:
        targets.extend(design_targets())  # workflow/rules/design.smk
    if config["report"]["enabled"]:
        targets.extend(report_targets())
    if config["reproduction"]["enabled"]:
        targets.append(f"{REPRODUCTION}/claims.tsv")  # workflow/rules/reproduction.smk
    if config["monte_carlo"]["enabled"]:
        targets.append(
            f"{RESULTS}/uncertainty/mc_coverage.tsv"
        )  # workflow/rules/uncertainty.smk
    return targets

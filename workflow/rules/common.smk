# Config validation, paths and the targets of `rule all`.

import functools
import os
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from constrict.config import validate_config
from constrict.errors import ConfigError

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
def n_shards():
    """Number of shard jobs, known when the DAG is built.

    config n_shards if set; otherwise (offline sources, whose table is in
    the repository) ceil(interfaces / shard_size), the interfaces counted
    from the same table, selection and electrolytes that the rules use
    (constrict.plan.count_interfaces). mp_api requires n_shards (checked
    with the config).
    """
    if config["n_shards"] is not None:
        return config["n_shards"]
    from constrict.plan import count_interfaces, n_shards_for
    from constrict.sources import load_entries

    table = source_table()
    if not Path(table).is_file():
        raise WorkflowError(
            f"invalid config: config.n_shards: {table} does not exist yet, so the interfaces cannot be "
            "counted; build it first (make snapshot) or set n_shards"
        )
    custom = repo_path(SOURCE["custom_entries"]) if SOURCE["custom_entries"] else None
    entries = load_entries(
        SOURCE["name"],
        path=table,
        custom=custom,
        chemical_systems=SOURCE["chemical_systems"],
    )
    pairs = count_interfaces(
        entries,
        electrolytes=config["electrolytes"],
        selection=config["selection"],
        random_state=config["random_state"],
    )
    return n_shards_for(pairs, config["shard_size"])


def shard_results(wildcards):
    """Every shard output: shard_id(i, n_shards()) for i in range(n_shards())."""
    from constrict.plan import all_shard_ids

    return expand(
        f"{RESULTS}/screen/shards/{{shard}}.parquet", shard=all_shard_ids(n_shards())
    )


def final_targets():
    """Targets of the default run, the gathered screen and (if enabled) its summary."""
    targets = [f"{RESULTS}/screen/screen.parquet", f"{RESULTS}/screen/skipped.tsv"]
    if config["summary"]["enabled"]:
        targets.append(f"{RESULTS}/summary")
    return targets

# Config validation, paths and the targets of `rule all`.

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


def shard_results(wildcards):
    """Every shard output of the plan (known once the plan_shards checkpoint ran)."""
    from constrict.screen import shard_ids

    plan = checkpoints.plan_shards.get().output.plan
    return expand(f"{RESULTS}/screen/shards/{{shard}}.parquet", shard=shard_ids(plan))


def final_targets():
    """Targets of the default run, the gathered screen and (if enabled) its summary."""
    targets = [f"{RESULTS}/screen/screen.parquet", f"{RESULTS}/screen/skipped.tsv"]
    if config["summary"]["enabled"]:
        targets.append(f"{RESULTS}/summary")
    return targets


"""docs/reference.md and the two schemas it is generated from (constrict.campaign.reference).

(a) the committed docs/reference.md is what the generator writes now, so the
    docs never drift from the schemas;
(b) every config key (list items' keys included) has a description, and
    every key the shipped configs use is documented;
(c) every table whose columns a code constant fixes (``defined_by`` in
    outputs.schema.yaml: ENTRY_COLUMNS, PLAN_SCHEMA, RESULT_SCHEMA,
    REACTANT_SCHEMA, ALONE_SCHEMA, RANKING_SCHEMA, KNOWN_COLUMNS, the
    surrogate's, the report's and Snakemake's benchmark header) documents
    exactly those columns, in order, with their types;
(d) the tables whose columns a writer builds are written here by the real
    writers on small real data - a tiny campaign on part of the offline MP
    snapshot (entries, coatings, plan, shard, screen, summary, report
    tables, cathode plan), the surrogate stage on the real screen sample
    of tests/fixtures/surrogate/, the design stage on the paper's first
    glass - and every file written is checked against its documented table;
    the workflow scripts that build their own tables (windows.py,
    kcrit_sc_example.py) run through runpy with a stand-in ``snakemake``;
(e) the checks fail: a column added to a constant, or written by a writer,
    without documentation is reported.

Every documented table is covered by (c) or (d)
(test_every_table_is_checked), and the Snakemake DAG of the default config
writes no .parquet/.tsv that is not documented, under the rule documented.
Not run here: the cathode shards, interfaces, coatings_alone, ranking and
known_coatings writers (their columns are the constants they pass to the
Parquet writer, so (c) checks them), and Snakemake's benchmark files
(checked against ``BenchmarkRecord.get_header``).
"""

import copy
import runpy
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from constrict.campaign import reference
from constrict.campaign.reference import (
    code_problems,
    column_problems,
    config_keys,
    load_outputs,
    output_tables,
    read_yaml,
    render,
    table_for,
    undocumented_keys,
    written_columns,
    written_types,
)
from constrict.core.config import validate_config

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "tests" / "fixtures" / "surrogate" / "screen_sample.parquet"
ENTRY_SYSTEMS = ["Ge-Li-Nb-O-P-S", "Al-Li-O", "Co-Li-O", "Fe-Li-O-P"]
"""The tiny campaign's entries: every electrolyte but LSPS and Na3PS4 (skipped), LiNbO3, both cathodes."""
DESIGN_SYSTEM = ["Br-Cl-F-Ge-I-Li-O-P-S-Si"]
"""The design stage's entries: the paper's glass, the entering elements, LSPS and LGPS."""


class Named(list):
    """What Snakemake hands a script as input, output and params: a list whose items also have names."""

    def __init__(self, *values, **items):
        super().__init__([*values, *items.values()])
        self._items = items

    def __getattr__(self, name):
        try:
            return self._items[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, key):
        return self._items[key] if isinstance(key, str) else super().__getitem__(key)

    def keys(self):
        return self._items.keys()

    def items(self):
        return self._items.items()

    def get(self, key, default=None):
        return self._items.get(key, default)


def run_script(name, *, input, output, params, log):
    """Run workflow/scripts/<name>.py in this process as Snakemake would, with a stand-in ``snakemake``."""
    for path in output.values():
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    job = Named(input=Named(**input), output=Named(**output), params=Named(**params), log=Named(str(log)))
    runpy.run_path(str(REPO / "workflow" / "scripts" / f"{name}.py"), init_globals={"snakemake": job},
                   run_name="__main__")


def _no_figure(*args, **kwargs):
    return None


@pytest.fixture(scope="module")
def quiet_writers():
    """No figures (they have no columns), no log redirection of the scripts."""
    with pytest.MonkeyPatch.context() as mp:
        import constrict.campaign.plots
        import constrict.campaign.workflow

        for name in ("kcrit_histograms", "periodic_table_heatmap", "electrolyte_windows_figure", "kcrit_sc_figure"):
            mp.setattr(constrict.campaign.plots, name, _no_figure)
        mp.setattr(constrict.campaign.workflow, "log_to", _no_figure)
        yield


@pytest.fixture(scope="module")
def campaign(tmp_path_factory, quiet_writers):
    """A tiny real campaign: each writer of the campaign, the summary, the report tables and the cathode plan."""
    from constrict.campaign.plan import write_plan
    from constrict.campaign.provenance import write_provenance
    from constrict.campaign.screen import gather, screen_shard
    from constrict.campaign.summary_stage import summarise
    from constrict.cathode.campaign import write_stack_plan
    from constrict.data.coatings import campaign_coatings
    from constrict.data.sources import load_entries
    from constrict.data.sources.schema import write_entries
    from constrict.data.tables import write_table

    out = tmp_path_factory.mktemp("campaign")
    config = validate_config({"selection": {"max_coatings": 4}, "voltages_v": [3, 4]})
    entries = out / "entries.parquet"
    write_entries(load_entries("mp_offline", chemical_systems=ENTRY_SYSTEMS), entries)
    coatings = out / "coatings.parquet"
    write_table(campaign_coatings(pd.read_parquet(entries), config["selection"], config["random_state"]), coatings)
    screen = out / "screen"
    write_plan(entries, coatings, config["electrolytes"], plan_path=screen / "plan.parquet",
               skipped_path=screen / "skipped.tsv", n_shards=1, partition_size=config["partition_size"])
    shard = screen / "shards" / "0000.parquet"
    screen_shard(screen / "plan.parquet", "0000", entries, shard, voltages_v=config["voltages_v"],
                 convention=config["convention"])
    gather([shard], screen / "screen.parquet")
    summarise(screen / "screen.parquet", out / "summary")
    report = out / "report"
    write_provenance(entries, coatings, screen / "skipped.tsv", config, report)
    run_script("windows", input={"entries": entries}, log=out / "windows.log",
               output={"table": report / "windows.tsv", "figure": report / "windows.png"},
               params={"electrolytes": config["electrolytes"], "keff_gpa": [15],
                       "convention": config["convention"]})
    run_script("kcrit_sc_example", input={"entries": entries}, log=out / "kcrit_sc_example.log",
               output={"summary": report / "kcrit_sc_example.tsv", "steps": report / "kcrit_sc_steps.tsv",
                       "envelope": report / "kcrit_sc_envelope.tsv", "figure": report / "kcrit_sc_example.png"},
               params={"example": config["report"]["kcrit_sc_example"], "convention": config["convention"]})
    quality = {name: out / "data" / f"quality_{name}.tsv" for name in ("counts", "changes", "energies")}
    run_script("data_quality", input={"entries": entries, "screen": screen / "screen.parquet"},
               output=quality, params={}, log=out / "data_quality.log")
    cathode = out / "cathode"
    write_stack_plan(entries, coatings, stack_config=config["cathode"], cathodes_config=config["cathodes"],
                     electrolytes=config["electrolytes"], n_shards=1, partition_size=config["partition_size"],
                     plan_path=cathode / "plan.parquet", reactants_path=cathode / "reactants.parquet",
                     coatings_out=cathode / "coatings.parquet", skipped_path=cathode / "skipped.tsv")
    return out


@pytest.fixture(scope="module")
def stages(tmp_path_factory):
    """The surrogate stage on the real screen sample (4 V, 5 trees) and the design stage on the paper's glass."""
    from constrict.data.sources import load_entries
    from constrict.data.sources.schema import write_entries
    from constrict.design.stage import config_of, run_fig5, run_physics, run_shap, run_table
    from constrict.surrogate.evaluation import SurrogateOptions
    from constrict.surrogate.pipeline import collect_metrics, prepare, study, train_voltage

    out = tmp_path_factory.mktemp("stages")
    surrogate = out / "surrogate"
    prepare(SAMPLE, surrogate / "training_table.parquet", surrogate / "exclusions.tsv")
    options = SurrogateOptions(n_estimators=5, compare_models=("hist_gradient_boosting",), background_size=20)
    model = surrogate / "models" / "kcrit_4V.skops"
    metrics = surrogate / "evaluation" / "metrics_4V.tsv"
    train_voltage(surrogate / "training_table.parquet", 4.0, options, model_path=model, metrics_path=metrics,
                  predictions_path=surrogate / "evaluation" / "predictions_4V.parquet")
    collect_metrics([metrics], surrogate / "metrics.tsv")
    study(surrogate / "training_table.parquet", 4.0, options, surrogate / "tree_size_4V.tsv")

    entries = out / "entries.parquet"
    write_entries(load_entries("mp_offline", chemical_systems=DESIGN_SYSTEM), entries)
    design = validate_config({"design": {
        "parents": [{"name": "LPSI-paper", "formula": "Li0.364P0.110S0.388I0.138", "source": "Fitzhugh et al."}],
        "levels": [0.05], "fig5_levels": [0, 0.025], "extra_voltages_v": [3], "grid_max_points": 2000,
        "physics": {"parents": 1, "starts": 1, "max_evaluations": 30}}})["design"]
    config = config_of(design, "ion_metal", 0)
    d = out / "design"
    run_shap(model, config, children=d / "shap_children.parquet", steps=d / "shap_steps.parquet",
             shap=d / "shap_values.parquet")
    run_physics(entries, d / "shap_children.parquet", config, children=d / "physics_children.parquet",
                trace=d / "physics_trace.parquet")
    run_table(entries, model, surrogate / "training_table.parquet", d / "shap_children.parquet",
              d / "physics_children.parquet", config, table=d / "design_table.parquet", tsv=d / "design_table.tsv",
              verification=d / "verification.parquet")
    run_fig5(entries, {4.0: model}, d / "shap_children.parquet", config, table=d / "fig5.parquet", tsv=d / "fig5.tsv")
    return out


@pytest.fixture(scope="module")
def written(campaign, stages):
    """Every table file the writers wrote: documented path -> list of files."""
    tables = output_tables()
    found: dict[str, list[Path]] = {}
    for root in (campaign, stages):
        for path in sorted(root.rglob("*")):
            if path.suffix not in (".parquet", ".tsv"):
                continue
            table = table_for(path.relative_to(root).as_posix(), tables)
            assert table is not None, f"{path.relative_to(root)} is written but no table of outputs.schema.yaml"
            found.setdefault(table.path, []).append(path)
    return found


# -- (a) the reference is generated ------------------------------------------------------------------------


def test_reference_md_is_what_the_schemas_give():
    committed = (REPO / reference.REFERENCE).read_text(encoding="utf-8")
    assert committed == render(), "docs/reference.md is out of date: run `make reference` and commit it"


def test_reference_changes_when_a_key_is_added():
    schema = read_yaml(reference.CONFIG_SCHEMA)
    schema = copy.deepcopy(schema)
    schema["properties"]["selection"]["properties"]["max_density_g_cm3"] = {
        "type": "number", "default": 10, "description": "Densest coating kept."}
    text = render(schema)
    assert "`selection.max_density_g_cm3`" in text
    assert text != (REPO / reference.REFERENCE).read_text(encoding="utf-8")


def test_check_mode(tmp_path, capsys):
    target = tmp_path / "reference.md"
    assert reference.main(["--output", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == render()
    assert reference.main(["--check", "--output", str(target)]) == 0
    target.write_text("stale\n", encoding="utf-8")
    assert reference.main(["--check", "--output", str(target)]) == 1
    assert "out of date" in capsys.readouterr().err


def test_reference_is_linked():
    assert "reference.md" in (REPO / "README.md").read_text(encoding="utf-8")
    assert "reference.md" in (REPO / "docs" / "campaign.md").read_text(encoding="utf-8")


# -- (b) config keys --------------------------------------------------------------------------------------


def test_every_config_key_has_a_description():
    schema = read_yaml(reference.CONFIG_SCHEMA)
    assert undocumented_keys(schema) == []
    paths = [key.path for key in config_keys(schema)]
    assert len(paths) == len(set(paths))
    assert {"results_dir", "electrolytes[].formula", "design.parents[].mixture", "design.physics.max_evaluations",
            "cathodes[].voltage_source", "report.kcrit_sc_example.coating"} <= set(paths)


def test_a_key_without_description_is_reported():
    schema = copy.deepcopy(read_yaml(reference.CONFIG_SCHEMA))
    del schema["properties"]["electrolytes"]["items"]["properties"]["formula"]["description"]
    del schema["properties"]["design"]["properties"]["physics"]["properties"]["starts"]["description"]
    assert undocumented_keys(schema) == ["electrolytes[].formula", "design.physics.starts"]


def _config_paths(value, documented, prefix=""):
    """Dotted paths of a config file's keys, down to the keys the schema documents as leaves."""
    paths = []
    for key, item in value.items():
        path = f"{prefix}{key}"
        paths.append(path)
        if isinstance(item, dict) and any(p.startswith(f"{path}.") for p in documented):
            paths += _config_paths(item, documented, f"{path}.")
        if isinstance(item, list) and any(p.startswith(f"{path}[].") for p in documented):
            for element in item:
                paths += _config_paths(element, documented, f"{path}[].")
    return paths


@pytest.mark.parametrize("name", ["config.yaml", "quick.yaml", "paper.yaml"])
def test_every_key_of_the_shipped_configs_is_documented(name):
    documented = {key.path for key in config_keys(read_yaml(reference.CONFIG_SCHEMA))}
    import yaml

    used = _config_paths(yaml.safe_load((REPO / "config" / name).read_text(encoding="utf-8")), documented)
    assert used and set(used) <= documented, sorted(set(used) - documented)


def test_units_come_from_the_key_names():
    keys = {key.path: key for key in config_keys(read_yaml(reference.CONFIG_SCHEMA))}
    assert keys["voltages_v"].unit == "V" and keys["cathode.keff_gpa"].unit == "GPa"
    assert keys["selection.min_band_gap_ev"].unit == "eV"
    assert keys["selection.max_e_above_hull_ev"].unit == "eV/atom"
    assert keys["mem_mb"].unit == "MB" and keys["runtime_min"].unit == "minutes"
    assert keys["design.grid_step"].unit == "atom fraction" and keys["random_state"].unit == ""


# -- (c) columns fixed in code ----------------------------------------------------------------------------


def test_documented_columns_equal_the_code_constants():
    assert code_problems() == []


@pytest.mark.parametrize("path", [p for p, t in output_tables().items() if t.defined_by])
def test_each_code_table(path):
    table = output_tables()[path]
    names, types = reference.code_columns(table.defined_by)
    assert table.names == names
    assert column_problems(table, names, types=types, ordered=True) == []


# -- (d) columns built by the writers ---------------------------------------------------------------------


def test_every_table_is_checked(written):
    unchecked = [p for p, t in output_tables().items() if not t.defined_by and p not in written]
    assert unchecked == []


def test_written_tables_equal_the_documented_ones(written):
    tables = output_tables()
    problems = [problem for path, files in written.items() for file in files
                for problem in column_problems(tables[path], written_columns(file), types=written_types(file))]
    assert problems == []


def test_kcrit_sc_example_rows(written):
    table = output_tables()["report/kcrit_sc_example.tsv"]
    (path,) = written[table.path]
    quantities = pd.read_csv(path, sep="\t")["quantity"].tolist()
    assert column_problems(table, quantities, rows=True, ordered=True) == []


def test_families_of_columns_were_seen(written):
    """The <element> and energy_keff_<K> families really matched columns (and nothing else)."""
    training = written_columns(written["surrogate/training_table.parquet"][0])
    assert {"Li", "P", "S"} <= set(training)
    fig5 = written_columns(written["design/fig5.parquet"][0])
    assert "energy_keff_15_ev_per_atom" in fig5


# -- (e) the checks fail ----------------------------------------------------------------------------------


def test_a_column_added_to_a_schema_constant_is_reported(monkeypatch):
    import constrict.campaign.plan

    schema = constrict.campaign.plan.PLAN_SCHEMA.append(pa.field("note", pa.string()))
    monkeypatch.setattr(constrict.campaign.plan, "PLAN_SCHEMA", schema)
    assert code_problems() == [
        "screen/plan.parquet: column 'note' is written but not documented",
        "cathode/plan.parquet: column 'note' is written but not documented",
    ]


@pytest.mark.parametrize(("module", "name"), [
    ("constrict.data.sources.schema", "ENTRY_COLUMNS"),
    ("constrict.data.tables", "RESULT_SCHEMA"),
    ("constrict.cathode.ranking", "RANKING_SCHEMA"),
    ("constrict.cathode.ranking", "KNOWN_COLUMNS"),
    ("constrict.surrogate.evaluation", "METRIC_COLUMNS"),
    ("constrict.campaign.provenance", "COUNT_COLUMNS"),
    ("constrict.physics.windows", "WINDOW_COLUMNS"),
    ("constrict.physics.sc_example", "STEP_COLUMNS"),
])
def test_every_kind_of_constant_is_watched(monkeypatch, module, name):
    import importlib

    mod = importlib.import_module(module)
    constant = getattr(mod, name)
    if isinstance(constant, pa.Schema):
        grown = constant.append(pa.field("added_gpa", pa.float64()))
    elif isinstance(constant, dict):
        grown = {**constant, "added_gpa": "float"}
    else:
        grown = type(constant)([*constant, "added_gpa"])
    monkeypatch.setattr(mod, name, grown)
    problems = code_problems()
    assert problems and all("'added_gpa' is written but not documented" in p for p in problems)


def test_a_removed_retyped_or_moved_column_is_reported(monkeypatch):
    import constrict.data.tables

    schema = constrict.data.tables.RESULT_SCHEMA
    at = schema.get_field_index("x_m")
    monkeypatch.setattr(constrict.data.tables, "RESULT_SCHEMA", schema.set(at, pa.field("x_m", pa.string())))
    assert "screen/screen.parquet: column 'x_m' is string but documented as float64" in code_problems()
    monkeypatch.setattr(constrict.data.tables, "RESULT_SCHEMA", schema.remove(at))
    assert "screen/screen.parquet: documented column 'x_m' is not written" in code_problems()
    moved = pa.schema([schema.field(at), *(f for i, f in enumerate(schema) if i != at)])
    monkeypatch.setattr(constrict.data.tables, "RESULT_SCHEMA", moved)
    assert any(p.startswith("screen/screen.parquet: columns written in the order") for p in code_problems())


def test_a_column_a_writer_adds_is_reported(written, campaign, monkeypatch, tmp_path, quiet_writers):
    """The windows script writes the frame electrolyte_windows builds; a grown WINDOW_COLUMNS reaches the file."""
    import constrict.physics.windows

    columns = [*constrict.physics.windows.WINDOW_COLUMNS, "v_mid_v"]
    monkeypatch.setattr(constrict.physics.windows, "WINDOW_COLUMNS", columns)
    out = tmp_path / "report"
    run_script("windows", input={"entries": campaign / "entries.parquet"}, log=tmp_path / "windows.log",
               output={"table": out / "windows.tsv", "figure": out / "windows.png"},
               params={"electrolytes": [{"formula": "Li7P3S11", "working_ion": "Li"}], "keff_gpa": [15],
                       "convention": "ion_metal"})
    table = table_for("report/windows.tsv")
    assert column_problems(table, written_columns(out / "windows.tsv")) == [
        "report/windows.tsv: column 'v_mid_v' is written but not documented"]


def test_a_family_swallows_only_its_own_names(written):
    table = output_tables()["surrogate/training_table.parquet"]
    columns = written_columns(written[table.path][0])
    assert column_problems(table, [*columns, "n_coatings"]) == [
        "surrogate/training_table.parquet: column 'n_coatings' is written but not documented"]
    design = output_tables()["design/design_table.parquet"]
    columns = written_columns(written[design.path][0])
    assert column_problems(design, [c for c in columns if c != "source"]) == [
        "design/design_table.parquet: documented column 'source' is not written"]


def test_broken_schemas_are_refused():
    from constrict.core.errors import SchemaError

    document = copy.deepcopy(read_yaml(reference.OUTPUTS_SCHEMA))
    tables = document["sections"][0]["tables"]
    tables["entries.parquet"]["columns"]["formula"] = {"type": "string"}
    with pytest.raises(SchemaError, match="'formula' has no description"):
        load_outputs(document)
    tables["entries.parquet"]["columns"]["formula"] = "screen/nowhere.parquet"
    with pytest.raises(SchemaError, match="no table 'screen/nowhere.parquet'"):
        load_outputs(document)


# -- the workflow writes nothing undocumented -------------------------------------------------------------


def test_every_rule_output_is_documented(tmp_path):
    """``snakemake --summary`` of the default config: every .parquet/.tsv output is a documented table, same rule."""
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(tmp_path),
         "--configfile", str(REPO / "config" / "config.yaml"), "--cores", "1", "--nolock", "--summary"],
        capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    tables = output_tables()
    outputs = {}
    for line in proc.stdout.splitlines()[1:]:
        path, _, rule, *_ = line.split("\t")
        if path.startswith("results/"):
            outputs[path.removeprefix("results/")] = rule
    assert outputs, proc.stdout[:2000]
    for path, rule in outputs.items():
        if Path(path).suffix in (".parquet", ".tsv"):
            table = table_for(path, tables)
            assert table is not None, f"{path} (rule {rule}) is not in outputs.schema.yaml"
            assert table.rule == rule, f"{path}: written by {rule}, documented as {table.rule}"
    rules_text = "".join(p.read_text(encoding="utf-8") for p in (REPO / "workflow" / "rules").glob("*.smk"))
    for table in tables.values():
        if table.rule == "any":
            continue
        assert f"rule {table.rule}:" in rules_text, f"{table.path}: no rule {table.rule}"
        if table.default_run:
            covered = [p for p in outputs if reference.path_regex(table.path).fullmatch(p)
                       or table.path.startswith(f"{p}/")]
            assert covered, f"{table.path} is documented but the default run does not write it"

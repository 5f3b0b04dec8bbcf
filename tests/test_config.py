"""constrict.core.config: the schema's defaults, the shipped configs, clear errors."""

import pytest
import yaml

from constrict.core.config import electrolyte_label, load_config, validate_config
from constrict.core.errors import ConfigError


def test_config_yaml_spells_out_the_schema_defaults(repo_root):
    from constrict.design.parents import parents_from_config

    shipped, defaults = load_config(repo_root / "config" / "config.yaml"), load_config(None)
    # design.parents: null means the package's list, which config.yaml writes out with sources
    written, default = shipped["design"].pop("parents"), defaults["design"].pop("parents")
    assert parents_from_config(written) == parents_from_config(default)
    assert shipped == defaults


def test_defaults(repo_root):
    config = load_config(None)
    assert config["source"]["name"] == "mp_offline"
    assert config["voltages_v"] == [2, 3, 4]
    assert config["convention"] == "released_metal"
    assert config["selection"]["max_e_above_hull_ev"] == pytest.approx(1e-6)
    assert [e["formula"] for e in config["electrolytes"]] == ["Li10GeP2S12", "Li10SiP2S12", "Li7P3S11", "Na3PS4"]
    assert electrolyte_label(config["electrolytes"][3]) == "Na3PS4 (stand-in for Na7P3S11)"
    assert electrolyte_label(config["electrolytes"][0]) == "Li10GeP2S12"


@pytest.mark.parametrize("name", ["quick.yaml", "paper.yaml"])
def test_shipped_configs_validate(repo_root, name):
    config = load_config(repo_root / "config" / name)
    assert config["results_dir"].startswith("results/")


def test_paper_config_is_the_papers_campaign(repo_root):
    config = load_config(repo_root / "config" / "paper.yaml")
    assert config["source"] == {"name": "mp_api", "chemical_systems": None, "path": None, "custom_entries": None}
    assert config["n_shards"] == 40
    assert {e["formula"]: e["working_ion"] for e in config["electrolytes"]} == {
        "Li10GeP2S12": "Li", "Li10SiP2S12": "Li", "Li7P3S11": "Li", "Na7P3S11": "Na"}


@pytest.mark.parametrize(
    ("bad", "where"),
    [
        ({"voltages_v": [-1]}, "config.voltages_v[0]"),
        ({"voltages_v": []}, "config.voltages_v"),
        ({"shard_size": 0}, "config.shard_size"),
        ({"threads": 1.5}, "config.threads"),
        ({"convention": "metal"}, "config.convention"),
        ({"source": {"name": "aflow"}}, "config.source.name"),
        ({"selection": {"max_e_above_hull_ev": -0.1}}, "config.selection.max_e_above_hull_ev"),
        ({"selection": {"exclude_elements": ["li"]}}, "config.selection.exclude_elements[0]"),
        ({"electrolytes": [{"formula": "Li3PS4"}]}, "config.electrolytes[0]"),
        ({"electrolytes": [{"formula": "Li3PS4", "working_ion": "Na"}]}, "working_ion Na is not in Li3PS4"),
        ({"electrolytes": [{"formula": "Li3PS4", "working_ion": "Li"}] * 2}, "listed twice"),
        ({"shards": 3}, "'shards' was unexpected"),
        ({"n_shards": 0}, "config.n_shards"),
        ({"selection": {"exclude_elements": "none"}}, "config.selection.exclude_elements"),
        ({"source": {"name": "mp_api"}}, "config.n_shards: required for source mp_api"),
    ],
)
def test_bad_config_is_one_clear_line(bad, where):
    with pytest.raises(ConfigError) as info:
        validate_config(bad)
    message = str(info.value)
    assert where in message and "\n" not in message


def test_validation_does_not_mutate_and_fills_nested_defaults():
    raw = {"selection": {"max_coatings": 5}}
    config = validate_config(raw)
    assert raw == {"selection": {"max_coatings": 5}}
    assert config["selection"]["max_coatings"] == 5
    assert config["selection"]["min_band_gap_ev"] == 0
    assert config["electrolytes"][0]["stand_in_for"] is None


def test_file_errors_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("voltages_v: [2, 3\n")
    with pytest.raises(ConfigError, match="broken.yaml: not valid YAML"):
        load_config(broken)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"shard_size": -5}))
    with pytest.raises(ConfigError, match=r"bad.yaml: config.shard_size: -5 is less than"):
        load_config(bad)


def test_selection_defaults_are_the_packages():
    """One source of truth: the schema's selection defaults are constrict.data.coatings' own."""
    from constrict.data import coatings

    selection = load_config(None)["selection"]
    assert selection["min_band_gap_ev"] == coatings.MIN_BAND_GAP_EV
    assert selection["max_e_above_hull_ev"] == coatings.MAX_E_ABOVE_HULL_EV
    assert selection["min_nelements"] == coatings.MIN_NELEMENTS
    assert selection["exclude_elements"] == "default"  # = coatings.EXCLUDED_ELEMENTS, resolved in one place
    assert validate_config({"selection": {"exclude_elements": ["Ar"]}})["selection"]["exclude_elements"] == ["Ar"]


def test_mp_api_needs_n_shards_not_chemical_systems():
    config = validate_config({"source": {"name": "mp_api"}, "n_shards": 12})
    assert config["source"]["chemical_systems"] is None and config["n_shards"] == 12
    assert validate_config({})["n_shards"] is None  # offline: counted when the workflow is planned

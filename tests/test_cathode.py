"""Cathode | coating | electrolyte stacks (constrict.cathode) on a small slice of the offline MP data."""

import filecmp
import json
import math

import numpy as np
import pandas as pd
import pytest
import yaml

from constrict import cli
from constrict.campaign.plan import all_shard_ids
from constrict.campaign.screen import entries_within, gather, screen_shard
from constrict.cathode.campaign import (
    check_stack_config,
    count_stack_pairs,
    write_coatings_alone,
    write_stack_plan,
)
from constrict.cathode.cathodes import (
    DEFAULT_KEFF_GPA,
    EXCLUDE_ELEMENTS,
    KNOWN_CATHODES,
    KNOWN_COATINGS,
    REQUIRE_ELEMENTS,
    cathodes_from_config,
)
from constrict.cathode.physics import coating_alone, evaluate_stack, interface_kcrit_gpa, required_keff_gpa
from constrict.cathode.plots import stack_figures
from constrict.cathode.ranking import RANKING_SCHEMA, write_ranking
from constrict.core.config import validate_config
from constrict.core.errors import ConfigError
from constrict.data.coatings import campaign_coatings
from constrict.data.entries import EntrySet
from constrict.physics.evaluate import evaluate_interface

COATINGS = ["LiNbO3", "Li3PO4", "LiAlO2", "Li2ZrO3", "Li4SiO4", "Li2B4O7", "LiTi2(PO4)3", "LiF"]
"""Known coatings, two other Li oxides, and LiF (not an oxide: left out by the stack selection)."""
ELECTROLYTES = [{"formula": "Li3PS4", "working_ion": "Li"}, {"formula": "Li7P3S11", "working_ion": "Li"},
                {"formula": "Na3PS4", "working_ion": "Na", "stand_in_for": "Na7P3S11"}]
CATHODES = [{k: getattr(KNOWN_CATHODES[f], k) for k in ("formula", "voltage_v", "voltage_source", "label", "charged")}
            for f in ("LiCoO2", "LiFePO4")]


def _elements(formula):
    from pymatgen.core import Composition

    return {el.symbol for el in Composition(formula.removeprefix("hull:")).elements}


@pytest.fixture(scope="module")
def config():
    return validate_config({"cathodes": CATHODES, "electrolytes": ELECTROLYTES, "selection": {"max_nelements": 4},
                            "partition_size": 4, "cathode": {"shard_size": 20}})


@pytest.fixture(scope="module")
def entries(snapshot_frame):
    reactants = ["LiCoO2", "Li0.5CoO2", "LiFePO4", "Li3PS4", "Li7P3S11", "Na3PS4"]
    systems = ["-".join(sorted(_elements(r) | _elements(c) | {"Li"})) for r in reactants for c in COATINGS]
    return entries_within(snapshot_frame, systems).reset_index(drop=True)


@pytest.fixture(scope="module")
def entry_set(entries):
    return EntrySet.from_frame(entries)


def _campaign(entries, config, folder):
    """The stack stage as the workflow runs it, in ``folder``; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / name for name in ("entries.parquet", "coatings.parquet", "plan.parquet",
                                              "reactants.parquet", "stack_coatings.parquet", "skipped.tsv",
                                              "interfaces.parquet", "alone.parquet", "ranking.parquet",
                                              "ranking.tsv", "known.tsv")}
    entries.to_parquet(paths["entries.parquet"])
    coatings = campaign_coatings(entries, config["selection"], config["random_state"])
    screened = coatings[coatings["reduced_formula"].isin(COATINGS) & (coatings["reduced_formula"] != "Li4SiO4")]
    screened.to_parquet(paths["coatings.parquet"])
    n_shards = 3
    write_stack_plan(paths["entries.parquet"], paths["coatings.parquet"], stack_config=config["cathode"],
                     cathodes_config=config["cathodes"], electrolytes=config["electrolytes"], n_shards=n_shards,
                     partition_size=config["partition_size"], plan_path=paths["plan.parquet"],
                     reactants_path=paths["reactants.parquet"], coatings_out=paths["stack_coatings.parquet"],
                     skipped_path=paths["skipped.tsv"])
    shards = [folder / f"shard{s}.parquet" for s in all_shard_ids(n_shards)]
    for shard, path in zip(all_shard_ids(n_shards), shards, strict=True):
        screen_shard(paths["plan.parquet"], shard, paths["entries.parquet"], path, voltages_v=[3.6, 4.2])
    gather(shards, paths["interfaces.parquet"])
    write_coatings_alone(paths["entries.parquet"], paths["stack_coatings.parquet"], paths["reactants.parquet"],
                         paths["alone.parquet"])
    write_ranking(paths["interfaces.parquet"], paths["alone.parquet"], paths["reactants.parquet"],
                  paths["stack_coatings.parquet"], keff_gpa=config["cathode"]["keff_gpa"],
                  ranking_path=paths["ranking.parquet"], tsv_path=paths["ranking.tsv"], known_path=paths["known.tsv"])
    return paths


@pytest.fixture(scope="module")
def campaign(entries, config, tmp_path_factory):
    return _campaign(entries, config, tmp_path_factory.mktemp("stack"))


@pytest.fixture(scope="module")
def ranking(campaign):
    return pd.read_parquet(campaign["ranking.parquet"])


def test_ranking_layout(campaign, ranking):
    assert ranking.columns.tolist() == RANKING_SCHEMA.names
    stacks = ranking.groupby(["cathode", "electrolyte"], sort=False).size()
    # 4 cathode states x 2 Li electrolytes
    assert list(stacks.index.get_level_values(0).unique()) == ["LiCoO2 (LCO)", "Li0.5CoO2 (charged LiCoO2)",
                                                               "LiFePO4 (LFP)", "FePO4 (charged LiFePO4)"]
    # the six screened oxides (LiF is no oxide), plus the known coatings in the slice outside the screen's
    # coatings (Li4SiO4, Li4Ti5O12, Li3BO3, Li2SiO3); LiTaO3 is not in the slice
    known = {"LiNbO3", "Li3PO4", "LiAlO2", "Li2ZrO3", "Li4SiO4", "Li4Ti5O12", "Li3BO3", "Li2SiO3"}
    assert set(ranking["coating_formula"]) == known | {"Li2B4O7", "LiTi2(PO4)3"}
    assert set(stacks) == {10}
    assert set(ranking.loc[ranking["known_coating"], "coating_formula"]) == known
    assert (ranking["status"] == "ok").all()
    for _, group in ranking.groupby(["cathode", "electrolyte"]):
        assert group["rank"].tolist() == list(range(1, len(group) + 1))
        assert group["keff_required_hi_gpa"].is_monotonic_increasing  # ranked by the upper bound
    skipped = pd.read_csv(campaign["skipped.tsv"], sep="\t")
    assert skipped["reactant"].tolist() == ["Na3PS4", "LiTaO3"]
    assert "working ion Na" in skipped["reason"].iloc[0] and skipped["role"].iloc[1] == "known coating"
    assert len(pd.read_csv(campaign["known.tsv"], sep="\t")) == len(known) * 8


def test_required_keff_is_the_largest_kcrit(ranking):
    three = ranking[["coating_kcrit_gpa", "cathode_kcrit_gpa", "electrolyte_kcrit_gpa"]].to_numpy()
    np.testing.assert_array_equal(ranking["keff_required_gpa"].to_numpy(), three.max(axis=1))
    side = np.array(["coating", "cathode", "electrolyte"])[three.argmax(axis=1)]
    expected = np.where(ranking["keff_required_gpa"] == 0, "none", side)
    assert (ranking["limiting"].to_numpy() == expected).all()
    assert (ranking["constriction_stable"] == (ranking["keff_required_gpa"] <= DEFAULT_KEFF_GPA)).all()
    assert (ranking["keff_required_sc_gpa"] >= ranking["keff_required_gpa"]).all()
    assert (ranking.loc[~ranking["cathode_reacts"], "cathode_kcrit_gpa"] == 0).all()
    for bound in ("lo", "hi"):
        sides = ranking[[f"{side}_kcrit_{bound}_gpa" for side in ("coating", "cathode", "electrolyte")]].to_numpy()
        np.testing.assert_array_equal(ranking[f"keff_required_{bound}_gpa"].to_numpy(), sides.max(axis=1))
    assert (ranking["keff_required_lo_gpa"] <= ranking["keff_required_gpa"]).all()
    assert (ranking["keff_required_gpa"] <= ranking["keff_required_hi_gpa"]).all()
    assert ranking.loc[~ranking["cathode_reacts"], "cathode_kcrit_determined"].all()


def test_ranking_is_deterministic(campaign, entries, config, tmp_path):
    again = _campaign(entries, config, tmp_path / "again")
    for name in ("plan.parquet", "interfaces.parquet", "alone.parquet", "ranking.parquet", "ranking.tsv"):
        assert filecmp.cmp(campaign[name], again[name], shallow=False), name


def test_interfaces_equal_evaluate_interface(ranking, entry_set):
    """Each side of a ranked stack is the evaluate_interface row of that pair at the cathode's voltage."""
    keys = {"x_m": "x_m", "e_rxn_ev_per_atom": "e_rxn_ev_per_atom", "e_rxn_mutual_ev_per_atom":
            "e_rxn_mutual_ev_per_atom", "kcrit_gpa": "kcrit_gpa", "kcrit_sc_gpa": "kcrit_sc_gpa",
            "dg_ev_per_atom": "dg_ev_per_atom", "eps_ion_metal": "strain"}
    reactant = {"LiCoO2 (LCO)": "LiCoO2", "Li0.5CoO2 (charged LiCoO2)": "hull:Li0.5CoO2", "LiFePO4 (LFP)": "LiFePO4",
                "FePO4 (charged LiFePO4)": "hull:FePO4"}
    for row in ranking.iloc[::3].itertuples(index=False):
        row = row._asdict()
        for side, a in (("cathode", reactant[row["cathode"]]), ("electrolyte", row["electrolyte_formula"])):
            [expected] = evaluate_interface(entry_set, a, row["coating_id"], voltages_v=[row["voltage_v"]],
                                            working_ion="Li")
            assert row[f"{side}_reacts"] == expected["reacts"]
            assert row[f"{side}_sei_products"] == expected["sei_products"]
            for key, column in keys.items():
                value = expected[key]
                if key in ("kcrit_gpa", "kcrit_sc_gpa"):
                    value = float(interface_kcrit_gpa(value, expected["reacts"]))
                got = row[f"{side}_{column}" if column != "kcrit_gpa" else f"{side}_kcrit_gpa"]
                assert got == pytest.approx(value, rel=1e-9, abs=1e-12, nan_ok=True), (side, key, row["coating_id"])
        [alone] = coating_alone(entry_set, row["coating_id"], voltages_v=[row["voltage_v"]], working_ion="Li")
        assert row["coating_kcrit_gpa"] == pytest.approx(alone["kcrit_gpa"], rel=1e-9, abs=1e-12)
        assert row["coating_window_low_v"] == pytest.approx(alone["window_low_v"], abs=1e-9)
        assert row["coating_window_high_v"] == pytest.approx(alone["window_high_v"], abs=1e-9)


def test_a_coating_that_reacts_with_neither_side_needs_no_constriction(ranking, entry_set):
    """LiFePO4 | Li3PO4 | Li3PS4 at 3.6 V: no reaction on either side, Li3PO4 stable up to 4.21 V."""
    stack = evaluate_stack(entry_set, "LiFePO4", "Li3PO4", "Li3PS4", voltage_v=3.6)
    assert not stack.cathode["reacts"] and not stack.electrolyte["reacts"]
    assert stack.coating["kcrit_gpa"] == 0 and stack.coating["window_high_v"] > 3.6
    assert stack.keff_required_gpa == 0 and stack.limiting == "none" and stack.stable_at(0.0)
    row = ranking[(ranking["cathode"] == "LiFePO4 (LFP)") & (ranking["electrolyte"] == "Li3PS4")
                  & (ranking["coating_formula"] == "Li3PO4")].iloc[0]
    assert row["keff_required_gpa"] == 0 and row["rank"] == 1 and row["constriction_stable"]


def test_required_keff_rules():
    keff, limiting = required_keff_gpa([0.0, 3.0, np.inf, 1.0], [0.0, 5.0, 2.0, np.nan], [0.0, 5.0, 1.0, 0.0])
    np.testing.assert_array_equal(keff, [0.0, 5.0, np.inf, np.nan])
    assert limiting.tolist() == ["none", "cathode", "coating", ""]
    np.testing.assert_array_equal(interface_kcrit_gpa([np.nan, np.nan, 4.0], [False, True, True]), [0.0, np.nan, 4.0])


def test_stack_count_equals_the_plan(campaign, entries, config):
    plan = pd.read_parquet(campaign["plan.parquet"])
    assert count_stack_pairs(entries, config) >= len(plan)  # the screen's full selection, not the test's subset
    assert set(plan["electrolyte"]) == {"LiCoO2", "hull:Li0.5CoO2", "LiFePO4", "hull:FePO4", "Li3PS4", "Li7P3S11"}
    reactants = pd.read_parquet(campaign["reactants.parquet"]).set_index("reactant")
    # a coating of the charged composition (LiCo2O4) would be a self-pair: the table's reduced formula
    assert reactants.loc["hull:Li0.5CoO2", "reduced_formula"] == "Li(CoO2)2"


@pytest.mark.slow  # matplotlib: about 4 s on an idle machine, over 10 s on a busy one
def test_figures(campaign, tmp_path):
    paths = stack_figures(campaign["ranking.parquet"], tmp_path / "kcrit.png", tmp_path / "keff.png")
    assert all(p.stat().st_size > 10_000 for p in paths)


def test_config_defaults_are_the_package_constants(repo_root):
    schema = yaml.safe_load((repo_root / "workflow" / "schemas" / "config.schema.yaml").read_text())["properties"]
    block = schema["cathode"]["properties"]
    assert block["known_coatings"]["default"] == list(KNOWN_COATINGS)
    assert block["selection"]["properties"]["require_elements"]["default"] == list(REQUIRE_ELEMENTS)
    assert block["selection"]["properties"]["exclude_elements"]["default"] == list(EXCLUDE_ELEMENTS)
    assert block["keff_gpa"]["default"] == DEFAULT_KEFF_GPA
    default = cathodes_from_config(schema["cathodes"]["default"])
    assert default == [KNOWN_CATHODES["LiCoO2"], KNOWN_CATHODES["LiFePO4"]]
    for name in ("config.yaml", "paper.yaml"):
        spelled = yaml.safe_load((repo_root / "config" / name).read_text())["cathodes"]
        for cathode in cathodes_from_config(spelled):
            if cathode.formula in KNOWN_CATHODES:
                assert cathode == KNOWN_CATHODES[cathode.formula], (name, cathode.formula)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"cathodes": [{"formula": "CoO2", "voltage_v": 4.2, "voltage_source": "x"}]}, "working_ion Li is not in CoO2"),
        ({"cathodes": [CATHODES[0], CATHODES[0]]}, "listed twice"),
        ({"cathodes": [{**CATHODES[0], "charged": "Li0.5Qq2"}]}, "non-element"),
    ],
)
def test_bad_stack_config_is_one_line(change, message):
    with pytest.raises(ConfigError, match=message) as info:
        check_stack_config(validate_config(change))
    assert "\n" not in str(info.value)


@pytest.fixture
def small_cli(monkeypatch, entry_set):
    monkeypatch.setattr(cli, "load_entry_set", lambda source="mp_offline", custom=None, data_dir=None: entry_set)


def test_cli_stack(capsys, small_cli, entry_set):
    assert cli.main(["stack", "LiCoO2", "LiNbO3", "Li3PS4", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    stack = evaluate_stack(entry_set, "LiCoO2", "LiNbO3", "Li3PS4", voltage_v=4.2)
    assert out["voltage_v"] == 4.2 and out["keff_gpa"] == DEFAULT_KEFF_GPA
    assert out["keff_required_gpa"] == pytest.approx(stack.keff_required_gpa)
    assert out["constriction_stable"] == (stack.keff_required_gpa <= DEFAULT_KEFF_GPA)
    assert out["cathode_interface"]["coating_id"] == stack.cathode["coating_id"]
    assert cli.main(["stack", "hull:Li0.5CoO2", "LiNbO3", "Li7P3S11", "--keff", "5"]) == 0
    text = capsys.readouterr().out
    assert "at 4.2 V vs. Li/Li+" in text and "constriction-stable at Keff = 5 GPa" in text
    assert "unconstrained window" in text and "cathode interface" in text and "electrolyte interface" in text
    assert cli.main(["stack", "LiFePO4", "Li3PO4", "Li3PS4", "--voltage", "3.6", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["keff_required_gpa"] == 0 and out["limiting"] == "none" and math.isclose(out["voltage_v"], 3.6)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["stack", "LiCoO2", "LiNbO3", "Li3PS4", "--keff", "-1"], "--keff must be a finite modulus >= 0 GPa"),
        (["stack", "LiCoO2", "LiNbO3", "Li3PS4", "--voltage", "11"], "voltage 11 V is outside 0-10 V"),
        (["stack", "Li2CoO3", "LiNbO3", "Li3PS4"], "no top-of-charge voltage is known for Li2CoO3"),
        (["stack", "LiCoO2", "LiNbO3", "Na3PS4"], "a Li cathode pairs only with Li electrolytes"),
        (["stack", "LiCoO2", "LiNbO4", "Li3PS4"], "LiNbO4 is not in the entry data"),
        (["stack", "LiCoO2", "LiNbO3", "Li3PQ4"], "non-element"),
    ],
)
def test_cli_stack_bad_input(capsys, small_cli, argv, message):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("constrict: error: ") and err.count("\n") == 1 and message in err

"""Coating design: parents, regions, the SHAP route, the grid optimum, the physics check and route, the CLI.

The surrogate is a small model (20 trees) fitted here on the real screen
sample of tests/fixtures/surrogate/ at 4 V; the physics runs on the
committed offline MP snapshot.
"""

import copy
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from constrict.cathode.physics import coating_alone
from constrict.cli import load_entry_set, main
from constrict.core.errors import ConfigError
from constrict.design import campaign
from constrict.design.config import DesignConfig, check_design_config
from constrict.design.grid import grid_optimum, lattice, lattice_size
from constrict.design.parents import (
    DEFAULT_PARENTS,
    PAPER_GLASS,
    composition_fractions,
    formula_of,
    mixture_fractions,
    parents_from_config,
)
from constrict.design.physics import InterfaceObjective, Target, design_kcrit_gpa, energy_under_keff, verify
from constrict.design.physics_route import PhysicsOptions, physics_route
from constrict.design.region import check_max_change, make_region
from constrict.design.shap_route import ShapOptions, shap_route
from constrict.physics.evaluate import evaluate_interface
from constrict.surrogate import KcritSurrogate
from constrict.surrogate.data import at_voltage, element_columns, training_table

SAMPLE = Path(__file__).parent / "fixtures" / "surrogate" / "screen_sample.parquet"
VOLTAGE_V = 4.0
TOL = 1e-9
LSPS = Target("Li10SiP2S12")


@pytest.fixture(scope="module")
def model():
    """A 20-tree surrogate fitted on the real screen sample at 4 V (log1p target: SHAP in a transformed unit)."""
    table, _ = training_table(pd.read_parquet(SAMPLE))
    rows = at_voltage(table, VOLTAGE_V)
    return KcritSurrogate(voltage_v=VOLTAGE_V, n_estimators=20, target_transform="log1p", background_size=30).fit(
        rows[element_columns(table)], rows["kcrit_gpa"])


@pytest.fixture(scope="module")
def paper_glass():
    return DEFAULT_PARENTS[0].fractions


# -- parents ----------------------------------------------------------------


def test_mixture_arithmetic():
    # 0.75 Li2S + 0.25 P2S5: Li 1.5, P 0.5, S 0.75 + 1.25 = 2 atoms per 4
    assert mixture_fractions({"Li2S": 0.75, "P2S5": 0.25}) == pytest.approx({"Li": 0.375, "S": 0.5, "P": 0.125})
    # 70 (0.75 Li2S . 0.25 P2S5) . 30 LiI: Li 1.05 + 0.3, P 0.35, S 1.4, I 0.3 atoms per 3.4
    lpsi = mixture_fractions({"Li2S": 0.525, "P2S5": 0.175, "LiI": 0.30})
    assert lpsi == pytest.approx({"Li": 1.35 / 3.4, "S": 1.4 / 3.4, "P": 0.35 / 3.4, "I": 0.3 / 3.4})


def test_paper_glass_is_the_first_parent_and_config_spells_the_defaults_out(repo_root):
    assert composition_fractions(DEFAULT_PARENTS[0].formula) == pytest.approx(composition_fractions(PAPER_GLASS))
    config = yaml.safe_load((repo_root / "config" / "config.yaml").read_text())
    assert parents_from_config(config["design"]["parents"]) == DEFAULT_PARENTS
    assert parents_from_config(None) == DEFAULT_PARENTS
    assert all(p.source for p in DEFAULT_PARENTS)


@pytest.mark.parametrize("items, match", [
    ([{"name": "x", "source": "s", "formula": "Li2S", "mixture": {"Li2S": 1}}], "either formula or mixture"),
    ([{"name": "x", "source": "s"}], "either formula or mixture"),
    ([{"name": "x", "source": "s", "formula": "Li2S"}] * 2, "listed twice"),
    ([{"name": "x", "source": "", "formula": "Li2S"}], "name and a source"),
])
def test_bad_parents_refused(items, match):
    with pytest.raises(ConfigError, match=match):
        parents_from_config(items)


def test_formula_of_round_trips():
    fractions = {"Li": 0.364, "P": 0.11, "S": 0.388, "I": 0.138, "O": 0.0}
    assert formula_of(fractions) == "Li0.364P0.11S0.388I0.138"
    assert composition_fractions(formula_of(fractions)) == pytest.approx({k: v for k, v in fractions.items() if v})


# -- regions ----------------------------------------------------------------


@pytest.mark.parametrize("bad", [-0.01, 1.5, float("nan"), "abc"])
def test_limit_outside_unit_interval_refused(bad):
    with pytest.raises(ConfigError):
        check_max_change(bad)


def test_lines_keep_every_element_inside(paper_glass):
    rng = np.random.default_rng(0)
    for level in (0.0125, 0.05, 0.1, None):
        region = make_region(paper_glass, level)
        assert region.contains(region.parent)
        x = region.random_points(1, rng)[0]
        for _ in range(30):
            k = int(rng.integers(len(region.elements)))
            lo, hi = region.line(x, k)
            for t in (lo, hi, rng.uniform(lo, hi)):
                y = region.move(x, k, t)
                assert region.contains(y) and (y >= 0).all() and abs(y.sum() - 1) < TOL
            x = y


def test_lattice_inside_region_and_counted(paper_glass):
    region = make_region(paper_glass, 0.05)
    for step in (0.025, 0.0125):
        points = lattice(region, step)
        assert len(points) == lattice_size(region, step)
        assert all(region.contains(p) for p in points)
        assert np.isclose(points, region.parent).all(axis=1).any()  # the parent is a lattice point


# -- the SHAP route -----------------------------------------------------------


@pytest.fixture(scope="module")
def routes(model, paper_glass):
    return {level: shap_route(model, make_region(paper_glass, level, known=model.features), ShapOptions(max_steps=8))
            for level in (0.05, 0.1, None)}


def test_children_respect_their_limits(routes):
    for level, route in routes.items():
        for step in route.steps:
            x = step.fractions
            assert (x >= 0).all() and abs(x.sum() - 1) < TOL
            assert route.region.contains(x)
            if level is not None:
                assert route.region.max_abs_change(x) <= level + TOL


def test_prediction_never_rises_along_a_route(routes, model):
    for route in routes.values():
        predicted = [s.kcrit_pred_gpa for s in route.steps]
        assert all(b < a for a, b in zip(predicted, predicted[1:], strict=False))
        frame = route.frame()
        again = model.predict(pd.DataFrame([s.fractions for s in route.steps], columns=list(route.region.elements)))
        np.testing.assert_allclose(frame["kcrit_pred_gpa"], again, rtol=1e-12)
        assert route.stop_reason in ("no_fall", "no_positive_shap", "only_last_changed", "step_cap")


def test_every_step_records_additive_shap_of_all_elements(routes, model):
    route = routes[0.1]
    shap = route.shap_frame()
    assert len(shap) == len(route.steps) * len(model.features)
    for step in route.steps:
        output = np.log1p(step.kcrit_pred_gpa)  # the model's output unit (log1p target)
        assert step.base_value + step.shap.sum() == pytest.approx(output, abs=1e-6)


def test_moved_element_had_a_positive_shap_value(routes, model):
    for route in routes.values():
        for before, after in zip(route.steps, route.steps[1:], strict=False):
            assert before.shap[model.features.index(after.element)] > 0
            assert after.element != (before.element or None)  # never the element moved just before


def test_grid_optimum_never_above_the_greedy_end(routes, model):
    for route in routes.values():
        path = np.array([s.fractions for s in route.steps])
        grid = grid_optimum(model, route.region, step=0.0025, max_points=3000, extra=path,
                            reference_gpa=route.end.kcrit_pred_gpa)
        assert grid.kcrit_pred_gpa <= route.end.kcrit_pred_gpa + TOL
        assert route.region.contains(grid.fractions)
        assert grid.n_points <= 3000 + len(path)


# -- the physics ----------------------------------------------------------------


CHILD = "Li0.324P0.098S0.346I0.138Cl0.026F0.042O0.040"


def test_verification_is_the_engine(snapshot_set):
    # fresh copies (no LP caches): the engine's warm starts move the last bits, so equal histories, equal numbers
    rows = verify(copy.copy(snapshot_set), CHILD, LSPS, [4.0, 2.0])
    direct = evaluate_interface(copy.copy(snapshot_set), "Li10SiP2S12", "hull:" + CHILD, voltages_v=[4.0, 2.0],
                                working_ion="Li")
    for row, ref in zip(rows, direct, strict=True):
        for column in ("x_m", "reacts", "sei_products", "kcrit_gpa", "kcrit_sc_gpa", "dg_ev_per_atom"):
            assert row[f"interface_{column}"] == ref[column] or (
                isinstance(ref[column], float) and math.isnan(ref[column]) and math.isnan(row[f"interface_{column}"]))
    [alone] = coating_alone(copy.copy(snapshot_set), "hull:" + PAPER_GLASS, voltages_v=[4.0], working_ion="Li")
    [mine] = verify(copy.copy(snapshot_set), PAPER_GLASS, LSPS, [4.0])
    assert mine["self_kcrit_gpa"] == alone["kcrit_gpa"]
    assert mine["self_dg_ev_per_atom"] == alone["dg_ev_per_atom"]


def test_objective_is_the_verified_design_kcrit(snapshot_set, paper_glass):
    region = make_region(paper_glass, 0.05)
    objective = InterfaceObjective(copy.copy(snapshot_set), LSPS, VOLTAGE_V, region.elements)
    [row] = verify(copy.copy(snapshot_set), region.formula(region.parent), LSPS, [VOLTAGE_V])
    assert objective(region.parent) == row["design_kcrit_gpa"] == row["interface_kcrit_gpa"]
    assert objective(region.parent) == row["design_kcrit_gpa"] and objective.n_evaluations == 1  # memoised


def test_design_kcrit_is_the_coatings_own_where_no_sei_forms():
    assert design_kcrit_gpa({"reacts": True, "kcrit_gpa": 3.0}, None) == 3.0
    assert design_kcrit_gpa({"reacts": False, "kcrit_gpa": float("nan")}, {"kcrit_gpa": 25.0}) == 25.0


def test_energy_under_keff_reaches_zero_at_kcrit():
    from constrict import EV_PER_A3_TO_GPA
    from constrict.physics.kcrit import kcrit_linear_gpa

    dg, eps, v_r = -0.1, 0.05, 20.0
    kcrit = kcrit_linear_gpa(dg, eps, v_r)
    assert energy_under_keff(dg, eps, v_r, 0.0) == dg
    assert energy_under_keff(dg, eps, v_r, kcrit) == pytest.approx(0.0, abs=1e-12)
    assert energy_under_keff(dg, eps, v_r, 2 * kcrit) == 0.0
    assert energy_under_keff(dg, eps, v_r, 5.0) == pytest.approx(dg + 5.0 / EV_PER_A3_TO_GPA * eps * v_r)


def test_physics_route_respects_limits_and_budget(snapshot_set, paper_glass):
    region = make_region(paper_glass, 0.05)
    objective = InterfaceObjective(snapshot_set, LSPS, VOLTAGE_V, region.elements)
    options = PhysicsOptions(starts=2, line_points=5, zoom_levels=2, max_evaluations=60)
    result = physics_route(objective, region, options)
    assert region.contains(result.fractions) and region.max_abs_change(result.fractions) <= 0.05 + TOL
    assert result.n_evaluations <= options.max_evaluations + options.starts
    assert result.kcrit_gpa <= objective(region.parent)  # the parent is a start
    [row] = verify(snapshot_set, region.formula(result.fractions), LSPS, [VOLTAGE_V])
    assert row["design_kcrit_gpa"] == pytest.approx(result.kcrit_gpa, rel=1e-9)
    assert [b for _, b in result.trace] == sorted((b for _, b in result.trace), reverse=True)


def test_design_table_end_to_end(snapshot_set, model):
    config = DesignConfig(parents=DEFAULT_PARENTS[:1], target=LSPS, levels=(0.05,), fig5_levels=(0.0, 0.025),
                          extra_voltages_v=(3.0,), grid_max_points=2000,
                          physics=PhysicsOptions(starts=1, max_evaluations=30))
    shap = campaign.shap_children(model, config)
    physics = campaign.physics_children(snapshot_set, config, shap["children"])
    out = campaign.design_table(snapshot_set, model, config, shap["children"], physics["children"])
    table = out["table"].set_index("route")
    assert {"parent", "shap", "physics", "paper"} <= set(table.index)
    assert table.loc["shap", "kcrit_pred_gpa"] <= table.loc["parent", "kcrit_pred_gpa"]
    assert table.loc["physics", "design_kcrit_gpa"] <= table.loc["parent", "design_kcrit_gpa"]
    assert table.loc["parent", "paper_kcrit_pred_gpa"] == 16.07
    fig5 = campaign.fig5_table(snapshot_set, config, shap["children"], {VOLTAGE_V: model})
    assert set(fig5["electrolyte_energy"]) == {"own", "hull"}
    assert len(fig5) == 2 * 2 * 3  # electrolyte energies x levels x voltages (4, 3 and 3.5 V)


# -- config and CLI ------------------------------------------------------------------


def test_design_voltage_needs_a_surrogate():
    from constrict.core.config import validate_config

    with pytest.raises(ConfigError, match="has no surrogate"):
        check_design_config(validate_config({"voltages_v": [2, 3], "design": {"voltage_v": 4}}))


@pytest.mark.parametrize("argv, match", [
    (["Li0.3Zz0.7"], "non-element|cannot parse"),
    (["Li0.364P0.110S0.388I0.138", "--max-change", "1.5"], "outside \\[0, 1\\]"),
    (["Li0.364P0.110S0.388I0.138", "--max-change", "-0.1"], "outside \\[0, 1\\]"),
])
def test_cli_bad_inputs_one_line_exit_2(argv, match, capsys):
    assert main(["design", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("constrict: error:")
    assert re.search(match, err)


@pytest.mark.slow
def test_cli_element_outside_the_data_or_the_surrogate(model, tmp_path, capsys):
    assert main(["design", "Li0.5Og0.5"]) == 2
    assert "not in the entry data" in capsys.readouterr().err
    model.save(tmp_path / "kcrit_4V.skops")
    assert main(["design", "Li0.5Pu0.5", "--models", str(tmp_path)]) == 2  # in the data, unknown to the surrogate
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Pu" in err


@pytest.mark.slow
def test_cli_shap_route_json(model, tmp_path, capsys):
    model.save(tmp_path / "kcrit_4V.skops")
    assert main(["design", PAPER_GLASS, "--max-change", "0.05", "--models", str(tmp_path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    region = make_region(composition_fractions(PAPER_GLASS), 0.05, known=model.features)
    child = composition_fractions(out["child"])
    x = np.array([child.get(el, 0.0) for el in region.elements])
    assert region.max_abs_change(x) <= 0.05 + 1e-6
    predicted = [s["kcrit_pred_gpa"] for s in out["trajectory"]]
    assert predicted == sorted(predicted, reverse=True)
    [direct] = evaluate_interface(load_entry_set(), "Li10SiP2S12", "hull:" + out["child"], voltages_v=[4.0],
                                  working_ion="Li")
    assert out["child_check"]["interface_kcrit_gpa"] == direct["kcrit_gpa"]

"""The Kcrit surrogate on a real sample of the default screen (tests/fixtures/surrogate/).

The sample is every row of 150 coatings (seeded draw) of the gathered
default campaign: real engine output with its duplicates, infinities and
non-reacting pairs, small enough that every test here runs in seconds.
"""

import functools
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.ensemble import ExtraTreesRegressor
from threadpoolctl import threadpool_limits

from constrict.cli import main
from constrict.core.errors import ConfigError, ConstrictError, SchemaError, UnknownFormulaError
from constrict.surrogate import KcritSurrogate, UnknownElementError, VersionWarning, find_model, load_model, persist
from constrict.surrogate.data import (
    COUNT_COLUMNS,
    SCREEN_COLUMNS,
    at_voltage,
    element_columns,
    training_table,
)
from constrict.surrogate.evaluation import (
    METRIC_COLUMNS,
    SurrogateOptions,
    evaluate_voltage,
    metric_rows,
    regression_metrics,
)
from constrict.surrogate.locate import model_name
from constrict.surrogate.model import MAX_TREE_NODES, check_tree_size
from constrict.surrogate.splits import electrolyte_folds, grouped_split, holdout_count, random_split, split_folds

SAMPLE = Path(__file__).parent / "fixtures" / "surrogate" / "screen_sample.parquet"
VOLTAGE_V = 4.0
N_TREES = 20


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """HistGradientBoosting and BLAS keep to one thread (the machine is shared)."""
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def screen():
    return pd.read_parquet(SAMPLE)


@functools.cache
def _table():
    return training_table(pd.read_parquet(SAMPLE))


@pytest.fixture(scope="module")
def table():
    return _table()[0]


@pytest.fixture(scope="module")
def rows(table):
    """Training rows at 4 V."""
    return at_voltage(table, VOLTAGE_V)


@pytest.fixture(scope="module")
def fitted(rows, table):
    """A small model fitted on the random split's training rows at 4 V, and that split."""
    train, test = random_split(len(rows))
    features = element_columns(table)
    model = KcritSurrogate(voltage_v=VOLTAGE_V, n_estimators=N_TREES, target_transform="log1p")
    model.fit(rows.loc[train, features], rows.loc[train, "kcrit_gpa"])
    return model, train, test


# -- training table -------------------------------------------------------


def test_every_screen_row_counted_once(screen):
    table, counts = training_table(screen)
    assert list(counts.columns) == list(COUNT_COLUMNS)
    parts = counts[["n_error", "n_not_reacting", "n_nan", "n_inf", "n_duplicate", "n_conflicting", "n_kept"]]
    assert (parts.sum(axis=1) == counts["n_rows"]).all()
    assert counts["n_rows"].sum() == len(screen)
    assert (counts["n_duplicate"] > 0).all() and (counts["n_inf"] > 0).all()  # the sample has both
    assert counts.set_index("voltage_v")["n_kept"].to_dict() == table.groupby("voltage_v").size().to_dict()


def test_one_row_per_sei_and_voltage(table):
    assert not table.duplicated(["sei_composition", "voltage_v"]).any()
    assert np.isfinite(table["kcrit_gpa"]).all()
    fractions = table[element_columns(table)]
    np.testing.assert_allclose(fractions.sum(axis=1), 1.0, atol=1e-8)
    first = json.loads(table["sei_composition"].iloc[0])
    assert {k: v for k, v in fractions.iloc[0].items() if v} == pytest.approx(first)


def test_duplicates_that_disagree_are_dropped_and_counted(screen):
    # one more interface giving an existing SEI at 4 V, with another Kcrit
    at_4v = screen[(screen["voltage_v"] == VOLTAGE_V) & np.isfinite(screen["kcrit_gpa"])]
    clash = at_4v.iloc[[0]].assign(coating_id="test:clash", kcrit_gpa=at_4v["kcrit_gpa"].iloc[0] * 2 + 1)
    same = at_4v.iloc[[1]].assign(coating_id="test:same", kcrit_gpa=at_4v["kcrit_gpa"].iloc[1] * (1 + 1e-9))
    table, counts = training_table(pd.concat([screen, clash, same], ignore_index=True))
    at = counts.set_index("voltage_v").loc[VOLTAGE_V]
    base = training_table(screen)[1].set_index("voltage_v").loc[VOLTAGE_V]
    assert at["n_conflicting"] == base["n_conflicting"] + 2
    assert at["n_duplicate"] == base["n_duplicate"] + 1
    assert at["n_kept"] == base["n_kept"] - 1
    kept = table[table["voltage_v"] == VOLTAGE_V]["sei_composition"]
    assert at_4v["sei_composition"].iloc[0] not in set(kept)
    assert at_4v["sei_composition"].iloc[1] in set(kept)


def test_mixed_conventions_refused(screen):
    with pytest.raises(SchemaError, match="conventions"):
        training_table(screen.assign(convention=np.where(screen.index % 2, "ion_metal", "reservoir")))


def test_missing_voltage_names_present_ones(table):
    with pytest.raises(ConstrictError, match="2, 3, 4 V"):
        at_voltage(table, 5.0)


# -- splits ---------------------------------------------------------------


def test_holdout_count():
    assert holdout_count(200_000) == 10_000
    assert holdout_count(800) == 100
    assert holdout_count(3) == 1
    assert holdout_count(1) == 0


@pytest.mark.parametrize("split", ["random", "grouped"])
def test_split_deterministic_and_disjoint(rows, split):
    first = list(split_folds(split, rows, random_state=3))
    again = list(split_folds(split, rows, random_state=3))
    other = list(split_folds(split, rows, random_state=4))
    (_, train, test), (_, train2, test2), (_, _, test3) = first[0], again[0], other[0]
    np.testing.assert_array_equal(train, train2)
    np.testing.assert_array_equal(test, test2)
    assert not np.array_equal(test, test3)
    assert not set(train) & set(test)
    assert sorted(set(train) | set(test)) == list(range(len(rows)))
    assert abs(len(test) - holdout_count(len(rows))) <= 0.5 * holdout_count(len(rows))


def test_grouped_split_keeps_groups_coating_systems_and_duplicates_on_one_side(screen, table):
    # the whole table (all voltages): an SEI sits on one side at every voltage
    train, test = grouped_split(table["group"], random_state=0)
    assert not set(table["group"].iloc[train]) & set(table["group"].iloc[test])
    train_sei, test_sei = set(table["sei_composition"].iloc[train]), set(table["sei_composition"].iloc[test])
    assert not train_sei & test_sei
    # no coating chemical system that takes part in an SEI (x_m > 0) on both sides
    systems = table["coating_systems"].str.split(";")
    mutual_sei = set(screen.loc[screen["x_m"] > 0, "sei_composition"])
    taking_part = [set(s) if sei in mutual_sei else set() for s, sei in zip(systems, table["sei_composition"],
                                                                          strict=True)]
    train_systems = set().union(*(taking_part[i] for i in train))
    test_systems = set().union(*(taking_part[i] for i in test))
    assert not train_systems & test_systems
    # the SEIs many coatings share (the electrolyte decaying alone) are in the table once per voltage
    shared = table[table["n_interfaces"] > 1]
    assert len(shared) and shared["group"].str.startswith("electrolyte:").any()


def test_random_split_sees_siblings_grouped_does_not(table):
    """The leakage the grouped split exists for: coating systems on both sides of the random split."""
    train, test = random_split(len(table), random_state=0)
    assert set(table["group"].iloc[train]) & set(table["group"].iloc[test])


def test_leave_one_electrolyte_out(rows):
    folds = list(electrolyte_folds(rows["electrolytes"]))
    assert [name for name, _, _ in folds] == ["Li10GeP2S12", "Li10SiP2S12", "Li7P3S11", "Na3PS4"]
    for name, train, test in folds:
        assert all(name in s.split(";") for s in rows["electrolytes"].iloc[test])
        assert not any(name in s.split(";") for s in rows["electrolytes"].iloc[train])


# -- model ----------------------------------------------------------------


def test_beats_the_mean_baseline_on_its_holdout(rows, fitted):
    model, train, test = fitted
    kcrit_gpa = rows["kcrit_gpa"].to_numpy()
    predicted = model.predict(rows.loc[test, model.features])
    mean_gpa = np.full(len(test), kcrit_gpa[train].mean())
    ours, baseline = regression_metrics(kcrit_gpa[test], predicted), regression_metrics(kcrit_gpa[test], mean_gpa)
    assert ours["rmse_gpa"] < 0.8 * baseline["rmse_gpa"]
    assert ours["r2"] > 0.3


def test_fitted_attributes(fitted, table):
    model, train, _ = fitted
    assert model.features == element_columns(table)
    assert model.voltage_v == VOLTAGE_V
    assert model.info_["n_train"] == len(train)
    assert len(model.info_["training_data_sha256"]) == 64
    assert model.background_.shape == (100, len(model.features))
    assert 0 < model.max_tree_nodes_ < MAX_TREE_NODES


def test_inputs_in_any_form_agree(fitted):
    model, _, _ = fitted
    formula = "Li0.364P0.110S0.388I0.138"
    frame = pd.DataFrame([{"S": 38.8, "Li": 36.4, "P": 11.0, "I": 13.8}])  # amounts, any order
    expected = model.predict([formula])
    np.testing.assert_array_equal(model.predict(formula), expected)
    np.testing.assert_allclose(model.predict(frame), expected, rtol=1e-12)
    np.testing.assert_allclose(model.predict({"Li": 0.364, "P": 0.110, "S": 0.388, "I": 0.138}), expected)
    assert model.predict(["Li3PS4", "Li7P3S11"]).shape == (2,)


def test_predict_trees_spread(fitted):
    model, _, _ = fitted
    trees = model.predict_trees(["Li3PS4", "Li2S"])
    assert trees.shape == (2, N_TREES)
    assert (trees >= 0).all() and (trees.std(axis=1) > 0).all()


def test_mean_of_trees_is_the_prediction_for_raw_target(rows, table):
    features = element_columns(table)
    model = KcritSurrogate(n_estimators=5, target_transform="raw").fit(rows[features], rows["kcrit_gpa"])
    np.testing.assert_allclose(model.predict_trees(rows[features]).mean(axis=1), model.predict(rows[features]))


@pytest.mark.parametrize("bad, error, match", [
    ("Li3PS4Xe", UnknownElementError, "Xe never seen"),
    ({"Li": 0.5, "Pu": 0.5}, UnknownElementError, "Pu never seen"),
    ("Li3PQ4", UnknownFormulaError, "Li3PQ4"),
    ("Li3)PS4", UnknownFormulaError, "cannot parse"),
    ({"Li": -1.0, "S": 2.0}, ConstrictError, ">= 0"),
])
def test_unknown_elements_and_bad_formulas_refused(fitted, bad, error, match):
    model, _, _ = fitted
    with pytest.raises(error, match=match) as info:
        model.predict(bad)
    assert "\n" not in str(info.value)


def test_unknown_element_column_refused_but_zero_column_ignored(fitted):
    model, _, _ = fitted
    assert model.predict(pd.DataFrame({"Li": [0.5], "S": [0.5], "Xe": [0.0]})).shape == (1,)
    with pytest.raises(ConstrictError, match="column.*sei_composition"):
        model.predict(pd.DataFrame({"Li": [0.5], "S": [0.5], "sei_composition": ["x"]}))
    with pytest.raises(UnknownElementError):
        model.predict(pd.DataFrame({"Li": [0.5], "S": [0.4], "Xe": [0.1]}))


def test_shap_additivity(fitted, rows):
    model, _, test = fitted
    X = rows.loc[test[:5], model.features]
    values = model.explain(X)
    assert list(values.columns) == model.features and values.shape == (5, len(model.features))
    assert values.attrs["output"] == "log1p(kcrit_gpa)"
    np.testing.assert_allclose(values.sum(axis=1) + values.attrs["base_value"], np.log1p(model.predict(X)),
                               atol=1e-6)


def test_node_count_checked():
    rng = np.random.default_rng(0)
    X, y = rng.random((20_000, 2)), rng.random(20_000)
    forest = ExtraTreesRegressor(n_estimators=1, random_state=0).fit(X, y)
    assert forest.estimators_[0].tree_.node_count >= MAX_TREE_NODES
    with pytest.raises(ConstrictError, match="32767"):
        check_tree_size(forest)
    frame = pd.DataFrame(X, columns=["Li", "S"])
    with pytest.raises(ConstrictError, match="nodes"):
        KcritSurrogate(n_estimators=1, min_samples_leaf=1).fit(frame, y)
    with pytest.raises(ConfigError, match="max_leaf_nodes"):
        KcritSurrogate(max_leaf_nodes=20_000).fit(frame, y)
    with pytest.raises(ConfigError, match="target_transform"):
        KcritSurrogate(target_transform="sqrt").fit(frame, y)


@pytest.mark.parametrize(("param", "value"), [
    ("n_estimators", 0), ("min_samples_leaf", 0), ("max_features", 1.5), ("max_features", 0.0),
    ("cap_gpa", 0.0), ("background_size", 0), ("max_leaf_nodes", 1), ("voltage_v", "4 V"),
])
def test_parameter_constraints_refuse_at_fit(param, value):
    """scikit-learn's _parameter_constraints, checked at fit, raise one ConfigError line naming the parameter."""
    assert param in KcritSurrogate._parameter_constraints
    frame = pd.DataFrame({"Li": [0.2, 0.5, 0.7], "S": [0.8, 0.5, 0.3]})
    model = KcritSurrogate(**{param: value})
    with pytest.raises(ConfigError, match=param) as caught:
        model.fit(frame, [1.0, 2.0, 3.0])
    assert "\n" not in str(caught.value)


def test_fit_records_input_features_and_info_through_one_writer():
    frame = pd.DataFrame({"Li": [0.2, 0.5, 0.7, 0.4], "S": [0.8, 0.5, 0.3, 0.6]})
    model = KcritSurrogate(n_estimators=3, min_samples_leaf=1).fit(frame, [1.0, 2.0, 3.0, 1.5])
    assert model.n_features_in_ == 2 and list(model.feature_names_in_) == ["Li", "S"]
    before = dict(model.info_)
    assert model.set_info(holdout={}) is model
    assert model.info_ == {**before, "holdout": {}}


def test_persist_does_not_import_the_model():
    """The file format knows nothing of KcritSurrogate: no import circle between model and persist."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(persist))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not any(m and m.startswith("constrict.surrogate") for m in imported)


# -- persistence ----------------------------------------------------------


def test_save_load_predict_identical(fitted, rows, tmp_path):
    model, _, test = fitted
    X = rows.loc[test, model.features]
    path = model.save(tmp_path / "m.skops")
    loaded = KcritSurrogate.load(path)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(loaded.predict_trees(X), model.predict_trees(X))
    pd.testing.assert_frame_equal(loaded.explain(X.iloc[:3]), model.explain(X.iloc[:3]))
    assert loaded.features == model.features and loaded.voltage_v == VOLTAGE_V
    assert loaded.get_params() == model.get_params()
    assert loaded.info_["training_data_sha256"] == model.info_["training_data_sha256"]
    assert loaded.info_["versions"]["scikit-learn"] == persist.library_versions()["scikit-learn"]


def test_other_scikit_learn_refused_other_numpy_warned(fitted, tmp_path, monkeypatch):
    model, _, _ = fitted
    real = persist.library_versions()
    monkeypatch.setattr(persist, "library_versions", lambda: {**real, "scikit-learn": "0.1"})
    model.save(tmp_path / "old_sklearn.skops")
    monkeypatch.setattr(persist, "library_versions", lambda: {**real, "numpy": "0.1"})
    model.save(tmp_path / "old_numpy.skops")
    monkeypatch.undo()
    with pytest.raises(ConstrictError, match="scikit-learn 0.1"):
        load_model(tmp_path / "old_sklearn.skops")
    with pytest.warns(VersionWarning, match="numpy 0.1"):
        load_model(tmp_path / "old_numpy.skops")


def test_foreign_files_refused(tmp_path):
    sio.dump({"format": "x", "f": functools.partial(print)}, tmp_path / "foreign.skops")
    with pytest.raises(SchemaError, match="refused.*functools.partial") as info:
        load_model(tmp_path / "foreign.skops")
    assert "\n" not in str(info.value)
    (tmp_path / "junk.skops").write_text("not a zip")
    with pytest.raises(SchemaError, match="not a skops file"):
        load_model(tmp_path / "junk.skops")
    sio.dump({"format": "something else"}, tmp_path / "other.skops")
    with pytest.raises(SchemaError, match="not a constrict.surrogate"):
        load_model(tmp_path / "other.skops")


def test_damaged_tree_refused(fitted, tmp_path):
    model, _, _ = fitted
    path = model.save(tmp_path / "m.skops")
    loaded = load_model(path)
    loaded.estimator_.estimators_[0].tree_.children_left[0] = 10**6
    with pytest.raises(SchemaError, match="out of range"):
        persist._check_trees(loaded.estimator_, len(loaded.features), path)


# -- evaluation -----------------------------------------------------------


def test_regression_metrics_by_hand():
    got = regression_metrics(np.array([0.0, 2.0, 4.0]), np.array([1.0, 2.0, 3.0]))
    assert got["rmse_gpa"] == pytest.approx(np.sqrt(2 / 3))
    assert got["mae_gpa"] == pytest.approx(2 / 3)
    assert got["std_gpa"] == pytest.approx(np.sqrt(8 / 3))
    assert got["r2"] == pytest.approx(1 - 2 / 8)
    assert got["rmse_over_std"] == pytest.approx(0.5)
    rows = metric_rows(np.array([1.0, 2.0, 300.0]), np.array([1.0, 3.0, 100.0]), 100.0, model="m")
    assert [(r["target_set"], r["n_test"]) for r in rows] == [("all_finite", 3), ("capped", 2)]


def test_evaluate_voltage_table(rows, table):
    options = SurrogateOptions(n_estimators=N_TREES, compare_transforms=("raw", "log1p"),
                               compare_models=("hist_gradient_boosting", "extra_trees_magpie"))
    result = evaluate_voltage(rows, element_columns(table), VOLTAGE_V, options)
    metrics = result.metrics
    assert list(metrics.columns) == list(METRIC_COLUMNS)
    assert set(metrics["split"]) == {"random", "grouped", "electrolyte", "random_determined"}
    assert set(metrics["model"]) == {"extra_trees", "mean", "knn", "hist_gradient_boosting", "extra_trees_magpie"}
    assert set(metrics.loc[metrics["model"] == "extra_trees", "target_transform"]) == {"raw", "capped", "log1p"}
    assert metrics[["rmse_gpa", "mae_gpa", "r2"]].notna().all().all()
    assert not metrics.duplicated(["split", "fold", "model", "target_transform", "target_set"]).any()
    determined = metrics[metrics["training_rows"] == "determined"]
    assert set(determined["split"]) == {"random_determined"} and set(determined["model"]) == {"extra_trees", "mean"}
    assert set(metrics["target_set"]) == {"all_finite", "capped", "determined"}
    on_all = metrics.query("split == 'random' and model == 'extra_trees' and fold == 'holdout'").set_index("target_set")
    assert on_all.loc["determined", "n_test"] < on_all.loc["all_finite", "n_test"]  # the fixture has undetermined rows
    split = determined.query("model == 'extra_trees' and target_set == 'all_finite'").iloc[0]
    assert split["n_train"] + split["n_test"] == rows["kcrit_determined"].sum()  # the determined rows only
    assert result.model.info_["holdout"]["capped"]["rmse_gpa"] == pytest.approx(metrics.query(
        "split == 'random' and model == 'extra_trees' and target_set == 'capped'")["rmse_gpa"].item())
    assert set(result.predictions["split"]) == {"random", "grouped", "electrolyte"}
    folds = metrics.query("split == 'electrolyte' and model == 'extra_trees' and target_set == 'all_finite'")
    pooled = folds[folds["fold"] == "pooled"]
    assert len(pooled) == 1 and pooled["n_test"].item() == folds.loc[folds["fold"] != "pooled", "n_test"].sum()


def test_evaluate_voltage_on_a_handful_of_rows(rows, table):
    """A tiny campaign (the workflow tests) still trains and reports what it can."""
    result = evaluate_voltage(rows.iloc[:6], element_columns(table), VOLTAGE_V, SurrogateOptions(n_estimators=3))
    assert result.model.info_["n_train"] >= 5
    result = evaluate_voltage(rows.iloc[:1], element_columns(table), VOLTAGE_V, SurrogateOptions(n_estimators=3))
    assert result.metrics.empty and result.model.info_["holdout"] == {}


# -- CLI ------------------------------------------------------------------


@pytest.fixture
def models_dir(fitted, tmp_path):
    model, _, _ = fitted
    model.set_info(
        holdout={"capped": {"rmse_gpa": 3.21, "n_test": 60}, "all_finite": {"rmse_gpa": 9.8, "n_test": 67}},
        training_data={"screen": "results/screen/screen.parquet", "screen_sha256": "ab" * 32,
                       "convention": "ion_metal", "electrolytes": "Li7P3S11;Na3PS4"},
    )
    model.save(tmp_path / model_name(VOLTAGE_V))
    return tmp_path


def test_cli_predict(models_dir, capsys):
    assert main(["predict", "Li0.364P0.110S0.388I0.138", "--voltage", "4", "--models", str(models_dir)]) == 0
    out = capsys.readouterr().out
    assert "at 4 V" in out and "RMSE 3.21 GPa" in out and "results/screen/screen.parquet" in out
    assert "Li0.364P0.110S0.388I0.138: Kcrit = " in out
    assert main(["predict", "Li3PS4", "--models", str(models_dir), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got[0]["voltage_v"] == 4.0 and got[0]["kcrit_gpa"] > 0


@pytest.mark.parametrize("argv, match", [
    (["predict", "Li3PS4Xe"], "Xe never seen"),
    (["predict", "Li3)PS4"], "cannot parse"),
    (["predict", "Li3PS4", "--voltage", "3"], "no surrogate for 3 V"),
])
def test_cli_predict_errors(models_dir, capsys, argv, match):
    assert main([*argv, "--models", str(models_dir)]) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1


def test_cli_predict_without_models_says_how_to_train(tmp_path, capsys):
    assert main(["predict", "Li3PS4", "--models", str(tmp_path / "none")]) == 2
    assert "make run" in capsys.readouterr().err
    with pytest.raises(ConstrictError, match="make run"):
        find_model(4.0, tmp_path)


def test_no_warning_on_load_with_same_versions(fitted, tmp_path):
    model, _, _ = fitted
    model.save(tmp_path / "m.skops")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_model(tmp_path / "m.skops")


def test_screen_columns_exist_in_the_result_schema():
    from constrict.data.tables import RESULT_COLUMNS

    assert set(SCREEN_COLUMNS) <= set(RESULT_COLUMNS)


def test_defaults_are_the_config_schema_defaults():
    from constrict.core.config import validate_config

    config = validate_config({})
    options = SurrogateOptions.from_config(config["surrogate"], random_state=config["random_state"])
    assert options == SurrogateOptions()
    model = KcritSurrogate().get_params()
    assert {k: model[k] for k in ("n_estimators", "min_samples_leaf", "max_leaf_nodes", "max_features",
                                  "target_transform", "cap_gpa", "background_size")} == {
        k: config["surrogate"][k] for k in ("n_estimators", "min_samples_leaf", "max_leaf_nodes", "max_features",
                                            "target_transform", "cap_gpa", "background_size")}
    with pytest.raises(ConfigError, match="unknown key"):
        SurrogateOptions.from_config({**config["surrogate"], "n_trees": 3})


def test_pipeline_files(tmp_path):
    """The steps the rules call, on the sample: table, one voltage, plot, metrics."""
    from constrict.surrogate.pipeline import collect_metrics, parity, prepare, study, train_voltage

    out = tmp_path / "surrogate"
    counts = prepare(SAMPLE, out / "training_table.parquet", out / "exclusions.tsv")
    assert pd.read_csv(out / "exclusions.tsv", sep="\t").equals(counts)
    options = SurrogateOptions(n_estimators=5, compare_models=())
    paths = {"model_path": out / "models" / model_name(VOLTAGE_V), "metrics_path": out / "m_4V.tsv",
             "predictions_path": out / "p_4V.parquet"}
    train_voltage(out / "training_table.parquet", VOLTAGE_V, options, **paths)
    model = load_model(find_model(VOLTAGE_V, out / "models"))
    assert model.info_["training_data"]["screen"] == str(SAMPLE)
    assert model.info_["training_data"]["electrolytes"] == "Li10GeP2S12;Li10SiP2S12;Li7P3S11;Na3PS4"
    assert model.info_["holdout"]["capped"]["n_test"] > 0
    png = parity(paths["predictions_path"], out / "parity_4V.png", voltage_v=VOLTAGE_V, cap_gpa=100.0)
    assert png.stat().st_size > 10_000
    metrics = collect_metrics([paths["metrics_path"]], out / "metrics.tsv")
    assert list(metrics.columns) == list(METRIC_COLUMNS) and len(metrics) == len(pd.read_csv(out / "metrics.tsv",
                                                                                              sep="\t"))
    with pytest.raises(ConstrictError, match="no finite Kcrit at 5 V"):
        train_voltage(out / "training_table.parquet", 5.0, options, **paths)
    sizes = study(out / "training_table.parquet", VOLTAGE_V, options, out / "tree_size_4V.tsv")
    assert set(sizes["target_transform"]) == {"raw", "capped", "log1p"}
    assert (sizes["max_tree_nodes"] < MAX_TREE_NODES).all() and (out / "tree_size_4V.tsv").is_file()

"""The reproduction study: conventions and normalisations from stored columns, the claims' verdicts, the table.

Real data: a few electrolyte | coating pairs of the offline MP snapshot,
evaluated by the engine; the table is built on a tiny results tree made by
the study itself (design and surrogate stages not run).
"""

import math

import numpy as np
import pandas as pd
import pytest

from constrict import STRAIN_CONVENTIONS
from constrict.core.config import validate_config
from constrict.data.entries import EntrySet
from constrict.data.sources import restrict_to_chemical_systems
from constrict.data.tables import results_frame
from constrict.physics.evaluate import evaluate_interface
from constrict.physics.kcrit import kcrit_linear_gpa
from constrict.reproduction import check_reproduction_config
from constrict.reproduction.claims import (
    BY_VARIANT,
    DIFFERS,
    NOT_RUN,
    REPRODUCED,
    UNSTATED,
    Candidate,
    Claim,
    closest,
    score,
    verdict,
)
from constrict.reproduction.variants import NORMALISATIONS, ion_fraction, kcrit_variant, strain, variant_stats

PAIRS = [  # electrolyte, working ion, coatings
    ("Li10GeP2S12", "Li", ["LiNbO3", "Li3PO4", "LiCl", "Al2O3", "Li2ZrO3"]),
    ("Li7P3S11", "Li", ["LiNbO3", "LiF", "Li3BO3", "LiAlO2"]),
    ("Na3PS4", "Na", ["NaCl", "Na2O", "NaNbO3"]),
]
VOLTAGES_V = [0.3, 1.0, 2.0, 3.0, 4.0]


@pytest.fixture(scope="module")
def small_set(snapshot_frame) -> EntrySet:
    systems = ["Ge-Li-Nb-O-P-S", "Ge-Li-O-P-S", "Cl-Ge-Li-P-S", "Al-Ge-Li-O-P-S", "Ge-Li-O-P-S-Zr",
               "Li-Nb-O-P-S", "F-Li-P-S", "B-Li-O-P-S", "Al-Li-O-P-S", "Cl-Na-P-S", "Na-O-P-S", "Na-Nb-O-P-S"]
    return EntrySet.from_frame(restrict_to_chemical_systems(snapshot_frame, systems))


@pytest.fixture(scope="module")
def rows_by_convention(small_set) -> dict:
    """The same real pairs evaluated by the engine under each convention: convention -> result rows."""
    out = {}
    for convention in STRAIN_CONVENTIONS:
        rows = []
        for electrolyte, ion, coatings in PAIRS:
            for coating in coatings:
                found = evaluate_interface(small_set, electrolyte, coating, voltages_v=VOLTAGES_V, working_ion=ion,
                                           convention=convention)
                rows += [{**r, "electrolyte_label": electrolyte} for r in found]
        out[convention] = results_frame(rows)
    return out


def test_every_convention_from_the_stored_columns_equals_the_engine(rows_by_convention):
    """Kcrit and strain of each convention from the columns of a run under any convention equal the engine's.

    Bit for bit from a run under the same convention; from a run under
    another, to the LP's precision (its grand-potential LP has other
    columns, so the amounts differ in the last bits), with the same
    products and the same zeros and infinities.
    """
    n_pairs = sum(len(coatings) for _, _, coatings in PAIRS)
    for stored_convention, stored in rows_by_convention.items():
        assert len(stored) == n_pairs * len(VOLTAGES_V)
        for convention, engine in rows_by_convention.items():
            assert engine["products"].tolist() == stored["products"].tolist()
            ours, theirs = kcrit_variant(stored, convention), engine["kcrit_gpa"].to_numpy()
            eps, eps_engine = strain(stored, convention), engine[f"eps_{convention}"].to_numpy()
            if convention == stored_convention:
                np.testing.assert_array_equal(ours, theirs)
                np.testing.assert_array_equal(eps, eps_engine)
            else:
                np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=0)
                np.testing.assert_allclose(eps, eps_engine, rtol=1e-9, atol=1e-12)
    # the conventions do differ on these rows (reduction at 0.3 and 1 V, oxidation at 4 V)
    stored = rows_by_convention["ion_metal"]
    k = {c: kcrit_variant(stored, c) for c in STRAIN_CONVENTIONS}
    assert not np.array_equal(k["ion_metal"], k["released_metal"], equal_nan=True)
    assert not np.array_equal(k["reservoir"], k["released_metal"], equal_nan=True)
    reducing = (stored["voltage_v"].to_numpy() < 1.5) & (stored["ion_released_per_atom"].to_numpy() < 0)
    assert reducing.sum() >= 10
    assert np.isposinf(k["ion_metal"][reducing]).all() and np.isfinite(k["released_metal"][reducing]).any()


def test_normalisations_scale_kcrit_as_derived(rows_by_convention):
    rows = rows_by_convention["ion_metal"]
    base = kcrit_variant(rows, "released_metal")
    eps = strain(rows, "released_metal")
    x = ion_fraction(rows)
    finite = np.isfinite(base) & (base > 0)
    assert finite.sum() > 10 and (0 < x[finite]).all() and (x[finite] < 1).all()
    expected = {"v0_products": base / (1 + eps), "energy_per_non_ion_atom": base / (1 - x),
                "volume_per_non_ion_atom": base * (1 - x)}
    for normalisation in NORMALISATIONS[1:]:
        got = kcrit_variant(rows, "released_metal", normalisation)
        np.testing.assert_allclose(got[finite], expected[normalisation][finite], rtol=1e-12)
        assert np.array_equal(np.isinf(got), np.isinf(base)) and np.array_equal(got == 0, base == 0)
    # energy and volume both per atom of the non-ion elements: the engine's Kcrit again
    both = [kcrit_linear_gpa(d / (1 - xi), e, v / (1 - xi)) for d, e, v, xi in
            zip(rows["dg_ev_per_atom"][finite], eps[finite], rows["v_r_a3_per_atom"][finite], x[finite], strict=True)]
    np.testing.assert_allclose(both, base[finite], rtol=1e-12)


def test_ion_fraction_reads_the_working_ion(rows_by_convention):
    rows = rows_by_convention["ion_metal"]
    x = ion_fraction(rows)
    reacts = rows["reacts"].to_numpy()
    na = (rows["working_ion"] == "Na").to_numpy() & reacts
    assert na.any() and (x[na] > 0).all() and (x[reacts] < 1).all()
    assert (~reacts).any() and np.isnan(x[~reacts]).all()


def test_variant_stats_match_the_summary(rows_by_convention):
    from constrict.campaign.statistics import kcrit_stats

    rows = rows_by_convention["ion_metal"]
    stats = variant_stats(rows, conventions=["ion_metal"], normalisations=["v0_reactant"], cap_gpa=100)
    summary = kcrit_stats(rows)
    summary = summary[summary["quantity"] == "kcrit_gpa"].set_index(["electrolyte", "voltage_v"])
    mine = stats[stats["target_set"] == "all_finite"].set_index(["electrolyte", "voltage_v"])
    for key, row in mine.iterrows():
        ref = summary.loc[key]
        assert (row.n_finite, row.n_inf) == (ref.n_finite, ref.n_inf)
        for stat in ("mean_gpa", "median_gpa", "std_gpa"):
            assert row[stat] == pytest.approx(ref[stat], nan_ok=True)
    capped = stats[stats["target_set"] == "capped"]
    assert (capped["n_finite"].to_numpy() <= mine["n_finite"].to_numpy()).all()


def test_restrict_to_chemical_systems_equals_the_subset_test(snapshot_frame):
    systems = ["Li-P-S", "S-P-Li-Ge", "Li-Nb-O", "Cl-Na-P-S", "Li-P-S-O-F-Cl-Br-I-Ge-Si-Na-Nb-Zr-Ta-B"]
    sets = [set(s.split("-")) for s in systems]
    brute = snapshot_frame[snapshot_frame["elements"].map(lambda els: any(set(els) <= s for s in sets))]
    fast = restrict_to_chemical_systems(snapshot_frame, systems)
    assert len(fast) > 1000
    pd.testing.assert_frame_equal(fast, brute.reset_index(drop=True))


def test_correlation_with_given_fractions_equals_without(rows_by_convention):
    from constrict.campaign.statistics import element_fractions, element_kcrit_correlation

    rows = rows_by_convention["ion_metal"]
    fractions = element_fractions(rows["sei_composition"].tolist())
    a = element_kcrit_correlation(rows, voltage_v=4.0, convention="ion_metal", min_rows=2)
    b = element_kcrit_correlation(rows, voltage_v=4.0, convention="ion_metal", min_rows=2, fractions=fractions)
    pd.testing.assert_frame_equal(a, b)


# -- the claims' scoring and verdicts --------------------------------------------------------------------------


def test_scores_of_each_kind():
    window = Claim("w", "Intro", "window", "interval", (1.0, 4.0), "V", 0.3)
    assert score(window, (1.2, 3.76)) == (pytest.approx(0.44), True)
    assert score(window, (1.72, 3.76))[1] is False
    stats = Claim("s", "Fig. 3a", "stats", "stats", (18.5, 14.8, 13.0), "GPa", 0.15)
    assert score(stats, (18.7, 16.8, 12.1)) == (pytest.approx(2.0 / 14.8), True)
    assert score(stats, (22.7, 20.6, 13.5))[1] is False
    rng = Claim("r", "Table S1", "range", "range", (15.0, 17.0), "GPa", 0.15)
    assert score(rng, [15.5, 16.9]) == (0.0, True)
    assert score(rng, [14.0, 19.0]) == (pytest.approx(2.0 / 17.0), True)
    assert score(rng, [14.0, np.inf]) == (np.inf, False)
    signs = Claim("n", "Fig. 3b", "signs", "negative", elements=("O", "F"), unit="")
    assert score(signs, {"O": -0.3, "F": -0.01}) == (0.0, True)
    assert score(signs, {"O": -0.3, "F": np.nan}) == (1.0, False)
    falls = Claim("f", "Fig. 5b", "falls", "falls", (), "GPa")
    assert score(falls, [3.0, 2.0, 1.0]) == (pytest.approx(-1.0), True)
    assert score(falls, [1.0, 1.0, 1.0]) == (1.0, False)
    assert score(falls, [0.6228769800001, 0.6228769800002, 0.62287698]) == (1.0, False)  # round-off, no trend
    assert score(falls, [2.0, 3.0, 1.9])[1] is True
    below = Claim("b", "Fig. S4", "below", "below", (4.6,), "GPa", 0.0)
    assert score(below, [0.2, 4.5]) == (0.0, True) and score(below, [4.7])[1] is False
    expands = Claim("e", "Intro", "limits", "expands", (0.30,), "", 0.15)
    assert score(expands, (0.51, 0.23))[1] is False and score(expands, (0.51, 0.27))[1] is True
    strain_claim = Claim("d", "Intro", "decay", "number", (0.02,), "", 0.01, absolute=True)
    assert score(strain_claim, (-0.006,)) == (pytest.approx(0.026), False)
    assert math.isnan(score(Claim("u", "Fig. S1", "u", "unstated"), (1.0, 2.0, 3.0))[0])


def test_verdicts_and_the_closest_variant():
    claim = Claim("w", "Intro", "window", "interval", (1.0, 4.0), "V", 0.3)
    default = Candidate("default", (1.72, 3.76), "1.72-3.76 V")
    a = Candidate("reservoir", (1.09, 3.76), "1.09-3.76 V")
    b = Candidate("released_metal", (1.09, 3.76), "1.09-3.76 V")
    nearest = closest(claim, [default, a, b])
    assert nearest.label == "reservoir = released_metal" and nearest.value == (1.09, 3.76)
    assert verdict(claim, default, nearest) == BY_VARIANT
    assert verdict(claim, b, nearest) == REPRODUCED
    far = Candidate("x", (0.4, 3.0), "0.40-3.00 V")
    assert verdict(claim, default, closest(claim, [default, far])) == DIFFERS
    assert verdict(claim, None, None) == NOT_RUN
    assert verdict(Claim("u", "Fig. S1", "u", "unstated"), default, None) == UNSTATED
    many = [Candidate(f"v{i}", (1.09, 3.76), "same") for i in range(5)]
    assert closest(claim, many).label == "v0 (and 4 more alike)"


def test_config_checks():
    config = validate_config({"voltages_v": [2, 3]})
    with pytest.raises(Exception, match="voltage_v: 4 V is not one of voltages_v"):
        check_reproduction_config(config)
    config = validate_config({"reproduction": {"surrogate": {"variants": [{"name": "a"}, {"name": "a"}]}}})
    with pytest.raises(Exception, match="a given twice"):
        check_reproduction_config(config)
    check_reproduction_config(validate_config({}))


# -- the study and the table on a tiny results tree -------------------------------------------------------------

TINY_CONFIG = {
    "electrolytes": [
        {"formula": "Li10GeP2S12", "working_ion": "Li"},
        {"formula": "Li7P3S11", "working_ion": "Li"},
        {"formula": "Na3PS4", "working_ion": "Na", "stand_in_for": "Na7P3S11"},
    ],
    "voltages_v": VOLTAGES_V,
    "reproduction": {
        "sample": {"coatings": 3},
        "surrogate": {"max_train_rows": 100, "variants": [
            {"name": "campaign"}, {"name": "released_metal", "convention": "released_metal"},
            {"name": "lsps_rows", "rows": "Li10SiP2S12"}]},
    },
}


@pytest.fixture(scope="module")
def tiny_results(tmp_path_factory, rows_by_convention, small_set, snapshot_frame, repo_root):
    """A results tree made by the study from the real rows: screen, entries, coatings, summary; no design."""
    from constrict.campaign.statistics import kcrit_stats
    from constrict.core.config import electrolyte_label
    from constrict.reproduction.stage import run_study

    config = validate_config(TINY_CONFIG)
    results = tmp_path_factory.mktemp("results")
    screen = rows_by_convention["ion_metal"].copy()
    labels = {e["formula"]: electrolyte_label(e) for e in config["electrolytes"]}
    by_formula = {small_set.reduced_formula(small_set.find(f)): f for f in labels}
    screen["electrolyte"] = screen["electrolyte"].map(by_formula)
    screen["electrolyte_label"] = screen["electrolyte"].map(labels)
    (results / "screen").mkdir()
    screen.to_parquet(results / "screen" / "screen.parquet")
    (results / "summary").mkdir()
    kcrit_stats(screen).to_parquet(results / "summary" / "kcrit_stats.parquet")
    entries = small_set.frame
    entries.to_parquet(results / "entries.parquet")
    coatings = snapshot_frame[snapshot_frame["reduced_formula"].isin(
        [c for _, _, cs in PAIRS for c in cs])].reset_index(drop=True)
    coatings.to_parquet(results / "coatings.parquet")
    written = run_study(screen=results / "screen" / "screen.parquet", entries=results / "entries.parquet",
                        coatings=results / "coatings.parquet", other_source=repo_root / "data" / "oqmd_offline.parquet",
                        out_dir=results / "reproduction", config=config)
    return results, config, written


def test_the_study_writes_every_table(tiny_results):
    from constrict.reproduction.stage import TABLES

    results, config, written = tiny_results
    assert set(written) == set(TABLES)
    for name in TABLES:
        assert (results / "reproduction" / f"{name}.parquet").is_file()
        assert (results / "reproduction" / f"{name}.tsv").is_file()
    samples = pd.read_parquet(written["samples"])
    assert set(samples["source"]) == {"mp_offline", "oqmd_offline"}
    assert {"Li7P3S11", "Na3PS4", "hull:Na7P3S11"} <= set(samples["electrolyte_label"])
    assert samples["coating_id"].nunique() >= 3
    stats = pd.read_parquet(written["stats"])
    assert set(stats["data"]) == {"screen", "sample"}
    assert set(stats["normalisation"]) == set(NORMALISATIONS) and set(stats["convention"]) == set(STRAIN_CONVENTIONS)
    surrogate = pd.read_parquet(written["surrogate"])
    assert set(surrogate["name"]) == {"campaign", "released_metal"}  # no LSPS rows in this screen: left out
    windows = pd.read_parquet(written["windows"])
    lgps = windows[(windows["electrolyte"] == "Li10GeP2S12") & (windows["keff_gpa"] == 15)].set_index("convention")
    assert lgps.loc["released_metal", "v_low_v"] < lgps.loc["ion_metal", "v_low_v"]
    assert np.isposinf(lgps.loc["ion_metal", "kcrit_below_gpa"])
    strains = pd.read_parquet(written["strains"])
    limits = strains[(strains["electrolyte"] == "Li10GeP2S12") & (strains["point"] == "voltage")]
    assert (limits[limits["convention"] == "released_metal"]["eps"] > 0).all()


def test_the_table_reads_every_value_from_the_results(tiny_results):
    from constrict.reproduction.claims import VERDICTS
    from constrict.reproduction.table import TABLE_COLUMNS, Settings, build_table, markdown

    results, config, written = tiny_results
    table = build_table(results, Settings.from_config(config))
    assert table.columns.tolist() == list(TABLE_COLUMNS)
    assert table["claim_id"].is_unique and table["verdict"].isin(VERDICTS).all()
    by_id = table.set_index("claim_id")
    windows = pd.read_parquet(written["windows"])
    w = windows[(windows["electrolyte"] == "Li10GeP2S12") & (windows["keff_gpa"] == 10)].set_index("convention")
    for convention in STRAIN_CONVENTIONS:
        low, high = w.loc[convention, ["v_low_v", "v_high_v"]]
        assert by_id.loc["intro-window-Li10GeP2S12-10GPa", f"ours_{convention}"] == f"{low:.2f}-{high:.2f} V"
    stats = pd.read_parquet(results / "summary" / "kcrit_stats.parquet")
    lps = stats[(stats["electrolyte"] == "Li7P3S11") & (stats["voltage_v"] == 4) & (stats["quantity"] == "kcrit_gpa")]
    assert by_id.loc["fig3a-Li7P3S11", "ours"].startswith(f"{lps.iloc[0].mean_gpa:.1f} / ")
    assert by_id.loc["fig3a-Na3PS4", "verdict"] == UNSTATED
    for claim_id in ("fig4c-parent", "tableS1-A", "fig5b-kcrit", "figS4-2V", "fig4b-rmse"):
        assert by_id.loc[claim_id, "verdict"] == NOT_RUN  # no design stage; too few rows for an RMSE
    text = markdown(table)
    assert text.count("\n") == len(table) + 2 and f"ours ({config['convention']})" in text
    assert "not run |" in text  # no tolerance beside a claim that was not scored


def test_docs_blocks_and_the_command(tiny_results, tmp_path, capsys):
    from constrict.reproduction.__main__ import main
    from constrict.reproduction.table import Settings, build_table, write_claims

    results, config, _ = tiny_results
    table = build_table(results, Settings.from_config(config))
    write_claims(table, results / "reproduction" / "claims.parquet", results / "reproduction" / "claims.tsv")
    doc = tmp_path / "doc.md"
    doc.write_text("intro\n<!-- generated:table -->\nold\n<!-- end:table -->\nmiddle\n"
                   "<!-- generated:conventions -->\n<!-- end:conventions -->\n"
                   "<!-- generated:normalisations -->\nx\n<!-- end:normalisations -->\nend\n")
    assert main(["--markdown", str(results), "--update", str(doc)]) == 0
    text = doc.read_text()
    assert "old" not in text and text.startswith("intro\n") and text.endswith("end\n")
    assert "| released_metal |" in text and "v0_products" in text and "Li10GeP2S12 window at Keff" in text
    assert "LGPS window at 5, 10, 15 GPa" in text
    assert main(["--markdown", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not found" in err


def test_design_variants_equal_the_design_stage_physics(snapshot_frame):
    """The paper's first glass and child A vs LSPS: our Kcrit under the campaign's settings is verify()'s."""
    from constrict.design.physics import Target, verify
    from constrict.reproduction.samples import design_rows, design_variants, pair_systems

    formulas = ["Li0.364P0.11S0.388I0.138", "Li0.324P0.098S0.346I0.138Cl0.026F0.042O0.04"]
    systems = pair_systems(["Li10SiP2S12"], formulas)
    entry_set = EntrySet.from_frame(restrict_to_chemical_systems(snapshot_frame, systems))
    pairs = pd.DataFrame([{"electrolyte": "Li10SiP2S12", "formula": f, "working_ion": "Li", "voltage_v": v}
                          for f in formulas for v in (3.0, 4.0)])
    rows = design_rows(entry_set, pairs)
    assert (rows["electrolyte"] == "Li10SiP2S12").all() and len(rows) == 4
    table = design_variants(rows, conventions=STRAIN_CONVENTIONS, normalisations=NORMALISATIONS, keff_gpa=5.0)
    assert len(table) == 4 * len(STRAIN_CONVENTIONS) * len(NORMALISATIONS)
    for convention in STRAIN_CONVENTIONS:
        ours = table[(table["convention"] == convention) & (table["normalisation"] == "v0_reactant")]
        for formula in formulas:
            engine = verify(entry_set, formula, Target("Li10SiP2S12", convention=convention), [3.0, 4.0])
            mine = ours[ours["formula"] == formula].sort_values("voltage_v")["kcrit_gpa"].to_numpy()
            np.testing.assert_allclose(mine, [r["design_kcrit_gpa"] for r in engine], rtol=1e-9)
    at4 = table[(table["voltage_v"] == 4.0) & (table["convention"] == "ion_metal")].set_index("normalisation")
    assert (at4.loc["v0_products", "kcrit_gpa"].to_numpy() < at4.loc["v0_reactant", "kcrit_gpa"].to_numpy()).all()
    energy = at4.loc["v0_reactant"]
    assert (energy["energy_keff_ev_per_atom"] >= energy["dg_ev_per_atom"]).all()


def test_surrogate_tasks_on_real_rows(rows_by_convention):
    from constrict.reproduction.surrogate_tasks import TaskVariant, split, surrogate_variants, task_rows

    rows = pd.concat([rows_by_convention["ion_metal"]] * 3, ignore_index=True)  # every SEI three times
    surrogate = validate_config({})["surrogate"]
    dedup = TaskVariant.from_config({"name": "a"}, surrogate=surrogate, convention="ion_metal")
    every = TaskVariant.from_config({"name": "b", "deduplicate": False, "test_rows": 5, "n_estimators": 3},
                                    surrogate=surrogate, convention="ion_metal")
    assert (dedup.n_estimators, dedup.rows, every.n_estimators) == (surrogate["n_estimators"], "pooled", 3)
    one, three = task_rows(rows, dedup, 4.0), task_rows(rows, every, 4.0)
    at4 = rows[(rows["voltage_v"] == 4.0) & rows["reacts"] & np.isfinite(rows["kcrit_gpa"])]
    assert len(three) == len(at4) and len(one) == at4["sei_composition"].nunique() < len(at4) / 3 + 1
    assert np.isfinite(three["kcrit_gpa"]).all()
    train, test = split(len(three), every, random_state=0)
    assert len(test) == 5 and len(np.intersect1d(train, test)) == 0 and len(train) + 5 == len(three)
    metrics = surrogate_variants(rows, [dedup, every], voltage_v=4.0, random_state=0, max_train_rows=8)
    assert set(metrics["target_set"]) == {"all_finite", "capped"} and (metrics["n_train"] <= 8).all()
    assert metrics.loc[metrics["name"] == "b", "n_test"].max() == 5
    with pytest.raises(Exception, match="unknown key"):
        TaskVariant.from_config({"name": "c", "trees": 3}, surrogate=surrogate, convention="ion_metal")

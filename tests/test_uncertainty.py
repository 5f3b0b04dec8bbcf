"""Kcrit with error bars: per-phase sigmas, the first-order interval, the determined flag, the Monte-Carlo check."""

import math

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from constrict import EV_PER_A3_TO_GPA
from constrict.core.errors import ConfigError, SchemaError
from constrict.data.phase_evidence import energy_residual_ev
from constrict.data.sources import restrict_to_chemical_systems
from constrict.physics.electrochem import Decomposition, GroundState
from constrict.physics.evaluate import evaluate_interface
from constrict.physics.kcrit import kcrit_linear_gpa
from constrict.physics.montecarlo import baseline, coverage_table, nominal_share, run_monte_carlo
from constrict.physics.uncertainty import (
    INTERVAL_COLUMNS,
    POLYMORPH_SPREAD_MAX,
    PhaseSigmas,
    UncertaintyModel,
    interval_from_strain,
    kcrit_interval,
    phase_sigmas,
    read_evidence,
)

NAN = math.nan
SYSTEMS = ["Li-Nb-O-P-S", "Ca-Li-O-P-S-V", "Br-C-Li-P-Pr-S"]


@pytest.fixture(scope="module")
def sigmas(snapshot_set, snapshot_path):
    """The default per-phase sigmas of the whole offline table (the residual is fitted over all of it)."""
    return phase_sigmas(snapshot_set, evidence=read_evidence(snapshot_path))


@pytest.fixture(scope="module")
def small(snapshot_set, snapshot_frame, sigmas):
    """The entry set of two real chemical systems and the whole table's sigmas on its rows."""
    from constrict.data.entries import EntrySet

    entry_set = EntrySet.from_frame(restrict_to_chemical_systems(snapshot_frame, SYSTEMS))
    return entry_set, sigmas.for_entry_set(entry_set)


def _row(entry_set, sigmas, coating, voltage_v=4.0, **kw):
    (row,) = evaluate_interface(entry_set, "Li7P3S11", coating, voltages_v=[voltage_v], working_ion="Li",
                                sigmas=sigmas, **kw)
    return row


# -- the hand-computed case ---------------------------------------------------------------------------------


def _hand_sigmas(k=1.0):
    """Rows: 0 = R (10 Å³/atom), 1 and 2 = the two products (12 and 9 Å³/atom), 3 = the ion metal (20 Å³/atom)."""
    volume = np.array([10.0, 12.0, 9.0, 20.0])
    sv = np.array([0.02, 0.03, 0.01, 0.02])
    se = np.array([0.01, 0.02, 0.0, 0.0])
    return PhaseSigmas(np.array(["r", "p1", "p2", "li"], dtype=object), sv, sv * volume, se,
                       UncertaintyModel(coverage_k=k))


def test_two_products_give_the_hand_computed_bounds():
    # R = 1 atom of phase 0 (V_R 10); P = 0.6 of phase 1 + 0.4 of phase 2 (V_P 10.8); dG = -0.1 eV
    dec = Decomposition(4.0, {1: 0.6, 2: 0.4}, 0.0, -0.1, 10.0, 10.8, 20.0)
    r = GroundState(np.zeros(1), -1.0, {0: 1.0}, 10.0)
    got = kcrit_interval(dec, r, _hand_sigmas(), convention="reservoir", metal_row=3)
    s_v = math.sqrt((1 * 10 * 0.02) ** 2 + (0.6 * 12 * 0.03) ** 2 + (0.4 * 9 * 0.01) ** 2)  # 0.29657 Å³
    s_g = math.sqrt((1 * 0.01) ** 2 + (0.6 * 0.02) ** 2)  # 0.015620 eV
    assert got.eps_sigma == pytest.approx(s_v / 10, rel=1e-12)
    assert got.dg_sigma_ev_per_atom == pytest.approx(s_g, rel=1e-12)
    assert got.kcrit_lo_gpa == pytest.approx((0.1 - s_g) / (0.8 + s_v) * EV_PER_A3_TO_GPA, rel=1e-12)
    assert got.kcrit_hi_gpa == pytest.approx((0.1 + s_g) / (0.8 - s_v) * EV_PER_A3_TO_GPA, rel=1e-12)
    assert got.kcrit_lo_gpa == pytest.approx(12.3286, abs=1e-4) and got.kcrit_hi_gpa == pytest.approx(36.7963, abs=1e-4)
    assert not got.determined  # hi / lo = 2.98 > 2
    # ion_metal, 0.1 ion released: the metal's own volume uncertainty (0.1 x 20 x 0.02 Å³) joins in
    dec = Decomposition(4.0, {1: 0.6, 2: 0.4}, 0.1, -0.1, 10.0, 10.8, 20.0)
    got = kcrit_interval(dec, r, _hand_sigmas(), convention="ion_metal", metal_row=3)
    s_v2 = math.sqrt(s_v**2 + (0.1 * 20 * 0.02) ** 2)
    assert got.eps == pytest.approx(0.28) and got.eps_sigma == pytest.approx(s_v2 / 10, rel=1e-12)
    assert got.kcrit_lo_gpa == pytest.approx((0.1 - s_g) / (2.8 + s_v2) * EV_PER_A3_TO_GPA, rel=1e-12)
    assert got.kcrit_hi_gpa == pytest.approx((0.1 + s_g) / (2.8 - s_v2) * EV_PER_A3_TO_GPA, rel=1e-12)
    assert got.determined  # hi / lo = 1.70 <= 2


def test_a_phase_in_both_r_and_the_products_counts_once_by_its_net_amount():
    dec = Decomposition(4.0, {0: 0.5, 1: 0.3, 2: 0.2}, 0.0, -0.1, 10.0, 10.4, 20.0)
    r = GroundState(np.zeros(1), -1.0, {0: 1.0}, 10.0)
    got = kcrit_interval(dec, r, _hand_sigmas(), convention="reservoir", metal_row=3)
    s_v = math.sqrt((0.5 * 10 * 0.02) ** 2 + (0.3 * 12 * 0.03) ** 2 + (0.2 * 9 * 0.01) ** 2)
    assert got.eps_sigma == pytest.approx(s_v / 10, rel=1e-12)


def test_the_strain_whose_sign_is_not_certain_has_no_upper_bound():
    dec = Decomposition(4.0, {1: 0.6, 2: 0.4}, 0.0, -0.1, 10.0, 10.02, 20.0)  # eps 0.2 %
    r = GroundState(np.zeros(1), -1.0, {0: 1.0}, 10.0)
    got = kcrit_interval(dec, r, _hand_sigmas(), convention="reservoir", metal_row=3)
    assert got.kcrit_hi_gpa == math.inf and 0 < got.kcrit_lo_gpa < 100 and not got.determined


def test_stable_and_certainly_shrinking_are_determined():
    stable = interval_from_strain(0.0, 0.0, 10.0, 0.01, 0.01, UncertaintyModel())
    assert (stable.kcrit_lo_gpa, stable.kcrit_hi_gpa, stable.determined) == (0.0, 0.0, True)
    shrinks = interval_from_strain(-0.1, -0.2, 10.0, 0.01, 0.01, UncertaintyModel())
    assert (shrinks.kcrit_lo_gpa, shrinks.kcrit_hi_gpa, shrinks.determined) == (math.inf, math.inf, True)
    maybe = interval_from_strain(-0.1, -0.005, 10.0, 0.001, 0.01, UncertaintyModel())
    assert maybe.kcrit_hi_gpa == math.inf and math.isfinite(maybe.kcrit_lo_gpa) and not maybe.determined


def test_an_energy_range_reaching_zero_gives_lo_zero_and_not_determined():
    got = interval_from_strain(-0.01, 0.2, 10.0, 0.02, 0.0, UncertaintyModel())
    assert got.kcrit_lo_gpa == 0.0 and not got.determined


@settings(max_examples=300, deadline=None)
@given(dg=st.floats(-2.0, 0.0), eps=st.floats(-0.5, 0.5), v_r=st.floats(5.0, 60.0), s_g=st.floats(0.0, 0.5),
       s_e=st.floats(0.0, 0.5), k=st.floats(0.0, 4.0))
def test_the_interval_contains_the_point_value(dg, eps, v_r, s_g, s_e, k):
    got = interval_from_strain(dg, eps, v_r, s_g, s_e, UncertaintyModel(coverage_k=k))
    point = kcrit_linear_gpa(dg, eps, v_r)
    assert got.kcrit_lo_gpa <= point <= got.kcrit_hi_gpa
    wider = interval_from_strain(dg, eps, v_r, 2 * s_g, 2 * s_e, UncertaintyModel(coverage_k=k))
    assert wider.kcrit_lo_gpa <= got.kcrit_lo_gpa and wider.kcrit_hi_gpa >= got.kcrit_hi_gpa


# -- real interfaces -----------------------------------------------------------------------------------------


def test_li7p3s11_linbo3_at_4_v_is_determined(small):
    row = _row(*small, "LiNbO3")
    assert row["kcrit_gpa"] == pytest.approx(9.199, abs=1e-3)
    assert row["kcrit_lo_gpa"] < row["kcrit_gpa"] < row["kcrit_hi_gpa"] < 2 * row["kcrit_lo_gpa"]
    assert row["kcrit_determined"] is True and 0 < row["eps_sigma"] < 0.1 * row["eps_ion_metal"]


def test_a_tiny_strain_pair_of_the_screen_is_not_determined(small):
    row = _row(*small, "Pr5(CBr4)2")  # strain 0.26 %: "Kcrit 585 GPa" from a strain inside its own error
    assert row["eps_ion_metal"] == pytest.approx(0.0026, abs=1e-4) and row["kcrit_gpa"] > 500
    assert row["kcrit_hi_gpa"] == math.inf and row["kcrit_lo_gpa"] < 100
    assert row["kcrit_determined"] is False and row["eps_sigma"] > row["eps_ion_metal"]


@pytest.mark.parametrize("convention", ["ion_metal", "reservoir", "released_metal"])
def test_zero_uncertainty_gives_lo_equal_hi_equal_kcrit(small, convention):
    entry_set, sig = small
    zero = PhaseSigmas(sig.entry_ids, 0 * sig.sigma_v_rel, 0 * sig.sigma_v_a3, 0 * sig.sigma_e_ev, sig.model)
    k0 = PhaseSigmas(sig.entry_ids, sig.sigma_v_rel, sig.sigma_v_a3, sig.sigma_e_ev, UncertaintyModel(coverage_k=0))
    for coating in ("LiNbO3", "Ca2V2O7", "Li3PO4", "Pr5(CBr4)2"):
        for s in (zero, k0):
            rows = evaluate_interface(entry_set, "Li7P3S11", coating, voltages_v=[2.0, 3.0, 4.0], working_ion="Li",
                                      convention=convention, sigmas=s)
            for row in rows:
                assert row["kcrit_lo_gpa"] == row["kcrit_hi_gpa"] == row["kcrit_gpa"]


def test_rows_that_do_not_react_have_no_interval(small):
    entry_set, sig = small
    (row,) = evaluate_interface(entry_set, "Li3PS4", "Li2S", voltages_v=[2.0], working_ion="Li", sigmas=sig)
    assert not row["reacts"] and row["kcrit_determined"] is False
    assert all(math.isnan(row[c]) for c in INTERVAL_COLUMNS if c != "kcrit_determined")


# -- per-phase sigmas ----------------------------------------------------------------------------------------


def test_phase_sigmas_follow_the_evidence(snapshot_set, snapshot_frame, sigmas):
    model = sigmas.model
    frame = snapshot_frame.set_index("entry_id").loc[snapshot_set.entry_ids]
    elements = np.count_nonzero(snapshot_set.comp, axis=1) == 1
    assert np.all(sigmas.sigma_e_ev[elements] == 0) and np.all(sigmas.sigma_e_ev[~elements] > 0)
    floor = model.sigma_v / math.sqrt(2)
    assert sigmas.sigma_v_rel.min() == pytest.approx(floor, rel=1e-9)
    no_evidence = (frame["volume_oqmd_a3"].isna() & ~(frame["volume_spread"] > 0)
                   & (frame["volume_rule"] != "neighbour_estimate")).to_numpy()
    assert np.all(sigmas.sigma_v_rel[no_evidence] == model.sigma_v)
    li3ps4 = snapshot_set.find("Li3PS4")
    d = math.log(frame["volume_per_atom_a3"].iloc[li3ps4] / frame["volume_oqmd_a3"].iloc[li3ps4])
    assert sigmas.sigma_v_rel[li3ps4] == pytest.approx(math.sqrt(model.sigma_v**2 / 2 + d**2 / 4))
    vo2 = snapshot_set.find("VO2")  # 58 polymorphs spread over more than the cap
    assert frame["volume_spread"].iloc[vo2] > POLYMORPH_SPREAD_MAX
    assert sigmas.sigma_v_rel[vo2] >= POLYMORPH_SPREAD_MAX / 2


def test_subset_sigmas_are_the_whole_tables(small, sigmas, snapshot_set):
    entry_set, sub = small
    rows = [snapshot_set.find(e) for e in entry_set.entry_ids[:50]]
    assert np.array_equal(sub.sigma_v_rel[:50], sigmas.sigma_v_rel[rows])
    with pytest.raises(SchemaError, match="no phase uncertainty"):
        PhaseSigmas(entry_set.entry_ids[:3], *(np.zeros(3),) * 3, UncertaintyModel()).for_entry_set(entry_set)


def test_per_element_shifts_do_not_move_the_energy_residual(snapshot_set, snapshot_frame):
    energy_oqmd = snapshot_frame.set_index("entry_id").loc[snapshot_set.entry_ids, "energy_oqmd_ev"].to_numpy()
    base = energy_residual_ev(snapshot_set.comp, snapshot_set.energy_per_atom_ev, energy_oqmd)
    shift = np.random.default_rng(0).normal(0, 0.3, snapshot_set.comp.shape[1])
    shifted = energy_oqmd + snapshot_set.comp @ shift
    moved = energy_residual_ev(snapshot_set.comp, snapshot_set.energy_per_atom_ev, shifted)
    have = np.isfinite(base)
    assert have.sum() > 30000 and np.allclose(base[have], moved[have], atol=1e-9)
    assert 0.003 < np.median(np.abs(base[have])) < 0.01  # a few meV once the shifts are gone, not the raw 0.08 eV


def test_the_model_is_checked_in_one_line():
    for bad in ({"sigma_v": -0.1}, {"coverage_k": "two"}, {"max_ratio": 0.5}, {"energy_model": "dft"},
                {"sigma_volume": 0.02}, {"max_ratio": math.inf}):
        with pytest.raises(ConfigError, match="uncertainty") as err:
            UncertaintyModel.from_config(bad)
        assert "\n" not in str(err.value)


def test_config_files_and_schema_carry_the_package_defaults(repo_root):
    schema = yaml.safe_load((repo_root / "workflow/schemas/config.schema.yaml").read_text())
    props = schema["properties"]["uncertainty"]["properties"]
    default = UncertaintyModel()
    assert {k: v["default"] for k, v in props.items()} == {k: getattr(default, k) for k in props}
    for name in ("config.yaml", "paper.yaml"):
        written = yaml.safe_load((repo_root / "config" / name).read_text())["uncertainty"]
        assert UncertaintyModel.from_config(written) == default


# -- Monte Carlo ---------------------------------------------------------------------------------------------


def test_monte_carlo_with_tiny_sigma_agrees_with_first_order(small):
    entry_set, sig = small
    tiny = PhaseSigmas(sig.entry_ids, 1e-4 * sig.sigma_v_rel, 1e-4 * sig.sigma_v_a3, 1e-4 * sig.sigma_e_ev,
                       sig.model)
    cases = pd.DataFrame({"electrolyte": "Li7P3S11", "coating_id": [entry_set.entry_ids[entry_set.find("LiNbO3")]],
                          "working_ion": "Li", "voltage_v": 4.0})
    base = baseline(entry_set, cases, tiny)
    samples = run_monte_carlo(entry_set, tiny, cases, n_samples=200, seed=3)
    assert (samples["status"] == "ok").all()
    assert all(p == frozenset(["Nb2PS10", "NbPO5", "NbS3", "S8O"]) for p in samples["products"])
    k = base["kcrit_gpa"].iloc[0]
    half = (base["kcrit_hi_gpa"].iloc[0] - base["kcrit_lo_gpa"].iloc[0]) / 2  # first order: one sigma of K
    assert samples["kcrit_gpa"].mean() == pytest.approx(k, abs=0.3 * half)
    assert samples["kcrit_gpa"].std() == pytest.approx(half, rel=0.25)
    table = coverage_table(base, samples, coverage_k=1.0, max_ratio=2.0)
    assert table["share_in_interval"].iloc[-1] == pytest.approx(nominal_share(1.0), abs=0.12)
    assert table["share_products_changed"].iloc[-1] == 0.0


def test_monte_carlo_does_not_depend_on_the_worker_count(small):
    entry_set, sig = small
    cases = pd.DataFrame({"electrolyte": "Li7P3S11", "coating_id": ["hull:Ca2V2O7", "hull:LiNbO3"],
                          "working_ion": "Li", "voltage_v": [4.0, 3.0]})
    cases["coating_id"] = [entry_set.entry_ids[entry_set.find(f)] for f in ("Ca2V2O7", "LiNbO3")]
    one = run_monte_carlo(entry_set, sig, cases, n_samples=4, seed=1, threads=1)
    two = run_monte_carlo(entry_set, sig, cases, n_samples=4, seed=1, threads=2)
    pd.testing.assert_frame_equal(one, two)
    assert one["kcrit_gpa"].nunique() > 4  # the draws differ


def test_design_verification_carries_every_interval(small):
    from constrict.design.physics import Target, verify

    entry_set, sig = small
    for row in verify(entry_set, "Li0.4P0.1S0.4O0.1", Target("Li7P3S11"), [3.0, 4.0], sigmas=sig):
        for side in ("self", "interface", "design"):
            assert row[f"{side}_kcrit_lo_gpa"] <= row[f"{side}_kcrit_gpa"] <= row[f"{side}_kcrit_hi_gpa"]
        chosen = "interface" if row["interface_reacts"] else "self"
        assert row["design_kcrit_hi_gpa"] == row[f"{chosen}_kcrit_hi_gpa"]
        assert row["design_kcrit_determined"] == row[f"{chosen}_kcrit_determined"]


def test_coverage_table_by_hand():
    base = pd.DataFrame({"eps": [0.03, 0.3], "kcrit_lo_gpa": [1.0, 5.0], "kcrit_hi_gpa": [3.0, math.inf],
                         "kcrit_determined": [False, False], "products": ['{"A": 1}', '{"B": 1}'],
                         "sei_products": ['{"R": 1}', '{"R": 1}']})
    samples = pd.DataFrame({"case": [0, 0, 0, 0, 1, 1], "kcrit_gpa": [0.5, 2.0, 2.5, 4.0, 6.0, math.nan],
                            "products": [frozenset("A"), frozenset("A"), frozenset("C"), frozenset("A"),
                                         frozenset("B"), frozenset()],
                            "sei": [frozenset("R")] * 6})
    table = coverage_table(base, samples, coverage_k=1.0, max_ratio=2.0).set_index("strain_bin")
    assert list(table.index) == ["2-5 %", ">20 %", "all"]
    assert table.loc["2-5 %", "share_in_interval"] == 0.5  # 2.0 and 2.5 of 0.5, 2, 2.5, 4
    assert table.loc[">20 %", "share_in_interval"] == 0.5  # 6 inside [5, inf]; no reaction counts outside
    assert table.loc["2-5 %", "share_products_changed"] == 0.25
    assert table.loc["all", "n_samples"] == 6 and table.loc["all", "share_sei_changed"] == 0.0


def test_monte_carlo_sample_takes_one_checkable_row_per_interface():
    from constrict.campaign.mc_stage import sample_cases

    screen = pd.DataFrame({
        "electrolyte": "Li7P3S11", "working_ion": "Li", "coating_id": ["a", "a", "b", "c", "d", "e"],
        "voltage_v": [3.0, 4.0, 4.0, 4.0, 4.0, 4.0], "status": ["ok", "ok", "ok", "ok", "error", "ok"],
        "reacts": [True, True, True, False, False, True], "kcrit_gpa": [5.0, 9.0, math.inf, NAN, NAN, 0.0],
    })
    cases = sample_cases(screen, 10, random_state=0)
    assert sorted(cases["coating_id"]) == ["a", "b"]  # c does not react, d failed, e is stable (Kcrit 0)
    assert cases.equals(sample_cases(screen, 10, random_state=0))
    assert len(sample_cases(screen, 1, random_state=0)) == 1


def test_kcrit_text_says_what_the_data_support():
    from constrict.physics.uncertainty import kcrit_text

    row = {"kcrit_gpa": 9.199, "kcrit_lo_gpa": 8.48, "kcrit_hi_gpa": 10.03, "kcrit_determined": True,
           "convention": "ion_metal", "eps_ion_metal": 0.5, "eps_sigma": 0.037}
    assert kcrit_text(row, 1.0) == "9.20 GPa [8.48, 10.0]"
    assert kcrit_text({**row, "kcrit_lo_gpa": 9.199, "kcrit_hi_gpa": 9.199}, 0.0) == "9.20 GPa [9.20, 9.20]"
    assert kcrit_text({**row, "kcrit_gpa": 0.0, "kcrit_lo_gpa": 0.0, "kcrit_hi_gpa": 0.0}, 1.0) == "0 GPa (stable)"
    undetermined = {**row, "kcrit_gpa": 585.0, "kcrit_lo_gpa": 49.9, "kcrit_hi_gpa": math.inf,
                    "kcrit_determined": False, "eps_ion_metal": 0.0026, "eps_sigma": 0.027}
    assert kcrit_text(undetermined, 1.0) == "not determined (strain 0.26 % ± 2.7 %) [49.9, inf] GPa"
    assert kcrit_text({**row, "kcrit_gpa": NAN}, 1.0) == "-"
